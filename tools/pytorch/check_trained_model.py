#!/usr/bin/python3
"""Checks that a model written by `lstm4j train` is a PyTorch model: it loads with load_state_dict(strict=True) into

    class Model(nn.Module):
        lstm = nn.LSTM(I, H, num_layers=L, bidirectional=..., proj_size=P, batch_first=True)
        fc = nn.Linear(D*Hh, O)

(architecture read from the tensor shapes) and gives the same forward as `lstm4j run` on the same input.

    /usr/bin/python3 tools/pytorch/check_trained_model.py --weights model.safetensors --input window.csv --head results/head.npy

--input is a CSV (T, I) (one sequence, as `lstm4j run` reads it; a header row is skipped) or a .npy (B, T, I);
--head is the head.npy that `lstm4j run --input ... --out results/` wrote. Exits 1 on a mismatch beyond float32's
tolerance (1e-5 relative to max(1, |value|); 1e-10 for float64).
"""
import argparse
import os
import re
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors  # noqa: E402


def build(sd):
    layers = 1 + max(int(m.group(1)) for m in (re.match(r"lstm\.weight_ih_l(\d+)", k) for k in sd) if m)
    bidir = "lstm.weight_ih_l0_reverse" in sd
    four_h, inp = sd["lstm.weight_ih_l0"].shape
    hidden = four_h // 4
    proj = sd["lstm.weight_hr_l0"].shape[0] if "lstm.weight_hr_l0" in sd else 0
    bias = "lstm.bias_ih_l0" in sd
    out_features = sd["fc.weight"].shape[0]
    m = nn.Module()
    m.lstm = nn.LSTM(inp, hidden, num_layers=layers, bidirectional=bidir, proj_size=proj, bias=bias, batch_first=True)
    m.fc = nn.Linear(sd["fc.weight"].shape[1], out_features)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--head", required=True)
    a = ap.parse_args()
    sd, dtypes, meta = read_safetensors(a.weights)
    m = build(sd)
    dtype = torch.float64 if set(dtypes.values()) == {"F64"} else torch.float32
    m = m.to(dtype)
    m.load_state_dict(sd, strict=True)  # raises on a missing or unexpected key, or a wrong shape
    if a.input.endswith(".npy"):
        x = torch.from_numpy(np.load(a.input)).to(dtype)
    else:
        rows = [line for line in open(a.input) if line.strip()]
        try:
            [float(v) for v in rows[0].split(",")]
        except ValueError:
            rows = rows[1:]
        x = torch.tensor([[float(v) for v in r.split(",")] for r in rows], dtype=dtype).unsqueeze(0)
    with torch.no_grad():
        out, _ = m.lstm(x)
        y = m.fc(out)
    ours = torch.from_numpy(np.load(a.head)).to(dtype)
    y = y.reshape(ours.shape)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    diff = ((y - ours).abs() / ours.abs().clamp(min=1)).max().item()
    print("torch %s: load_state_dict(strict=True) ok; %s; head %s, max relative |diff| vs lstm4j run %.3g (tolerance %g)"
          % (torch.__version__, meta.get("model") if meta else "", tuple(ours.shape), diff, tol))
    if not diff <= tol:
        print("MISMATCH", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
