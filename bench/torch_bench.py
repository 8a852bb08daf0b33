#!/usr/bin/python3
"""Times Debian's PyTorch on the workloads of bench/make_models.py, one JSON line per workload, and the
machine's sgemm rate (numpy on the same BLAS). Same weights (model.safetensors), same inputs, float32,
torch.inference_mode(). Method, like JMH's average time: 1 s warm-up, then 5 samples of >= 0.5 s each;
the median sample's time per call is reported.

Threads: OPENBLAS_NUM_THREADS must be set by the caller (bench/compare.sh) before Python starts, since
OpenBLAS reads it at load time. The matrix products, where the time goes, run on OpenBLAS's threads;
torch's own intra-op pool is pinned to 1 thread so the two pools do not put four busy threads on two
cores (see the issue's "Known pitfalls").

  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/torch_bench.py --models bench/target/models --threads 2
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools", "pytorch"))
from safetensors_io import read_safetensors  # noqa: E402


def timed(fn, warmup=1.0, samples=5, sample_time=0.5):
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        fn()
    per_call = []
    for _ in range(samples):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            el = time.perf_counter() - t0
            if el >= sample_time:
                break
        per_call.append(el / n)
    return statistics.median(per_call) * 1e6, min(per_call) * 1e6, max(per_call) * 1e6


def load(d):
    with open(os.path.join(d, "workload.json")) as f:
        w = json.load(f)
    lstm = nn.LSTM(w["I"], w["H"], num_layers=w["L"], bidirectional=w["bidir"], proj_size=w["proj"], batch_first=True)
    tensors = read_safetensors(os.path.join(d, "model.safetensors"))[0]
    lstm.load_state_dict({k[len("lstm."):]: v.to(torch.float32) for k, v in tensors.items()})
    lstm.eval()
    x = torch.from_numpy(np.load(os.path.join(d, "input.npy")))
    return w, lstm, x


def sgemm(n=2048):
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    med, _, _ = timed(lambda: a @ b, warmup=0.5, samples=5, sample_time=0.3)
    return 2.0 * n ** 3 / (med * 1e-6) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    ap.add_argument("--threads", type=int, required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    blas = os.environ.get("OPENBLAS_NUM_THREADS")
    if blas != str(args.threads):
        sys.exit("set OPENBLAS_NUM_THREADS=%d before starting Python (found %s)" % (args.threads, blas))
    print(json.dumps(dict(engine="sgemm", threads=args.threads, gflops=sgemm(), n=2048,
                          blas="openblas0-pthread via numpy")), flush=True)
    for name in sorted(os.listdir(args.models)):
        d = os.path.join(args.models, name)
        w, lstm, x = load(d)
        with torch.inference_mode():
            if w["stream"]:
                hh = w["proj"] or w["H"]
                steps = [x[:, t:t + 1, :].contiguous() for t in range(16)]
                state = [torch.zeros(1, 1, hh), torch.zeros(1, 1, w["H"]), 0]

                def step():
                    y, (h, c) = lstm(steps[state[2]], (state[0], state[1]))
                    state[0], state[1], state[2] = h, c, (state[2] + 1) & 15
                    return y.numpy()
                fn = step
            else:
                def fn():
                    return lstm(x)[0].numpy()
            med, lo, hi = timed(fn)
        print(json.dumps(dict(engine="pytorch-debian", workload=name, threads=args.threads, us=med, us_min=lo, us_max=hi,
                              torch=torch.__version__)), flush=True)


if __name__ == "__main__":
    main()
