#!/usr/bin/python3
"""What the fixture scripts and the live check record of one nn.LSTM run, built one way for all of them."""
import collections


def keyed_state_dict(prefix, model, head_prefix=None, head=None):
    """The model's state dict under `prefix`, then the head's under `head_prefix`, in PyTorch's order."""
    tensors = collections.OrderedDict((prefix + k, v) for k, v in model.state_dict().items())
    if head is not None:
        tensors.update((head_prefix + k, v) for k, v in head.state_dict().items())
    return tensors


def recorded_arrays(x, h0, c0, out, hn, cn, y, lengths=None):
    """input (and lengths), h0 and c0 when given, then PyTorch's output, h_n, c_n and the head's output when there is one."""
    arrays = collections.OrderedDict(input=x)
    if lengths is not None:
        arrays["lengths"] = lengths
    if h0 is not None:
        arrays["h0"] = h0
        arrays["c0"] = c0
    arrays["output"] = out
    arrays["h_n"] = hn
    arrays["c_n"] = cn
    if y is not None:
        arrays["head"] = y
    return arrays
