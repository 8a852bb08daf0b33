#!/usr/bin/python3
"""Generate lstm4j's whole-model fixtures from real PyTorch: common architectures built as nn.Module classes.

    /usr/bin/python3 tools/pytorch/make_model_fixtures.py [--out DIR]

Default output: <repo>/core/src/test/resources/model-fixtures/ (wiped and rewritten), one directory per
architecture and dtype (<name>_f32, <name>_f64), each with:

    model.pt            torch.save(model.state_dict())
    model.safetensors   the same state dict (each tensor in its own dtype; no lstm4j spec in the metadata)
    input.npy           float input (B, T, I), or int64 token ids (B, T) for models with an embedding
    [lengths.npy]       int64 lengths, when the model runs packed sequences
    y.npy               what model(x) returns
    output.npy, h_n.npy, c_n.npy   the LSTM's own results (output padded with zeros past each length)
    case.json           name, spec (the lstm4j model spec that runs it), dtype, torch version, seed, description

manifest.json lists the cases. Needs Debian's python3-torch (use /usr/bin/python3).
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "core", "src", "test", "resources", "model-fixtures")
GENERATOR = "tools/pytorch/make_model_fixtures.py"
FORMAT_VERSION = 1

ST = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"), torch.int64: ("I64", "<i8"),
      torch.float16: ("F16", "<f2")}


def write_safetensors(path, tensors, metadata=None):
    """Each tensor in its own dtype (F32, F64, I64), header in state-dict order."""
    header = {}
    blobs = []
    pos = 0
    for name, t in tensors.items():
        code, np_dtype = ST[t.dtype]
        b = t.detach().contiguous().numpy().astype(np_dtype).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [pos, pos + len(b)]}
        blobs.append(b)
        pos += len(b)
    if metadata:
        header["__metadata__"] = dict(metadata)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---- the architectures, as a PyTorch user writes them ----------------------------------------------------------

class Forecaster(nn.Module):
    """LSTM + Linear on the last step."""
    spec = "lstm > last > fc"

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.fc = nn.Linear(8, 1)

    def forward(self, x, lengths=None):
        out, (h, c) = self.lstm(x)
        return self.fc(out[:, -1]), (out, h, c)


class StackedHead(nn.Module):
    """Linear / ReLU / Dropout / Linear on the last step, two LSTM layers."""
    spec = "lstm > last > fc1 > relu > drop > fc2"

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, num_layers=2, batch_first=True)
        self.fc1 = nn.Linear(6, 6)
        self.relu = nn.ReLU()
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(6, 2)

    def forward(self, x, lengths=None):
        out, (h, c) = self.lstm(x)
        return self.fc2(self.drop(self.relu(self.fc1(out[:, -1])))), (out, h, c)


class BiClassifier(nn.Module):
    """Bidirectional classifier on cat(h_n[-2], h_n[-1]) with Softmax."""
    spec = "lstm > hn > fc > softmax"

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(10, 4)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x, lengths=None):
        out, (h, c) = self.lstm(x)
        return self.softmax(self.fc(torch.cat((h[-2], h[-1]), 1))), (out, h, c)


class Tagger(nn.Module):
    """Embedding (padding_idx=0) + LSTM + Linear on every step + LogSoftmax: a sequence tagger."""
    spec = "emb > lstm > all > fc > logsoftmax"
    vocab = 20

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(self.vocab, 5, padding_idx=0)
        self.lstm = nn.LSTM(5, 7, batch_first=True)
        self.fc = nn.Linear(7, 6)
        self.logsoftmax = nn.LogSoftmax(dim=-1)

    def forward(self, x, lengths=None):
        out, (h, c) = self.lstm(self.emb(x))
        return self.logsoftmax(self.fc(out)), (out, h, c)


class MeanPool(nn.Module):
    """Embedding + bidirectional LSTM over packed sequences + mean over each row's valid steps + Linear."""
    spec = "emb > lstm > mean > fc"
    vocab = 15

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(self.vocab, 4, padding_idx=0)
        self.lstm = nn.LSTM(4, 5, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(10, 3)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(self.emb(x), lengths, batch_first=True, enforce_sorted=False)
        out, (h, c) = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        pooled = out.sum(1) / lengths.unsqueeze(1).to(out.dtype)
        return self.fc(pooled), (out, h, c)


class MaxPool(nn.Module):
    """Embedding + LSTM over packed sequences + max over each row's valid steps + Linear + Tanh."""
    spec = "emb > lstm > max > fc > tanh"
    vocab = 12

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(self.vocab, 3)
        self.lstm = nn.LSTM(3, 6, batch_first=True)
        self.fc = nn.Linear(6, 2)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(self.emb(x), lengths, batch_first=True, enforce_sorted=False)
        out, (h, c) = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        mask = torch.arange(x.shape[1])[None, :] >= lengths[:, None]
        pooled = out.masked_fill(mask[:, :, None], float("-inf")).max(1).values
        return torch.tanh(self.fc(pooled)), (out, h, c)


class LayerNormed(nn.Module):
    """LayerNorm after the LSTM, then Linear / GELU / Linear / Sigmoid on the last step."""
    spec = "lstm > last > ln > fc1 > gelu > fc2 > sigmoid"

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.ln = nn.LayerNorm(8)
        self.fc1 = nn.Linear(8, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x, lengths=None):
        out, (h, c) = self.lstm(x)
        z = self.ln(out)
        return torch.sigmoid(self.fc2(nn.functional.gelu(self.fc1(z[:, -1])))), (out, h, c)


class BatchNormHead(nn.Module):
    """BatchNorm1d (eval mode, running statistics) in an nn.Sequential head."""
    spec = "lstm > last > head.0 > head.1 > relu > head.3"

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(2, 6, batch_first=True)
        self.head = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))

    def forward(self, x, lengths=None):
        out, (h, c) = self.lstm(x)
        return self.head(out[:, -1]), (out, h, c)


class ProjHn(nn.Module):
    """proj_size, two layers, head on h_n[-1]."""
    spec = "lstm > hn > fc"

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 6, num_layers=2, proj_size=3, batch_first=True)
        self.fc = nn.Linear(3, 2)

    def forward(self, x, lengths=None):
        out, (h, c) = self.lstm(x)
        return self.fc(h[-1]), (out, h, c)


class LastValidGeluTanh(nn.Module):
    """Packed sequences, each row's last valid step, an nn.Sequential head with GELU(approximate='tanh')."""
    spec = "lstm > last-valid > head.0 > gelu-tanh > head.2"

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, bidirectional=True, batch_first=True)
        self.head = nn.Sequential(nn.Linear(10, 6), nn.GELU(approximate="tanh"), nn.Linear(6, 2))

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, (h, c) = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        last = out[torch.arange(x.shape[0]), lengths - 1]
        return self.head(last), (out, h, c)


# name, class, seed, B, T, packed lengths (or None)
CASES = [
    ("forecaster", Forecaster, 301, 3, 6, None),
    ("stacked_head", StackedHead, 302, 2, 5, None),
    ("bi_classifier", BiClassifier, 303, 3, 4, None),
    ("emb_tagger", Tagger, 304, 2, 6, None),
    ("emb_bi_mean_packed", MeanPool, 305, 3, 5, [5, 2, 4]),
    ("emb_max_packed", MaxPool, 306, 3, 4, [2, 4, 3]),
    ("layernorm_gelu", LayerNormed, 307, 2, 5, None),
    ("batchnorm_head", BatchNormHead, 308, 3, 4, None),
    ("proj_hn", ProjHn, 309, 2, 5, None),
    ("last_valid_gelu_tanh", LastValidGeluTanh, 310, 3, 5, [3, 5, 1]),
]


def build(cls, seed):
    torch.manual_seed(seed)
    m = cls()
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm1d):
            with torch.no_grad():
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.3, 0.3)
                mod.num_batches_tracked.fill_(7)
        if isinstance(mod, nn.LayerNorm):
            with torch.no_grad():
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.3, 0.3)
    m.eval()
    return m


def inputs(m, seed, B, T, lengths, dtype):
    g = torch.Generator().manual_seed(seed + 1000)
    if hasattr(m, "emb"):
        x = torch.randint(1, m.vocab, (B, T), generator=g)
        if lengths is None:
            x[-1, T - 2:] = 0  # padding_idx, run through as PyTorch runs it (no packing)
        else:
            for b, n in enumerate(lengths):
                x[b, n:] = 0  # padding_idx
        return x
    return torch.randn(B, T, m.lstm.input_size, generator=g).to(dtype)


def npy(path, t):
    np.save(path, t.detach().numpy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    manifest = []
    for name, cls, seed, B, T, lengths in CASES:
        for dname, dtype in (("f32", torch.float32), ("f64", torch.float64)):
            m = build(cls, seed)
            if dtype == torch.float64:
                m = m.double()
            x = inputs(m, seed, B, T, lengths, dtype)
            lens = None if lengths is None else torch.tensor(lengths, dtype=torch.int64)
            with torch.no_grad():
                y, (out, h, c) = m(x, lens) if lens is not None else m(x)
            d = os.path.join(args.out, name + "_" + dname)
            os.makedirs(d)
            sd = m.state_dict()
            torch.save(sd, os.path.join(d, "model.pt"))
            write_safetensors(os.path.join(d, "model.safetensors"), sd)
            # the files read back into a fresh model give the same y
            m2 = build(cls, seed + 7)
            if dtype == torch.float64:
                m2 = m2.double()
            m2.load_state_dict(torch.load(os.path.join(d, "model.pt")))
            with torch.no_grad():
                y2 = (m2(x, lens) if lens is not None else m2(x))[0]
            assert torch.equal(y, y2), name
            npy(os.path.join(d, "input.npy"), x)
            if lens is not None:
                npy(os.path.join(d, "lengths.npy"), lens)
            for n, t in (("y", y), ("output", out), ("h_n", h), ("c_n", c)):
                npy(os.path.join(d, n + ".npy"), t)
            case = {"format_version": FORMAT_VERSION, "generator": GENERATOR, "torch_version": torch.__version__,
                    "name": name + "_" + dname, "architecture": cls.__name__, "description": cls.__doc__,
                    "spec": cls.spec, "seed": seed, "dtype": "float32" if dtype == torch.float32 else "float64",
                    "lengths": lengths, "state_dict": [[k, list(v.shape), str(v.dtype)] for k, v in sd.items()]}
            with open(os.path.join(d, "case.json"), "w") as f:
                json.dump(case, f, indent=1)
                f.write("\n")
            manifest.append(name + "_" + dname)
            print("wrote", d, "y", tuple(y.shape))
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"format_version": FORMAT_VERSION, "generator": GENERATOR, "torch_version": torch.__version__,
                   "cases": manifest}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
