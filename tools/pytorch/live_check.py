#!/usr/bin/python3
"""Live differential check: random nn.LSTM configurations, PyTorch vs the lstm4j CLI.

    /usr/bin/python3 tools/pytorch/live_check.py [--n 25] [--seed S] [--cli PATH] [--only K ...] [--keep]

For each configuration: build the model in PyTorch, save model.safetensors and
the input (input.npy, or input.csv for a single unbatched sequence) in a temp
dir, run

    <cli> run --weights model.safetensors --input input.npy|input.csv --out OUTDIR
          [--seq-first] [--h0 h0.npy --c0 c0.npy] [--prefix P] [--lengths L,...]

then compare OUTDIR/{output,h_n,c_n,head}.npy with PyTorch elementwise:
float32 |d| <= 1e-5*max(1,|expected|), float64 |d| <= 1e-10*max(1,|expected|),
NaN must match NaN, shapes must match exactly.

After the LSTM configurations, --pipelines N (default 12) random whole models
(live_pipelines.py: optional nn.Embedding, a readout among all/last/last-valid/
hn/mean/max, 0-4 head layers among Linear, LayerNorm, BatchNorm1d and the
activations) are saved with torch.save, run with `run --model SPEC`, converted
with `convert --model SPEC` and run again with no flags; y, output, h_n, c_n
are compared as above.

Then (unless --no-convert) the conversion check of convert_check.py: the
same state dict saved by torch.save (plain, checkpoint, views) or np.savez,
converted by `<cli> convert`, read back by safetensors_io.read_safetensors and
compared exactly.

Without --seed a fresh seed is drawn and printed first. Configuration K of a
given seed is the same whatever --n/--only are. Temp dirs of failing
configurations are kept (path printed); --keep keeps all.

Exit status: 0 all passed, 1 any failure (including a non-zero CLI exit), 2 usage error.
Needs Debian's python3-torch (use /usr/bin/python3).
"""
import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import write_safetensors  # noqa: E402
from convert_check import check_convert  # noqa: E402
from lstm_records import keyed_state_dict  # noqa: E402
import live_pipelines  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_CLI = os.path.join(REPO, "bin", "lstm4j")
PREFIXES = ["lstm.", "rnn.", "model.encoder.lstm."]
HEAD_PREFIX = "fc."
TOL = {"float32": 1e-5, "float64": 1e-10}


def draw_config(rng):
    """Draw one configuration from `rng` (a random.Random). Always consumes the same draws."""
    c = {}
    c["I"] = rng.randint(1, 12)
    c["H"] = rng.randint(1, 16)
    c["L"] = rng.randint(1, 3)
    c["bidir"] = rng.random() < 0.5
    want_proj = rng.random() < 0.35
    proj_pick = rng.randint(1, 15)
    c["proj"] = (1 + (proj_pick - 1) % (c["H"] - 1)) if (want_proj and c["H"] >= 2) else 0
    c["bias"] = rng.random() < 0.8
    c["dtype"] = "float64" if rng.random() < 0.35 else "float32"
    c["B"] = rng.randint(1, 4)
    c["T"] = rng.randint(1, 10)
    c["layout"] = rng.choice(["batch_first", "seq_first", "unbatched"])
    c["csv"] = rng.random() < 0.2
    c["csv_header"] = rng.random() < 0.5
    if c["csv"]:
        c["layout"] = "unbatched"
    c["state"] = rng.random() < 0.4
    c["head"] = rng.random() < 0.5
    c["head_out"] = rng.randint(1, 3)
    c["prefix"] = rng.choice(PREFIXES)
    c["pass_prefix"] = rng.random() < 0.3
    c["input_scale"] = rng.choice([1.0, 1.0, 1.0, 0.1, 3.0])
    c["torch_seed"] = rng.getrandbits(62)
    # sequences of different lengths (packed in PyTorch, --lengths for lstm4j), for batched layouts
    want_lengths = rng.random() < 0.35
    lengths = [rng.randint(1, c["T"]) for _ in range(c["B"])]
    c["lengths"] = lengths if want_lengths and c["layout"] != "unbatched" else None
    return c


def summary(c):
    d = 2 if c["bidir"] else 1
    parts = [
        "I=%d H=%d L=%d D=%d" % (c["I"], c["H"], c["L"], d),
        "proj=%d" % c["proj"] if c["proj"] else "noproj",
        "bias" if c["bias"] else "nobias",
        "f64" if c["dtype"] == "float64" else "f32",
        ("csv" + ("+hdr" if c["csv_header"] else "")) if c["csv"] else c["layout"],
        "T=%d" % c["T"] + ("" if c["layout"] == "unbatched" else " B=%d" % c["B"]),
        "h0" if c["state"] else "zero-state",
        "head" if c["head"] else "nohead",
        c["prefix"] + ("(given)" if c["pass_prefix"] else "(inferred)"),
    ]
    if c["lengths"]:
        parts.append("lengths=" + ",".join(str(n) for n in c["lengths"]))
    return " ".join(parts)


def build_expected(c):
    torch.manual_seed(c["torch_seed"] % (2 ** 63))
    dt = torch.float64 if c["dtype"] == "float64" else torch.float32
    d = 2 if c["bidir"] else 1
    hh = c["proj"] if c["proj"] else c["H"]
    lstm = nn.LSTM(c["I"], c["H"], num_layers=c["L"], bias=c["bias"],
                   batch_first=(c["layout"] == "batch_first"),
                   bidirectional=c["bidir"], proj_size=c["proj"])
    head = nn.Linear(d * hh, c["head_out"]) if c["head"] else None
    if dt == torch.float64:
        # full-precision float64 values, not float32 values widened
        lstm.double()
        for p in lstm.parameters():
            nn.init.uniform_(p, -1 / math.sqrt(c["H"]), 1 / math.sqrt(c["H"]))
        if head is not None:
            head.double()
            for p in head.parameters():
                nn.init.uniform_(p, -1 / math.sqrt(d * hh), 1 / math.sqrt(d * hh))
    if c["layout"] == "batch_first":
        shape = (c["B"], c["T"], c["I"])
    elif c["layout"] == "seq_first":
        shape = (c["T"], c["B"], c["I"])
    else:
        shape = (c["T"], c["I"])
    x = torch.randn(shape, dtype=dt) * c["input_scale"]
    h0 = c0 = None
    if c["state"]:
        if c["layout"] == "unbatched":
            hs, cs = (c["L"] * d, hh), (c["L"] * d, c["H"])
        else:
            hs, cs = (c["L"] * d, c["B"], hh), (c["L"] * d, c["B"], c["H"])
        h0 = torch.randn(hs, dtype=dt)
        c0 = torch.randn(cs, dtype=dt)
    with torch.no_grad():
        inp = x
        if c["lengths"]:
            inp = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(c["lengths"]), batch_first=(c["layout"] == "batch_first"),
                                                    enforce_sorted=False)
        if c["state"]:
            out, (hn, cn) = lstm(inp, (h0, c0))
        else:
            out, (hn, cn) = lstm(inp)
        if c["lengths"]:
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=(c["layout"] == "batch_first"), total_length=c["T"])
        y = head(out) if head is not None else None
    tensors = keyed_state_dict(c["prefix"], lstm, HEAD_PREFIX, head)
    expected = {"output": out.numpy(), "h_n": hn.numpy(), "c_n": cn.numpy()}
    if y is not None:
        expected["head"] = y.numpy()
    return tensors, x, h0, c0, expected


def fmt(v, dtype):
    if dtype == "float64":
        return repr(float(v))
    return str(np.float32(v))  # shortest repr that round-trips to this float32


def write_inputs(c, work, tensors, x, h0, c0):
    st = "F64" if c["dtype"] == "float64" else "F32"
    write_safetensors(os.path.join(work, "model.safetensors"), tensors, st,
                      metadata={"torch_version": torch.__version__, "torch_seed": str(c["torch_seed"]),
                                "generator": "tools/pytorch/live_check.py"})
    xa = x.numpy()
    if c["csv"]:
        path = os.path.join(work, "input.csv")
        with open(path, "w") as f:
            if c["csv_header"]:
                f.write(",".join("x%d" % i for i in range(c["I"])) + "\n")
            for row in xa:
                f.write(",".join(fmt(v, c["dtype"]) for v in row) + "\n")
    else:
        path = os.path.join(work, "input.npy")
        np.save(path, xa)
    files = {"input": path}
    if c["state"]:
        files["h0"] = os.path.join(work, "h0.npy")
        files["c0"] = os.path.join(work, "c0.npy")
        np.save(files["h0"], h0.numpy())
        np.save(files["c0"], c0.numpy())
    return files


def compare(name, got, exp, tol):
    """Return (ok, max_abs_diff, message)."""
    if got.shape != exp.shape:
        return False, float("nan"), "%s: shape %s, expected %s" % (name, got.shape, exp.shape)
    g = got.astype(np.float64)
    e = exp.astype(np.float64)
    gn, en = np.isnan(g), np.isnan(e)
    if not np.array_equal(gn, en):
        return False, float("nan"), "%s: NaN positions differ (got %d NaN, expected %d)" % (
            name, int(gn.sum()), int(en.sum()))
    mask = ~en
    if not mask.any():
        return True, 0.0, ""
    with np.errstate(invalid="ignore"):
        diff = np.abs(g[mask] - e[mask])
    # inf == inf counts as equal
    same = g[mask] == e[mask]
    diff = np.where(same, 0.0, diff)
    diff = np.where(np.isnan(diff), np.inf, diff)
    limit = tol * np.maximum(1.0, np.abs(e[mask]))
    maxdiff = float(diff.max()) if diff.size else 0.0
    bad = diff > limit
    if bad.any():
        idx = np.argwhere(mask)[np.argmax(diff - limit)]
        return False, maxdiff, "%s: max |d| %.3g at %s (got %r, expected %r)" % (
            name, maxdiff, tuple(int(i) for i in idx), float(g[tuple(idx)]), float(e[tuple(idx)]))
    return True, maxdiff, ""


def run_one(k, c, cli, root, timeout, verbose, convert=True):
    work = os.path.join(root, "config%03d" % k)
    os.makedirs(work)
    tensors, x, h0, c0, expected = build_expected(c)
    files = write_inputs(c, work, tensors, x, h0, c0)
    outdir = os.path.join(work, "out")
    cmd = [cli, "run", "--weights", os.path.join(work, "model.safetensors"),
           "--input", files["input"], "--out", outdir]
    if c["layout"] == "seq_first":
        cmd.append("--seq-first")
    if c["state"]:
        cmd += ["--h0", files["h0"], "--c0", files["c0"]]
    if c["pass_prefix"]:
        cmd += ["--prefix", c["prefix"]]
    if c["lengths"]:
        cmd += ["--lengths", ",".join(str(n) for n in c["lengths"])]
    with open(os.path.join(work, "command.txt"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, float("nan"), ["CLI timed out after %ss" % timeout], work
    except OSError as e:
        return False, float("nan"), ["cannot run CLI: %s" % e], work
    elapsed = time.time() - t0
    msgs = []
    if p.returncode != 0:
        tail = (p.stderr or p.stdout or "").strip().splitlines()[-5:]
        return False, float("nan"), ["CLI exited %d: %s" % (p.returncode, " | ".join(tail))], work
    if verbose:
        msgs.append("(%.2fs)" % elapsed)
    ok = True
    maxdiff = 0.0
    tol = TOL[c["dtype"]]
    for name, exp in expected.items():
        path = os.path.join(outdir, name + ".npy")
        if not os.path.exists(path):
            ok = False
            msgs.append("%s.npy missing" % name)
            continue
        try:
            got = np.load(path)
        except Exception as e:  # noqa: BLE001
            ok = False
            msgs.append("%s.npy unreadable: %s" % (name, e))
            continue
        if c["dtype"] == "float64" and got.dtype != np.float64:
            msgs.append("note: %s.npy is %s for a float64 model" % (name, got.dtype))
        good, md, msg = compare(name, got, exp, tol)
        if not math.isnan(md):
            maxdiff = max(maxdiff, md)
        if not good:
            ok = False
            msgs.append(msg)
    if not c["head"] and os.path.exists(os.path.join(outdir, "head.npy")):
        ok = False
        msgs.append("unexpected head.npy for a model without a head")
    if convert:
        good, cmsgs = check_convert(dict(c, verbose=verbose), work, tensors, cli, timeout)
        ok = ok and good
        msgs.extend(cmsgs)
    return ok, maxdiff, msgs, work


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=25, help="number of configurations (default 25)")
    ap.add_argument("--seed", type=int, default=None, help="seed; drawn from os.urandom and printed if absent")
    ap.add_argument("--cli", default=DEFAULT_CLI, help="lstm4j launcher (default <repo>/bin/lstm4j)")
    ap.add_argument("--only", type=int, nargs="+", default=None, metavar="K",
                    help="run only configuration(s) K (0-based) of this seed")
    ap.add_argument("--keep", action="store_true", help="keep all temp dirs, not just failing ones")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per CLI run")
    ap.add_argument("--no-convert", action="store_true",
                    help="skip the conversion check (torch.save/.npz -> lstm4j convert -> safetensors, compared exactly)")
    ap.add_argument("--pipelines", type=int, default=12,
                    help="random whole models (embedding, readout, head layers; live_pipelines.py) after the LSTMs (default 12)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    seed = args.seed
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little")
        print("live check seed: %d (re-run with --seed %d)" % (seed, seed), flush=True)
    else:
        print("live check seed: %d" % seed, flush=True)

    cli = os.path.abspath(args.cli)
    if not (os.path.isfile(cli) and os.access(cli, os.X_OK)):
        print("error: CLI %s not found or not executable (build it first)" % cli, file=sys.stderr)
        sys.exit(2)

    torch.set_num_threads(1)
    rng = random.Random(seed)
    n = args.n
    if args.only:
        n = max(n, max(args.only) + 1)
    configs = [draw_config(rng) for _ in range(n)]
    indices = args.only if args.only else list(range(args.n))

    root = tempfile.mkdtemp(prefix="lstm4j-live-")
    passed = failed = 0
    for k in indices:
        c = configs[k]
        ok, maxdiff, msgs, work = run_one(k, c, cli, root, args.timeout, args.verbose, convert=not args.no_convert)
        status = "OK" if ok else "FAIL"
        print("[%3d] %-95s max|d|=%-9.3g %s" % (k, summary(c), maxdiff, status), flush=True)
        for m in msgs:
            print("      " + m, flush=True)
        if ok:
            passed += 1
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        else:
            failed += 1
            print("      kept: %s (command in command.txt)" % work, flush=True)
    # whole models, from their own random stream so the configurations above stay as they were
    prng = random.Random(seed ^ 0x5EED)
    for k in range(args.pipelines):
        pc = live_pipelines.draw(prng)
        if args.only:
            continue
        ok, maxdiff, msgs, work = live_pipelines.run_one(k, pc, cli, root, args.timeout, compare, lambda d: TOL[d])
        print("[p%2d] %-95s max|d|=%-9.3g %s" % (k, live_pipelines.summary(pc), maxdiff, "OK" if ok else "FAIL"), flush=True)
        for m in msgs:
            print("      " + m, flush=True)
        if ok:
            passed += 1
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        else:
            failed += 1
            print("      kept: %s (commands in command.txt)" % work, flush=True)
    if failed == 0 and not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
