#!/usr/bin/python3
"""Conversion check: a state dict saved by PyTorch (torch.save or np.savez), converted by
`lstm4j convert`, must read back (with safetensors_io.read_safetensors, no lstm4j
code involved) as exactly the same tensors: same names in the same order, same
dtype, same shape, bit-identical values.

Called by live_check.py for every configuration (disable with --no-convert);
`variant()` picks how the weights are saved, from the configuration's seed:

    state_dict       torch.save(state_dict)
    checkpoint       torch.save({"model": sd, "optimizer": ..., "epoch": 3}), found without --key
    checkpoint_key   torch.save({"model": sd, "ema": copy}) with --key model
    views            torch.save of non-contiguous views and views at storage offsets
    npz              np.savez(path, **{k: v.numpy()})
    npz_compressed   np.savez_compressed(...)

Needs Debian's python3-torch (use /usr/bin/python3).
"""
import collections
import os
import random
import subprocess

import numpy as np
import torch

from safetensors_io import read_safetensors

VARIANTS = ["state_dict", "checkpoint", "checkpoint_key", "views", "npz", "npz_compressed"]
ST_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16"}


def variant(torch_seed):
    """The save variant for a configuration, drawn from its own seed (the configuration's draws are untouched)."""
    return random.Random(torch_seed ^ 0x5EED).choice(VARIANTS)


def as_views(tensors):
    """The same values held by non-contiguous views or views at a storage offset."""
    out = collections.OrderedDict()
    for k, v in tensors.items():
        if v.dim() == 2:
            out[k] = v.t().contiguous().t()  # strides (1, rows)
        else:
            holder = torch.zeros(v.numel() * 2 + 1, dtype=v.dtype)
            holder[1::2] = v.reshape(-1)
            out[k] = holder[1::2].view(v.shape)  # offset 1, stride 2
        assert torch.equal(out[k], v)
    return out


def save(kind, tensors, work):
    """Save `tensors` as `kind`; return (path, key or None)."""
    if kind.startswith("npz"):
        path = os.path.join(work, "weights.npz")
        arrays = collections.OrderedDict((k, v.detach().numpy()) for k, v in tensors.items())
        (np.savez_compressed if kind == "npz_compressed" else np.savez)(path, **arrays)
        return path, None
    path = os.path.join(work, "weights.pt")
    sd = collections.OrderedDict((k, v.detach()) for k, v in tensors.items())
    key = None
    if kind == "state_dict":
        obj = sd
    elif kind == "views":
        obj = as_views(sd)
    elif kind == "checkpoint":
        obj = {"epoch": 3, "model": sd, "loss": 0.5,
               "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "params": list(range(len(sd)))}]}}
    else:
        obj = {"model": sd, "ema": collections.OrderedDict((k, v.clone()) for k, v in sd.items())}
        key = "model"
    torch.save(obj, path)
    return path, key


def check_convert(c, work, tensors, cli, timeout):
    """Save, convert with the CLI, read back and compare. Returns (ok, messages)."""
    kind = variant(c["torch_seed"])
    src, key = save(kind, tensors, work)
    out = os.path.join(work, "converted.safetensors")
    cmd = [cli, "convert", "--weights", src, "--out", out] + (["--key", key] if key else [])
    with open(os.path.join(work, "convert_command.txt"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, ["convert (%s) timed out after %ss" % (kind, timeout)]
    if p.returncode != 0:
        tail = (p.stderr or p.stdout or "").strip().splitlines()[-3:]
        return False, ["convert (%s) exited %d: %s" % (kind, p.returncode, " | ".join(tail))]
    got, dtypes, meta = read_safetensors(out)
    msgs = []
    if list(got.keys()) != list(tensors.keys()):
        msgs.append("convert (%s): names %s, expected %s" % (kind, list(got.keys()), list(tensors.keys())))
    for k, v in tensors.items():
        if k not in got:
            continue
        want = ST_NAMES[v.dtype]
        if dtypes[k] != want:
            msgs.append("convert (%s): %s written as %s, expected %s" % (kind, k, dtypes[k], want))
        elif tuple(got[k].shape) != tuple(v.shape):
            msgs.append("convert (%s): %s shape %s, expected %s" % (kind, k, tuple(got[k].shape), tuple(v.shape)))
        elif not torch.equal(got[k].to(v.dtype), v.detach()):
            msgs.append("convert (%s): %s values differ" % (kind, k))
    if (meta or {}).get("format") != "pt":
        msgs.append("convert (%s): metadata %s lacks format=pt" % (kind, meta))
    return not msgs, msgs or (["convert (%s): %d tensors identical" % (kind, len(tensors))] if c.get("verbose") else [])
