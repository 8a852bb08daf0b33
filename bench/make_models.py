#!/usr/bin/python3
"""Writes the benchmark workloads W1..W5 for bench/compare.sh, all from one PyTorch model per workload:

  <out>/<W>/model.safetensors  weights for lstm4j (keys lstm.weight_ih_l0, ...)
  <out>/<W>/model.onnx         torch.onnx.export of the same model (not W5: ONNX's LSTM has no projection)
  <out>/<W>/model.pt           TorchScript (torch.jit.trace) of the same model, for DJL
  <out>/<W>/input.npy          (B, T, I) float32
  <out>/<W>/output.npy, h_n.npy, c_n.npy   PyTorch's float32 results, for the agreement check
  <out>/<W>/workload.json      sizes, seed, torch version

Forward workloads take x (B, T, I) and start from zero state; the streaming workload W2 takes
(x (1, 1, I), h (1, 1, H), c (1, 1, H)) and returns (y, h, c), and its input.npy holds 16 steps.
Run with Debian's python3-torch and python3-onnx: /usr/bin/python3 bench/make_models.py --out DIR
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools", "pytorch"))
from safetensors_io import write_safetensors  # noqa: E402

# name: I, H, L, bidirectional, proj, T, B, stream
WORKLOADS = {
    "W1": dict(label="seed", I=2, H=3, L=1, bidir=False, proj=0, T=3, B=1, stream=False),
    "W2": dict(label="stream", I=32, H=128, L=1, bidir=False, proj=0, T=16, B=1, stream=True),
    "W3": dict(label="sequence", I=64, H=256, L=2, bidir=False, proj=0, T=100, B=1, stream=False),
    "W4": dict(label="throughput", I=128, H=512, L=1, bidir=False, proj=0, T=100, B=64, stream=False),
    "W5": dict(label="bidir-proj", I=80, H=256, L=3, bidir=True, proj=128, T=200, B=8, stream=False),
    # the large sizes of issue 12, where ONNX Runtime won: weights beyond the caches, and batch 8 at 2 threads
    "L1": dict(label="h2048-b1", I=64, H=2048, L=1, bidir=False, proj=0, T=50, B=1, stream=False),
    "L2": dict(label="h1024-b64", I=64, H=1024, L=1, bidir=False, proj=0, T=50, B=64, stream=False),
    "L3": dict(label="h2048-b64", I=64, H=2048, L=1, bidir=False, proj=0, T=25, B=64, stream=False),
    "L4": dict(label="h512-b8", I=64, H=512, L=1, bidir=False, proj=0, T=100, B=8, stream=False),
    "L5": dict(label="h1024-b8", I=64, H=1024, L=1, bidir=False, proj=0, T=100, B=8, stream=False),
}


class Forward(nn.Module):
    """x -> (output, h_n, c_n) from zero state."""

    def __init__(self, lstm):
        super().__init__()
        self.lstm = lstm

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        return y, h, c


class Step(nn.Module):
    """One streaming step: (x, h, c) -> (y, h, c)."""

    def __init__(self, lstm):
        super().__init__()
        self.lstm = lstm

    def forward(self, x, h, c):
        y, (h2, c2) = self.lstm(x, (h, c))
        return y, h2, c2


def make(name, w, out, seed):
    torch.manual_seed(seed)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    lstm = nn.LSTM(w["I"], w["H"], num_layers=w["L"], bidirectional=w["bidir"], proj_size=w["proj"], batch_first=True)
    lstm.eval()
    x = torch.randn(w["B"], w["T"], w["I"])
    hh = w["proj"] or w["H"]
    with torch.no_grad():
        y, (h, c) = lstm(x)
    write_safetensors(os.path.join(d, "model.safetensors"), {"lstm." + k: v for k, v in lstm.state_dict().items()}, "F32",
                      metadata={"generator": "bench/make_models.py", "torch_version": torch.__version__, "seed": str(seed)})
    np.save(os.path.join(d, "input.npy"), x.numpy())
    np.save(os.path.join(d, "output.npy"), y.numpy())
    np.save(os.path.join(d, "h_n.npy"), h.numpy())
    np.save(os.path.join(d, "c_n.npy"), c.numpy())
    if w["stream"]:
        module = Step(lstm).eval()
        ex = (x[:, :1, :].contiguous(), torch.zeros(1, 1, hh), torch.zeros(1, 1, w["H"]))
        names = (["x", "h", "c"], ["y", "h_out", "c_out"])
    else:
        module = Forward(lstm).eval()
        ex = (x,)
        names = (["x"], ["y", "h_n", "c_n"])
    with torch.no_grad():
        torch.jit.trace(module, ex).save(os.path.join(d, "model.pt"))
        if not w["proj"]:
            torch.onnx.export(module, ex, os.path.join(d, "model.onnx"), input_names=names[0], output_names=names[1],
                              opset_version=14)
    meta = dict(w, name=name, seed=seed, torch_version=torch.__version__, generator="bench/make_models.py",
                onnx=not w["proj"])
    with open(os.path.join(d, "workload.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"{name} ({w['label']}): {d}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    for i, (name, w) in enumerate(WORKLOADS.items()):
        make(name, w, args.out, 500 + i)


if __name__ == "__main__":
    main()
