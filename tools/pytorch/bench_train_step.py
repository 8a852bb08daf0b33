#!/usr/bin/python3
"""The PyTorch side of the training-step comparison (bench/train_compare.sh, bench/.../TrainStepMain.java and
TrainStepBench.java): one step of forward, MSE on the head's last step, backward and Adam at I=64, H=256, T=100,
B=32, float32, batch_first, 1 or more layers.

    /usr/bin/python3 tools/pytorch/bench_train_step.py [--threads 1] [--layers 1] [--warmup 3] [--repeats 10]

Prints the median and minimum wall-clock milliseconds per step after the warm-up steps, and the median CPU time of the
process (all its threads; a loaded machine inflates it less than the wall clock).
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--layers", type=int, default=1)
ap.add_argument("--warmup", type=int, default=3)
ap.add_argument("--repeats", type=int, default=10)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)
I, H, T, B = 64, 256, 100, 32
lstm = nn.LSTM(I, H, num_layers=a.layers, batch_first=True)
fc = nn.Linear(H, 1)
opt = torch.optim.Adam(list(lstm.parameters()) + list(fc.parameters()), lr=1e-3)
x = torch.randn(B, T, I)
y = torch.randn(B, 1)


def step():
    opt.zero_grad()
    out, _ = lstm(x)
    loss = nn.functional.mse_loss(fc(out)[:, -1, :], y)
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(a.warmup):
    step()
times, cpu = [], []
for _ in range(a.repeats):
    t0, c0 = time.perf_counter(), time.process_time()
    step()
    times.append((time.perf_counter() - t0) * 1000)
    cpu.append((time.process_time() - c0) * 1000)
print("torch %s, %d thread(s), %d layer(s): I=%d H=%d T=%d B=%d training step median %.1f ms (min %.1f), CPU time median %.1f ms,"
      " over %d steps after %d" % (torch.__version__, a.threads, a.layers, I, H, T, B, statistics.median(times), min(times),
                                   statistics.median(cpu), a.repeats, a.warmup))
