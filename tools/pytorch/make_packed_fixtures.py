#!/usr/bin/python3
"""Generate lstm4j's variable-length (packed sequence) fixtures from real PyTorch.

Run from anywhere (paths are computed from this file's location):

    /usr/bin/python3 tools/pytorch/make_packed_fixtures.py [--out DIR]

Default: <repo>/core/src/test/resources/packed-fixtures/, wiped and rewritten.
Each case runs

    packed = pack_padded_sequence(x, lengths, batch_first=..., enforce_sorted=False)
    out, (h_n, c_n) = lstm(packed, (h0, c0))        # or lstm(packed)
    output, _ = pad_packed_sequence(out, batch_first=..., total_length=T)

so `output` keeps the input's T steps, padded with 0. h0/c0 and h_n/c_n are in
the input's batch order (PyTorch sorts and unsorts them itself). Output is
deterministic (fixed seed per case). Needs Debian's python3-torch.
"""
import argparse
import collections
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import write_safetensors  # noqa: E402
from lstm_records import keyed_state_dict, recorded_arrays  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "core", "src", "test", "resources", "packed-fixtures")
GENERATOR = "tools/pytorch/make_packed_fixtures.py"
FORMAT_VERSION = 1


def case(name, seed, lengths, **kw):
    c = dict(name=name, seed=seed, lengths=list(lengths), dtype="float32", I=5, H=7, L=1, bidir=False, proj=0,
             layout="batch_first", state=False, prefix="lstm.", head_prefix=None, head_out=2, T=None, description="")
    for k in kw:
        if k not in c:
            raise KeyError(k)
    c.update(kw)
    if c["T"] is None:
        c["T"] = max(c["lengths"])
    return c


CASES = [
    case("packed_basic", 201, [6, 2, 4, 1],
         description="1 layer, batch-first, unsorted lengths"),
    case("packed_bidir", 202, [3, 6, 1, 5], bidir=True,
         description="bidirectional: the reverse direction starts at each row's last valid step"),
    case("packed_layers2_bidir_proj_state", 203, [7, 3, 5, 1, 6], L=2, bidir=True, proj=3, state=True,
         head_prefix="fc.", description="2 layers, bidirectional, proj_size=3, h0/c0, Linear head on the padded output"),
    case("packed_seq_first_state", 204, [2, 5, 5], L=2, layout="seq_first", state=True,
         description="seq-first (T, B, I), 2 layers, h0/c0"),
    case("packed_short_max", 205, [4, 2, 3], T=6, bidir=True,
         description="longest length 4 < T = 6: output padded to T with total_length"),
    case("packed_f64", 206, [5, 1, 3], dtype="float64", L=2, bidir=True, proj=2, state=True,
         description="float64 (full-precision values), 2 layers, bidirectional, proj_size=2, h0/c0"),
    case("packed_single", 207, [3], L=3, state=True,
         description="B = 1, 3 layers, h0/c0, length shorter than T", T=5),
]


def build_and_run(c):
    torch.manual_seed(c["seed"])
    cdt = torch.float64 if c["dtype"] == "float64" else torch.float32
    d = 2 if c["bidir"] else 1
    hh = c["proj"] if c["proj"] > 0 else c["H"]
    B, T = len(c["lengths"]), c["T"]
    bf = c["layout"] == "batch_first"
    model = nn.LSTM(c["I"], c["H"], num_layers=c["L"], batch_first=bf, bidirectional=c["bidir"], proj_size=c["proj"])
    head = nn.Linear(d * hh, c["head_out"]) if c["head_prefix"] else None
    if cdt == torch.float64:
        for m in [model] + ([head] if head is not None else []):
            m.double()
            k = 1.0 / math.sqrt(c["H"])
            for p in m.parameters():
                nn.init.uniform_(p, -k, k)
    x = torch.randn((B, T, c["I"]) if bf else (T, B, c["I"]), dtype=cdt)
    # padding holds garbage, not zeros, so a reader that looks at it is caught
    for b, n in enumerate(c["lengths"]):
        if bf:
            x[b, n:] = 1e3
        else:
            x[n:, b] = 1e3
    h0 = c0 = None
    if c["state"]:
        h0 = torch.randn((c["L"] * d, B, hh), dtype=cdt)
        c0 = torch.randn((c["L"] * d, B, c["H"]), dtype=cdt)
    lengths = torch.tensor(c["lengths"], dtype=torch.int64)
    with torch.no_grad():
        packed = pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=False)
        out, (hn, cn) = model(packed, (h0, c0)) if c["state"] else model(packed)
        out, out_lengths = pad_packed_sequence(out, batch_first=bf, total_length=T)
        assert out_lengths.tolist() == c["lengths"]
        y = head(out) if head is not None else None
    check_against_unpacked(c, model, x, h0, c0, out, hn, cn)

    tensors = keyed_state_dict(c["prefix"], model, c["head_prefix"], head)
    return tensors, recorded_arrays(x, h0, c0, out, hn, cn, y, lengths=lengths)


def check_against_unpacked(c, model, x, h0, c0, out, hn, cn):
    """PyTorch's own cross-check of the semantics: each row alone, cut to its length, unpacked."""
    bf = c["layout"] == "batch_first"
    for b, n in enumerate(c["lengths"]):
        xb = x[b:b + 1, :n] if bf else x[:n, b:b + 1]
        with torch.no_grad():
            if c["state"]:
                ob, (hb, cb) = model(xb, (h0[:, b:b + 1].contiguous(), c0[:, b:b + 1].contiguous()))
            else:
                ob, (hb, cb) = model(xb)
        got = out[b:b + 1, :n] if bf else out[:n, b:b + 1]
        pad = out[b, n:] if bf else out[n:, b]
        atol = 1e-12 if x.dtype == torch.float64 else 1e-6
        assert torch.allclose(got, ob, rtol=0, atol=atol), (c["name"], b, "output")
        assert torch.allclose(hn[:, b:b + 1], hb, rtol=0, atol=atol), (c["name"], b, "h_n")
        assert torch.allclose(cn[:, b:b + 1], cb, rtol=0, atol=atol), (c["name"], b, "c_n")
        assert bool((pad == 0).all()), (c["name"], b, "padding")


def case_json(c):
    d = collections.OrderedDict()
    d["format_version"] = FORMAT_VERSION
    d["name"] = c["name"]
    d["description"] = c["description"]
    d["torch_version"] = torch.__version__
    d["seed"] = c["seed"]
    d["dtype"] = c["dtype"]
    d["input_size"] = c["I"]
    d["hidden_size"] = c["H"]
    d["num_layers"] = c["L"]
    d["bidirectional"] = c["bidir"]
    d["proj_size"] = c["proj"]
    d["layout"] = c["layout"]
    d["initial_state"] = c["state"]
    d["prefix"] = c["prefix"]
    d["head_prefix"] = c["head_prefix"]
    d["batch"] = len(c["lengths"])
    d["steps"] = c["T"]
    d["lengths"] = c["lengths"]
    return d


def write_case(c, outdir):
    tensors, arrays = build_and_run(c)
    os.makedirs(outdir)
    meta = collections.OrderedDict(torch_version=torch.__version__, seed=str(c["seed"]), generator=GENERATOR, case=c["name"])
    write_safetensors(os.path.join(outdir, "model.safetensors"), tensors, "F64" if c["dtype"] == "float64" else "F32",
                      metadata=meta)
    for k, v in arrays.items():
        np.save(os.path.join(outdir, k + ".npy"), np.ascontiguousarray(v.detach().cpu().numpy()))
    with open(os.path.join(outdir, "case.json"), "w") as f:
        json.dump(case_json(c), f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixtures directory (wiped and rewritten)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # deterministic reduction order
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names) and len({c["seed"] for c in CASES}) == len(CASES)
    if os.path.exists(args.out):
        if os.listdir(args.out) and not os.path.exists(os.path.join(args.out, "manifest.json")):
            sys.exit("refusing to wipe %s: it exists, is not empty and has no manifest.json" % args.out)
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    for c in CASES:
        write_case(c, os.path.join(args.out, c["name"]))
        print("wrote", c["name"], "lengths", c["lengths"], "T", c["T"])
    manifest = collections.OrderedDict(format_version=FORMAT_VERSION, torch_version=torch.__version__, generator=GENERATOR,
                                       cases=names)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
