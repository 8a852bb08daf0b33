#!/usr/bin/python3
"""Random whole models for the live check: [embedding] > LSTM > readout > head layers, built as an nn.Module,
saved with torch.save, run by `lstm4j run --model SPEC` and by a file converted with `lstm4j convert --model SPEC`
(run with no flags), and compared with PyTorch's model(x) and the LSTM's output, h_n, c_n.

Used by live_check.py (--pipelines N); configuration K of a seed is the same whatever N is.
Needs Debian's python3-torch (use /usr/bin/python3).
"""
import os
import random
import subprocess

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

READOUTS = ["all", "last", "last-valid", "hn", "mean", "max"]
ACTS = {"relu": nn.ReLU, "gelu": nn.GELU, "gelu-tanh": lambda: nn.GELU(approximate="tanh"), "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid, "softmax": lambda: nn.Softmax(dim=-1), "logsoftmax": lambda: nn.LogSoftmax(dim=-1),
        "dropout": lambda: nn.Dropout(0.5)}


def draw(rng):
    """One random whole model."""
    c = {"seed": rng.randrange(1 << 30), "dtype": rng.choice(["float32", "float32", "float64"])}
    c["vocab"] = rng.randint(3, 30) if rng.random() < 0.4 else 0
    c["I"] = rng.randint(1, 8)
    c["H"] = rng.randint(1, 10)
    c["layers"] = rng.randint(1, 2)
    c["bidir"] = rng.random() < 0.4
    c["proj"] = rng.randint(1, c["H"] - 1) if c["H"] > 1 and rng.random() < 0.25 else 0
    c["B"] = rng.randint(1, 4)
    c["T"] = rng.randint(1, 7)
    c["readout"] = rng.choice(READOUTS)
    packed = c["readout"] in ("last-valid", "mean", "max") or rng.random() < 0.3
    c["lengths"] = [rng.randint(1, c["T"]) for _ in range(c["B"])] if packed else None
    if c["lengths"]:
        c["lengths"][rng.randrange(c["B"])] = c["T"]
    c["sequential"] = rng.random() < 0.5
    head = []
    for _ in range(rng.randint(0, 4)):
        kind = rng.choice(["linear", "linear", "act", "ln", "bn"])
        if kind == "bn" and c["readout"] == "all":
            kind = "linear"
        head.append(kind if kind != "act" else rng.choice(list(ACTS)))
    c["head"] = head
    return c


class Pipeline(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        if c["vocab"]:
            self.emb = nn.Embedding(c["vocab"], c["I"], padding_idx=0)
        self.lstm = nn.LSTM(c["I"], c["H"], num_layers=c["layers"], bidirectional=c["bidir"], proj_size=c["proj"],
                            batch_first=True)
        f = (2 if c["bidir"] else 1) * (c["proj"] or c["H"])
        mods, self.tokens = [], []
        rng = random.Random(c["seed"])
        for i, kind in enumerate(c["head"]):
            if kind == "linear":
                o = rng.randint(1, 6)
                m = nn.Linear(f, o, bias=rng.random() < 0.8)
                f = o
            elif kind == "ln":
                m = nn.LayerNorm(f)
            elif kind == "bn":
                m = nn.BatchNorm1d(f)
            else:
                m = ACTS[kind]()
            mods.append(m)
        with torch.no_grad():
            for m in mods:
                if isinstance(m, (nn.LayerNorm, nn.BatchNorm1d)):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
                if isinstance(m, nn.BatchNorm1d):
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.3, 2.0)
        if c["sequential"]:
            self.head = nn.Sequential(*mods)
            names = ["head.%d" % i for i in range(len(mods))]
        else:
            names = []
            for i, m in enumerate(mods):
                setattr(self, "l%d" % i, m)
                names.append("l%d" % i)
        self.mods = mods
        for kind, name in zip(c["head"], names):
            self.tokens.append(name if kind in ("linear", "ln", "bn") else kind)

    def spec(self):
        t = (["emb"] if self.c["vocab"] else []) + ["lstm", self.c["readout"]] + self.tokens
        return " > ".join(t)

    def forward(self, x, lengths):
        T = x.shape[1]
        z = self.emb(x) if self.c["vocab"] else x
        if lengths is not None:
            out, (h, cc) = self.lstm(pack_padded_sequence(z, lengths, batch_first=True, enforce_sorted=False))
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
            lens = lengths
        else:
            out, (h, cc) = self.lstm(z)
            lens = torch.full((x.shape[0],), T, dtype=torch.int64)
        r = self.c["readout"]
        if r == "all":
            y = out
        elif r == "last":
            y = out[:, -1]
        elif r == "last-valid":
            y = out[torch.arange(x.shape[0]), lens - 1]
        elif r == "hn":
            y = torch.cat((h[-2], h[-1]), 1) if self.c["bidir"] else h[-1]
        elif r == "mean":
            y = out.sum(1) / lens.unsqueeze(1).to(out.dtype)
        else:
            pad = torch.arange(T)[None, :] >= lens[:, None]
            y = out.masked_fill(pad[:, :, None], float("-inf")).max(1).values
        for m in self.mods:
            y = m(y)
        return y, out, h, cc


def summary(c):
    return "%s%s L=%d%s%s %s B=%d T=%d%s [%s]" % (
        "emb(%d)+" % c["vocab"] if c["vocab"] else "", "I=%d H=%d" % (c["I"], c["H"]), c["layers"],
        " bi" if c["bidir"] else "", " proj=%d" % c["proj"] if c["proj"] else "", c["dtype"], c["B"], c["T"],
        " lengths=%s" % c["lengths"] if c["lengths"] else "", c["readout"] + ("/" + ",".join(c["head"]) if c["head"] else ""))


def run_one(k, c, cli, root, timeout, compare, tol_of):
    """(ok, maxdiff, messages, workdir)"""
    work = os.path.join(root, "pipeline%03d" % k)
    os.makedirs(work)
    torch.manual_seed(c["seed"])
    m = Pipeline(c)
    if c["dtype"] == "float64":
        m = m.double()
    m.eval()
    g = torch.Generator().manual_seed(c["seed"] + 1)
    if c["vocab"]:
        x = torch.randint(0, c["vocab"], (c["B"], c["T"]), generator=g)
    else:
        x = torch.randn(c["B"], c["T"], c["I"], generator=g).to(torch.float64 if c["dtype"] == "float64" else torch.float32)
    lengths = torch.tensor(c["lengths"], dtype=torch.int64) if c["lengths"] else None
    with torch.no_grad():
        y, out, h, cc = m(x, lengths)
    # PyTorch's own float32 error: the same weights and input in float64
    y64 = None
    if c["dtype"] == "float32":
        import copy
        m64 = copy.deepcopy(m).double()
        with torch.no_grad():
            y64 = m64(x if c["vocab"] else x.double(), lengths)[0].numpy()
    pt = os.path.join(work, "model.pt")
    torch.save(m.state_dict(), pt)
    np.save(os.path.join(work, "input.npy"), x.numpy())
    spec = m.spec()
    expected = {"y": y.numpy(), "output": out.numpy(), "h_n": h.numpy(), "c_n": cc.numpy()}
    st = os.path.join(work, "model.safetensors")
    runs = [
        ("run --model", [cli, "run", "--weights", pt, "--model", spec], True),
        ("convert --model", [cli, "convert", "--weights", pt, "--model", spec, "--out", st], False),
        ("run converted", [cli, "run", "--weights", st], True),
    ]
    ok, maxdiff, msgs = True, 0.0, []
    for i, (label, cmd, compares) in enumerate(runs):
        if compares:
            outdir = os.path.join(work, "out%d" % i)
            cmd = cmd + ["--input", os.path.join(work, "input.npy"), "--out", outdir]
            if c["lengths"]:
                cmd += ["--lengths", ",".join(str(n) for n in c["lengths"])]
        with open(os.path.join(work, "command.txt"), "a") as f:
            f.write(" ".join("'%s'" % a if " " in a else a for a in cmd) + "\n")
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, float("nan"), ["%s: timed out" % label], work
        if p.returncode != 0:
            tail = (p.stderr or p.stdout or "").strip().splitlines()[-3:]
            return False, float("nan"), ["%s: CLI exited %d: %s" % (label, p.returncode, " | ".join(tail))], work
        if not compares:
            continue
        for name, exp in expected.items():
            got = np.load(os.path.join(outdir, name + ".npy"))
            good, md, msg = compare(name, got, exp, tol_of(c["dtype"]))
            if not good and name == "y" and y64 is not None:
                # an ill-conditioned head (e.g. a LayerNorm over nearly equal values) amplifies float32 rounding: then
                # lstm4j must be as close to the float64 result as PyTorch's float32 is, elementwise (or within 1e-5)
                own = np.abs(exp.astype(np.float64) - y64)
                ours = np.abs(got.astype(np.float64) - y64)
                limit = np.maximum(2 * own, 1e-5 * np.maximum(1.0, np.abs(y64)))
                if got.shape == exp.shape and bool(np.all(ours <= limit)):
                    good = True
                    msgs.append("%s: y differs from PyTorch float32 by %.3g, but PyTorch float32 itself is %.3g from float64"
                                " and lstm4j %.3g: ill-conditioned, accepted" % (label, md, float(own.max()), float(ours.max())))
            if md == md:
                maxdiff = max(maxdiff, md)
            if not good:
                ok = False
                msgs.append("%s: %s" % (label, msg))
    return ok, maxdiff, msgs, work
