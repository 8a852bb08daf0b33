#!/usr/bin/python3
"""Generate lstm4j's test fixtures from real PyTorch.

Run from anywhere (paths are computed from this file's location):

    /usr/bin/python3 tools/pytorch/make_fixtures.py [--out DIR] [--demo-out DIR]

Defaults: fixtures -> <repo>/core/src/test/resources/fixtures/,
demo -> <repo>/cli/src/main/resources/demo/. Both directories are wiped and
rewritten on each run. Output is deterministic (fixed seed per case).

Needs Debian's python3-torch (use /usr/bin/python3, not a pyenv python).
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402
from lstm_records import keyed_state_dict, recorded_arrays  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "core", "src", "test", "resources", "fixtures")
DEFAULT_DEMO = os.path.join(REPO, "cli", "src", "main", "resources", "demo")
GENERATOR = "tools/pytorch/make_fixtures.py"
FORMAT_VERSION = 1

TORCH_DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}
ST_DTYPES = {"float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16"}


def case(name, seed, **kw):
    c = dict(
        name=name, seed=seed, kind="lstm", dtype="float32",
        I=5, H=7, L=1, bidir=False, proj=0, bias=True,
        layout="batch_first", state=False, prefix="lstm.", head_prefix=None, head_out=2,
        B=3, T=6, input_scale=1.0, state_scale=(1.0, 1.0), nan_at=None,
        reorder_data=False, description="",
    )
    for k in kw:
        if k not in c:
            raise KeyError(k)
    c.update(kw)
    return c


CASES = [
    case("basic_f32", 101, head_prefix="fc.",
         description="1 layer, batch-first, Linear head"),
    case("seq_first", 102, layout="seq_first",
         description="input (T, B, I)"),
    case("unbatched", 103, layout="unbatched",
         description="2-D input (T, I)"),
    case("unbatched_state", 104, layout="unbatched", state=True, L=2,
         description="2-D input with 2-D h0/c0 (L*D, H)"),
    case("layers3", 105, L=3,
         description="3 stacked layers"),
    case("bidir", 106, bidir=True,
         description="bidirectional, 1 layer"),
    case("bidir_layers2_proj", 107, bidir=True, L=2, proj=4, state=True, head_prefix="fc.",
         description="bidirectional, 2 layers, proj_size=4, initial state, head"),
    case("proj", 108, proj=3,
         description="proj_size=3, one direction"),
    case("no_bias", 109, bias=False,
         description="bias=False (no bias_ih/bias_hh keys)"),
    case("initial_state", 110, L=2, state=True,
         description="2 layers with h0/c0"),
    case("f64", 111, dtype="float64", bidir=True, L=2, head_prefix="fc.",
         description="float64 weights (full-precision values), bidirectional, 2 layers, head"),
    case("f16", 112, dtype="float16",
         description="weights stored as F16; expected computed in float32 with the rounded weights"),
    case("bf16", 113, dtype="bfloat16",
         description="weights stored as BF16; expected computed in float32 with the rounded weights"),
    case("lstmcell", 114, kind="lstmcell", prefix="cell.",
         description="nn.LSTMCell looped over steps; output (B, T, H), h_n/c_n (1, B, H)"),
    case("prefix_rnn", 115, prefix="rnn.", head_prefix="fc.", reorder_data=True,
         description="prefix rnn.; safetensors data packed in reverse header order, __metadata__ first"),
    case("prefix_encoder", 116, prefix="encoder.lstm.", head_prefix="decoder.", L=2,
         description="prefix encoder.lstm., head prefix decoder."),
    case("saturated", 117, input_scale=1e4, L=2,
         description="inputs x1e4: gates saturate to 0/1"),
    case("large_state", 118, state=True, state_scale=(1.0, 1e4), input_scale=10.0,
         description="c0 x1e4: large-magnitude c_n (relative tolerance check)"),
    case("nan_input", 119, nan_at=(1, 2, 3),
         description="one NaN in the input (batch 1, step 2, feature 3)"),
    case("long_seq", 120, T=60, H=16, B=2,
         description="T=60, H=16: error accumulation"),
    case("seq_first_bidir_proj_state", 121, layout="seq_first", bidir=True, L=2, proj=2, state=True,
         I=4, H=5, head_prefix="fc.",
         description="seq-first, bidirectional, 2 layers, proj_size=2, initial state, head"),
    case("unbatched_bidir_proj", 122, layout="unbatched", bidir=True, proj=3, state=True,
         description="2-D input, bidirectional, proj_size=3, 2-D initial state"),
]


def input_shape(c):
    if c["layout"] == "batch_first":
        return (c["B"], c["T"], c["I"])
    if c["layout"] == "seq_first":
        return (c["T"], c["B"], c["I"])
    return (c["T"], c["I"])


def state_shapes(c):
    d = 2 if c["bidir"] else 1
    hh = c["proj"] if c["proj"] > 0 else c["H"]
    if c["layout"] == "unbatched":
        return (c["L"] * d, hh), (c["L"] * d, c["H"])
    return (c["L"] * d, c["B"], hh), (c["L"] * d, c["B"], c["H"])


def reinit_f64(module, hidden):
    """Give float64 params full-precision values (not float32 values widened)."""
    k = 1.0 / math.sqrt(hidden)
    for p in module.parameters():
        nn.init.uniform_(p, -k, k)


def build_and_run(c):
    """Build the model with the case's seed; return (tensors dict, arrays dict)."""
    torch.manual_seed(c["seed"])
    dt = c["dtype"]
    compute_dtype = torch.float64 if dt == "float64" else torch.float32
    d = 2 if c["bidir"] else 1
    hh = c["proj"] if c["proj"] > 0 else c["H"]

    if c["kind"] == "lstmcell":
        model = nn.LSTMCell(c["I"], c["H"], bias=c["bias"])
    else:
        model = nn.LSTM(c["I"], c["H"], num_layers=c["L"], bias=c["bias"],
                        batch_first=(c["layout"] == "batch_first"),
                        bidirectional=c["bidir"], proj_size=c["proj"])
    head = nn.Linear(d * hh, c["head_out"]) if c["head_prefix"] else None

    if dt == "float64":
        model.double()
        reinit_f64(model, c["H"])
        if head is not None:
            head.double()
            reinit_f64(head, d * hh)
    elif dt in ("float16", "bfloat16"):
        lowp = TORCH_DTYPES[dt]
        for m in [model] + ([head] if head is not None else []):
            for p in m.parameters():
                p.data = p.data.to(lowp).float()

    x = torch.randn(input_shape(c), dtype=compute_dtype) * c["input_scale"]
    if c["nan_at"] is not None:
        x[c["nan_at"]] = float("nan")
    h0 = c0 = None
    if c["state"]:
        hs, cs = state_shapes(c)
        h0 = torch.randn(hs, dtype=compute_dtype) * c["state_scale"][0]
        c0 = torch.randn(cs, dtype=compute_dtype) * c["state_scale"][1]

    with torch.no_grad():
        if c["kind"] == "lstmcell":
            assert c["layout"] == "batch_first" and not c["state"]
            h = torch.zeros(c["B"], c["H"], dtype=compute_dtype)
            cc = torch.zeros(c["B"], c["H"], dtype=compute_dtype)
            hs_ = []
            for t in range(c["T"]):
                h, cc = model(x[:, t], (h, cc))
                hs_.append(h)
            out = torch.stack(hs_, dim=1)
            hn = h.unsqueeze(0)
            cn = cc.unsqueeze(0)
        elif c["state"]:
            out, (hn, cn) = model(x, (h0, c0))
        else:
            out, (hn, cn) = model(x)
        y = head(out) if head is not None else None

    tensors = keyed_state_dict(c["prefix"], model, c["head_prefix"], head)
    return model, head, tensors, recorded_arrays(x, h0, c0, out, hn, cn, y)


def case_json(c):
    return collections.OrderedDict([
        ("format_version", FORMAT_VERSION),
        ("name", c["name"]),
        ("description", c["description"]),
        ("torch_version", torch.__version__),
        ("seed", c["seed"]),
        ("kind", c["kind"]),
        ("dtype", c["dtype"]),
        ("input_size", c["I"]),
        ("hidden_size", c["H"]),
        ("num_layers", c["L"]),
        ("bidirectional", c["bidir"]),
        ("proj_size", c["proj"]),
        ("bias", c["bias"]),
        ("layout", c["layout"]),
        ("initial_state", c["state"]),
        ("prefix", c["prefix"]),
        ("head_prefix", c["head_prefix"]),
        ("batch", 1 if c["layout"] == "unbatched" else c["B"]),
        ("steps", c["T"]),
    ])


def write_case(c, outdir):
    model, head, tensors, arrays = build_and_run(c)
    os.makedirs(outdir, exist_ok=True)
    names = list(tensors.keys())
    meta = collections.OrderedDict([
        ("torch_version", torch.__version__),
        ("seed", str(c["seed"])),
        ("generator", GENERATOR),
        ("case", c["name"]),
    ])
    write_safetensors(os.path.join(outdir, "model.safetensors"), tensors, ST_DTYPES[c["dtype"]],
                      metadata=meta,
                      data_order=list(reversed(names)) if c["reorder_data"] else None,
                      metadata_first=c["reorder_data"])
    npdt = np.float64 if c["dtype"] == "float64" else np.float32
    for k, v in arrays.items():
        a = v.detach().cpu().numpy()
        assert a.dtype == npdt, (c["name"], k, a.dtype)
        np.save(os.path.join(outdir, k + ".npy"), np.ascontiguousarray(a))
    with open(os.path.join(outdir, "case.json"), "w") as f:
        json.dump(case_json(c), f, indent=2)
        f.write("\n")
    verify_case(c, outdir)


def verify_case(c, outdir):
    """Re-load the files just written and recompute with a fresh model: checks the writer."""
    tensors, dtypes, meta = read_safetensors(os.path.join(outdir, "model.safetensors"))
    assert set(dtypes.values()) == {ST_DTYPES[c["dtype"]]}, dtypes
    assert meta["seed"] == str(c["seed"])
    cdt = torch.float64 if c["dtype"] == "float64" else torch.float32
    d = 2 if c["bidir"] else 1
    hh = c["proj"] if c["proj"] > 0 else c["H"]
    if c["kind"] == "lstmcell":
        model = nn.LSTMCell(c["I"], c["H"], bias=c["bias"])
    else:
        model = nn.LSTM(c["I"], c["H"], num_layers=c["L"], bias=c["bias"],
                        batch_first=(c["layout"] == "batch_first"),
                        bidirectional=c["bidir"], proj_size=c["proj"])
    model.to(cdt)
    p = c["prefix"]
    model.load_state_dict({k[len(p):]: v.to(cdt) for k, v in tensors.items() if k.startswith(p)})
    head = None
    if c["head_prefix"]:
        hp = c["head_prefix"]
        head = nn.Linear(d * hh, c["head_out"]).to(cdt)
        head.load_state_dict({k[len(hp):]: v.to(cdt) for k, v in tensors.items() if k.startswith(hp)})
    ld = {n: torch.from_numpy(np.load(os.path.join(outdir, n + ".npy")))
          for n in ["input", "h0", "c0", "output", "h_n", "c_n", "head"]
          if os.path.exists(os.path.join(outdir, n + ".npy"))}
    with torch.no_grad():
        if c["kind"] == "lstmcell":
            x = ld["input"]
            h = torch.zeros(c["B"], c["H"], dtype=cdt)
            cc = torch.zeros(c["B"], c["H"], dtype=cdt)
            hs = []
            for t in range(c["T"]):
                h, cc = model(x[:, t], (h, cc))
                hs.append(h)
            out, hn, cn = torch.stack(hs, 1), h.unsqueeze(0), cc.unsqueeze(0)
        elif "h0" in ld:
            out, (hn, cn) = model(ld["input"], (ld["h0"], ld["c0"]))
        else:
            out, (hn, cn) = model(ld["input"])
    for name, got in [("output", out), ("h_n", hn), ("c_n", cn)] + (
            [("head", head(out))] if head is not None else []):
        exp = ld[name]
        assert tuple(got.shape) == tuple(exp.shape), (c["name"], name, got.shape, exp.shape)
        assert torch.equal(torch.isnan(got), torch.isnan(exp)), (c["name"], name)
        assert torch.allclose(got, exp, rtol=0, atol=0, equal_nan=True), (c["name"], name)


def write_demo(outdir):
    """The seed article's example: seed 5, LSTM(2, 3, batch_first=True), Linear(3, 1)."""
    torch.manual_seed(5)
    lstm = nn.LSTM(2, 3, batch_first=True)
    fc = nn.Linear(3, 1)
    x = torch.tensor([[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]], dtype=torch.float32)
    with torch.no_grad():
        out, (hn, cn) = lstm(x)
        y = fc(out)
    tensors = keyed_state_dict("lstm.", lstm, "fc.", fc)
    wipe(outdir, marker="case.json")
    os.makedirs(outdir)
    write_safetensors(os.path.join(outdir, "model.safetensors"), tensors, "F32",
                      metadata={"torch_version": torch.__version__, "seed": "5",
                                "generator": GENERATOR, "case": "demo"})
    for k, v in [("input", x), ("output", out), ("h_n", hn), ("c_n", cn), ("head", y)]:
        np.save(os.path.join(outdir, k + ".npy"), v.numpy())
    c = case("demo", 5, I=2, H=3, B=1, T=3, head_prefix="fc.", head_out=1,
             description="the seed article's example: torch.manual_seed(5); nn.LSTM(2, 3, batch_first=True); "
                         "nn.Linear(3, 1); input [[1,1],[2,2],[3,3]]")
    with open(os.path.join(outdir, "case.json"), "w") as f:
        json.dump(case_json(c), f, indent=2)
        f.write("\n")
    verify_case(c, outdir)
    return y


def wipe(d, marker):
    """Remove a previously generated directory; refuse to delete anything that doesn't look like ours."""
    if not os.path.exists(d):
        return
    if os.listdir(d) and not os.path.exists(os.path.join(d, marker)):
        sys.exit("refusing to wipe %s: it exists, is not empty and has no %s" % (d, marker))
    shutil.rmtree(d)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixtures directory (wiped and rewritten)")
    ap.add_argument("--demo-out", default=DEFAULT_DEMO, help="demo resource directory (wiped and rewritten)")
    args = ap.parse_args()

    torch.set_num_threads(1)  # deterministic reduction order
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names)
    assert len({c["seed"] for c in CASES}) == len(CASES)

    wipe(args.out, marker="manifest.json")
    os.makedirs(args.out)
    for c in CASES:
        write_case(c, os.path.join(args.out, c["name"]))
        print("wrote", c["name"])
    manifest = collections.OrderedDict([
        ("format_version", FORMAT_VERSION),
        ("torch_version", torch.__version__),
        ("generator", GENERATOR),
        ("cases", names),
    ])
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")

    y = write_demo(args.demo_out)
    print("wrote demo:", args.demo_out, "head =", y.reshape(-1).tolist())


if __name__ == "__main__":
    main()
