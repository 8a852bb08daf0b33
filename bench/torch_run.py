#!/usr/bin/python3
"""What `lstm4j run` does, in Debian's PyTorch, for bench/coldstart.sh: load a workload's model.safetensors into
nn.LSTM, run it once on input.npy, write output.npy, h_n.npy and c_n.npy to OUT. One cold process per call.

  /usr/bin/python3 bench/torch_run.py bench/target/models/W3 /tmp/out
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools", "pytorch"))
from safetensors_io import read_safetensors  # noqa: E402


def main():
    d, out = sys.argv[1], sys.argv[2]
    with open(os.path.join(d, "workload.json")) as f:
        w = json.load(f)
    lstm = nn.LSTM(w["I"], w["H"], num_layers=w["L"], bidirectional=w["bidir"], proj_size=w["proj"], batch_first=True)
    tensors = read_safetensors(os.path.join(d, "model.safetensors"))[0]
    lstm.load_state_dict({k[len("lstm."):]: v.to(torch.float32) for k, v in tensors.items()})
    lstm.eval()
    x = torch.from_numpy(np.load(os.path.join(d, "input.npy")))
    with torch.inference_mode():
        y, (h, c) = lstm(x)
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "output.npy"), y.numpy())
    np.save(os.path.join(out, "h_n.npy"), h.numpy())
    np.save(os.path.join(out, "c_n.npy"), c.numpy())


if __name__ == "__main__":
    main()
