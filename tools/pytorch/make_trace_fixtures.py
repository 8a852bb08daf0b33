#!/usr/bin/python3
"""Generate lstm4j's gate-trace fixtures: every stage of the cell, computed by PyTorch.

Run from anywhere (paths are computed from this file's location):

    /usr/bin/python3 tools/pytorch/make_trace_fixtures.py [--out DIR]

Default: <repo>/core/src/test/resources/trace-fixtures/, wiped and rewritten.

nn.LSTM does not expose its gates, so each case runs the cell equations with
torch ops on the model's own parameters, in PyTorch's grouping
(z = (W_ih x + b_ih) + (W_hh h + b_hh), rows i, f, g, o), and first checks that
this gives nn.LSTM's output, h_n and c_n. It then saves every stage as
<name>.npy of shape (L*D, B, T, size) in input time order; steps past a row's
length (variable-length cases) are NaN, since they are never computed.
Names: h_prev c_prev i_pre i f_pre f g_pre g o_pre o f_c_prev i_g c tanh_c h
[h_proj]. Needs Debian's python3-torch.
"""
import argparse
import collections
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import write_safetensors  # noqa: E402
from lstm_records import keyed_state_dict  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "core", "src", "test", "resources", "trace-fixtures")
GENERATOR = "tools/pytorch/make_trace_fixtures.py"
FORMAT_VERSION = 1

CASES = [
    dict(name="demo", seed=5, I=2, H=3, L=1, bidir=False, proj=0, B=1, T=3, state=False, lengths=None,
         description="the seed article's example: torch.manual_seed(5); nn.LSTM(2, 3, batch_first=True); "
                     "input [[1,1],[2,2],[3,3]]"),
    dict(name="bidir_layers2_proj_packed", seed=301, I=4, H=5, L=2, bidir=True, proj=3, B=3, T=5, state=True,
         lengths=[5, 2, 4], description="2 layers, bidirectional, proj_size=3, h0/c0, lengths [5, 2, 4]"),
]

STAGES = ["h_prev", "c_prev", "i_pre", "i", "f_pre", "f", "g_pre", "g", "o_pre", "o", "f_c_prev", "i_g", "c", "tanh_c", "h"]


def params(model, layer, d):
    sfx = "_l%d%s" % (layer, "_reverse" if d == 1 else "")
    g = lambda n: getattr(model, n + sfx, None)  # noqa: E731
    return g("weight_ih"), g("weight_hh"), g("bias_ih"), g("bias_hh"), g("weight_hr")


def run_case(c):
    torch.manual_seed(c["seed"])
    model = nn.LSTM(c["I"], c["H"], num_layers=c["L"], batch_first=True, bidirectional=c["bidir"], proj_size=c["proj"])
    D = 2 if c["bidir"] else 1
    hh = c["proj"] or c["H"]
    B, T = c["B"], c["T"]
    if c["name"] == "demo":
        x = torch.tensor([[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]])
    else:
        x = torch.randn(B, T, c["I"])
    lengths = c["lengths"] or [T] * B
    h0 = torch.randn(c["L"] * D, B, hh) if c["state"] else torch.zeros(c["L"] * D, B, hh)
    c0 = torch.randn(c["L"] * D, B, c["H"]) if c["state"] else torch.zeros(c["L"] * D, B, c["H"])
    with torch.no_grad():
        if c["lengths"]:
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
            out, (hn, cn) = model(packed, (h0, c0)) if c["state"] else model(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
        else:
            out, (hn, cn) = model(x, (h0, c0)) if c["state"] else model(x)

    stages = {s: torch.full((c["L"] * D, B, T, hh if s in ("h_prev",) else c["H"]), float("nan")) for s in STAGES}
    if c["proj"]:
        stages["h_proj"] = torch.full((c["L"] * D, B, T, hh), float("nan"))
    my_hn = torch.zeros_like(hn)
    my_cn = torch.zeros_like(cn)
    layer_in = x
    with torch.no_grad():
        for layer in range(c["L"]):
            layer_out = torch.zeros(B, T, D * hh)
            for d in range(D):
                w_ih, w_hh, b_ih, b_hh, w_hr = params(model, layer, d)
                ld = layer * D + d
                for b in range(B):
                    h, cc = h0[ld, b], c0[ld, b]
                    n = lengths[b]
                    for k in range(n):
                        t = k if d == 0 else n - 1 - k
                        z = F.linear(layer_in[b, t], w_ih, b_ih) + F.linear(h, w_hh, b_hh)
                        zi, zf, zg, zo = z.chunk(4)
                        i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
                        kept, written = f * cc, i * g
                        c_new = kept + written
                        tc = torch.tanh(c_new)
                        hid = o * tc
                        h_new = F.linear(hid, w_hr) if w_hr is not None else hid
                        vals = dict(h_prev=h, c_prev=cc, i_pre=zi, i=i, f_pre=zf, f=f, g_pre=zg, g=g, o_pre=zo, o=o,
                                    f_c_prev=kept, i_g=written, c=c_new, tanh_c=tc, h=hid)
                        if w_hr is not None:
                            vals["h_proj"] = h_new
                        for s, v in vals.items():
                            stages[s][ld, b, t] = v
                        h, cc = h_new, c_new
                        layer_out[b, t, d * hh:(d + 1) * hh] = h
                    my_hn[ld, b], my_cn[ld, b] = h, cc
            layer_in = layer_out
    # the equations above are nn.LSTM: same output, h_n and c_n
    for name, mine, theirs in [("output", layer_in, out), ("h_n", my_hn, hn), ("c_n", my_cn, cn)]:
        assert torch.allclose(mine, theirs, rtol=0, atol=2e-6), (c["name"], name, (mine - theirs).abs().max())
    tensors = keyed_state_dict("lstm.", model)
    arrays = collections.OrderedDict(input=x)
    if c["state"]:
        arrays["h0"], arrays["c0"] = h0, c0
    if c["lengths"]:
        arrays["lengths"] = torch.tensor(lengths, dtype=torch.int64)
    arrays.update(output=out, h_n=hn, c_n=cn)
    arrays.update(stages)
    return tensors, arrays


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixtures directory (wiped and rewritten)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if os.path.exists(args.out):
        if os.listdir(args.out) and not os.path.exists(os.path.join(args.out, "manifest.json")):
            sys.exit("refusing to wipe %s: it exists, is not empty and has no manifest.json" % args.out)
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    for c in CASES:
        tensors, arrays = run_case(c)
        d = os.path.join(args.out, c["name"])
        os.makedirs(d)
        write_safetensors(os.path.join(d, "model.safetensors"), tensors, "F32",
                          metadata=collections.OrderedDict(torch_version=torch.__version__, seed=str(c["seed"]),
                                                           generator=GENERATOR, case=c["name"]))
        for k, v in arrays.items():
            np.save(os.path.join(d, k + ".npy"), np.ascontiguousarray(v.numpy()))
        info = collections.OrderedDict(format_version=FORMAT_VERSION, name=c["name"], description=c["description"],
                                       torch_version=torch.__version__, seed=c["seed"], input_size=c["I"], hidden_size=c["H"],
                                       num_layers=c["L"], bidirectional=c["bidir"], proj_size=c["proj"], layout="batch_first",
                                       initial_state=c["state"], batch=c["B"], steps=c["T"], lengths=c["lengths"],
                                       stages=STAGES + (["h_proj"] if c["proj"] else []))
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump(info, f, indent=2)
            f.write("\n")
        print("wrote", c["name"])
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(collections.OrderedDict(format_version=FORMAT_VERSION, torch_version=torch.__version__, generator=GENERATOR,
                                          cases=[c["name"] for c in CASES]), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
