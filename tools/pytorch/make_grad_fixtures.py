#!/usr/bin/python3
"""Writes core/src/test/resources/grad-fixtures/: what torch.autograd and torch.optim compute, for lstm4j's training code.

    /usr/bin/python3 tools/pytorch/make_grad_fixtures.py [--out DIR]

Files (JSON; every float written with Python's repr, so float64 values round-trip exactly; tensors as
{"shape": [...], "data": [flat row-major]}):

  backward.json   per case: an nn.LSTM (+ nn.Linear head on every step), x, h0/c0, lengths, the upstream weights
                  R of L = sum(R_y*y) + sum(R_out*out) + sum(R_h*h_n) + sum(R_c*c_n), and autograd's gradient of every
                  parameter and of x, h0, c0 (float64 and float32 cases)
  losses.json     each loss x reduction: input, target, value and d(value)/d(input)
  optimizers.json each optimizer configuration: two parameters, the gradient fed at each of STEPS steps (recorded from a
                  fixed objective) and the parameters after every step
  training.json   end-to-end: LSTM + head + MSE, each optimizer, clip_grad_norm_, 20 steps, the loss and gradient norm at
                  each and the parameters after steps 1, 10 and 20;
                  truncated BPTT: state carried and detached every k steps

Deterministic: fixed seeds, torch.use_deterministic_algorithms(True), one thread.
"""
import argparse
import collections
import json
import os
import sys

import torch
import torch.nn as nn

FORMAT_VERSION = 1
STEPS = 100
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def t(x):
    x = x.detach()
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


class Model(nn.Module):
    def __init__(self, input_size, hidden, layers, bidir, proj, bias, head_out, dropout=0.0):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden, num_layers=layers, bidirectional=bidir, proj_size=proj, bias=bias,
                            batch_first=True, dropout=dropout)
        self.fc = nn.Linear((2 if bidir else 1) * (proj or hidden), head_out) if head_out else None

    def forward(self, x, state=None, lengths=None):
        T = x.shape[1]
        if lengths is not None:
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, (h, c) = self.lstm(packed, state)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
        else:
            out, (h, c) = self.lstm(x, state)
        y = self.fc(out) if self.fc is not None else None
        return y, out, h, c


def config_of(kw):
    return {k: kw[k] for k in ("input_size", "hidden", "layers", "bidir", "proj", "bias", "head_out")}


def backward_case(name, seed, dtype, B, T, given=False, lengths=None, **kw):
    torch.manual_seed(seed)
    m = Model(kw["input_size"], kw["hidden"], kw["layers"], kw["bidir"], kw["proj"], kw["bias"], kw["head_out"]).to(dtype)
    # weights wider than the default init, so the gates leave their linear region
    with torch.no_grad():
        for p in m.parameters():
            p.uniform_(-1, 1)
    D = 2 if kw["bidir"] else 1
    Hh = kw["proj"] or kw["hidden"]
    x = torch.randn(B, T, kw["input_size"], dtype=dtype, requires_grad=True)
    h0 = c0 = None
    state = None
    if given:
        h0 = torch.randn(kw["layers"] * D, B, Hh, dtype=dtype, requires_grad=True)
        c0 = torch.randn(kw["layers"] * D, B, kw["hidden"], dtype=dtype, requires_grad=True)
        state = (h0, c0)
    y, out, h, c = m(x, state, lengths)
    r_out = torch.randn_like(out)
    r_h = torch.randn_like(h)
    r_c = torch.randn_like(c)
    r_y = torch.randn_like(y) if y is not None else None
    loss = (r_out * out).sum() + (r_h * h).sum() + (r_c * c).sum() + ((r_y * y).sum() if y is not None else 0)
    loss.backward()
    rec = collections.OrderedDict(name=name, seed=seed, dtype=str(dtype).replace("torch.", ""), batch=B, steps=T,
                                  config=config_of(kw))
    rec["lengths"] = lengths
    rec["state_dict"] = collections.OrderedDict((k, t(v)) for k, v in m.state_dict().items())
    rec["x"] = t(x)
    rec["h0"] = t(h0) if given else None
    rec["c0"] = t(c0) if given else None
    rec["r_out"], rec["r_h"], rec["r_c"] = t(r_out), t(r_h), t(r_c)
    rec["r_y"] = t(r_y) if r_y is not None else None
    rec["loss"] = float(loss)
    rec["grad"] = collections.OrderedDict((k, t(p.grad)) for k, p in m.named_parameters())
    rec["grad"]["x"] = t(x.grad)
    if given:
        rec["grad"]["h0"] = t(h0.grad)
        rec["grad"]["c0"] = t(c0.grad)
    return rec


def backward_cases():
    base = dict(input_size=3, hidden=4, layers=1, bidir=False, proj=0, bias=True, head_out=0)
    matrix = [
        ("basic", dict(), dict(B=2, T=5)),
        ("layers2", dict(layers=2), dict(B=2, T=4)),
        ("bidir", dict(bidir=True), dict(B=2, T=4)),
        ("bidir_layers2_proj", dict(layers=2, bidir=True, proj=2), dict(B=2, T=4)),
        ("no_bias", dict(bias=False, layers=2), dict(B=2, T=3)),
        ("initial_state", dict(layers=2, bidir=True), dict(B=3, T=3, given=True)),
        ("packed", dict(bidir=True, layers=2), dict(B=3, T=5, lengths=[5, 2, 4])),
        ("packed_state_proj_head", dict(bidir=True, proj=3, head_out=2, hidden=5), dict(B=3, T=4, given=True, lengths=[2, 4, 1])),
        ("head", dict(head_out=3, layers=2), dict(B=2, T=4)),
        ("long", dict(hidden=8, input_size=5, head_out=1), dict(B=4, T=32)),
    ]
    cases = []
    for n, (name, cfg, run) in enumerate(matrix):
        kw = dict(base, **cfg)
        for dtype in (torch.float64, torch.float32):
            suffix = "f64" if dtype == torch.float64 else "f32"
            cases.append(backward_case(name + "_" + suffix, 1400 + n, dtype, **run, **kw))
    return cases


def loss_cases():
    torch.manual_seed(7)
    cases = []
    x = torch.randn(4, 3, dtype=torch.float64)
    y = torch.randn(4, 3, dtype=torch.float64)
    y[0, 0] = x[0, 0]  # a zero difference: sign(0) = 0 in L1's gradient
    for reduction in ("mean", "sum"):
        for name, fn, params in [
            ("mse", lambda a, b, r: nn.MSELoss(reduction=r)(a, b), {}),
            ("l1", lambda a, b, r: nn.L1Loss(reduction=r)(a, b), {}),
            ("smooth_l1", lambda a, b, r: nn.SmoothL1Loss(reduction=r, beta=0.5)(a, b), {"beta": 0.5}),
            ("huber", lambda a, b, r: nn.HuberLoss(reduction=r, delta=0.7)(a, b), {"delta": 0.7}),
            ("bce_with_logits", lambda a, b, r: nn.BCEWithLogitsLoss(reduction=r)(a, b), {}),
        ]:
            inp = (x * 3).clone().requires_grad_(True)
            tgt = torch.sigmoid(y) if name == "bce_with_logits" else y
            v = fn(inp, tgt, reduction)
            v.backward()
            cases.append(collections.OrderedDict(loss=name, reduction=reduction, params=params, input=t(inp), target=t(tgt),
                                                 value=float(v), grad=t(inp.grad)))
        logits = (torch.randn(5, 4, dtype=torch.float64) * 2).requires_grad_(True)
        classes = torch.tensor([1, 0, 3, -100, 2])
        v = nn.CrossEntropyLoss(reduction=reduction, ignore_index=-100)(logits, classes)
        v.backward()
        cases.append(collections.OrderedDict(loss="cross_entropy", reduction=reduction, params={"ignore_index": -100},
                                             input=t(logits), target=t(classes.double()), value=float(v), grad=t(logits.grad)))
    return cases


OPTIMIZERS = [
    ("sgd", "SGD", dict(lr=0.05)),
    ("sgd_momentum", "SGD", dict(lr=0.05, momentum=0.9)),
    ("sgd_momentum_dampening_wd", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("sgd_nesterov", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001)),
    ("adam", "Adam", dict(lr=0.01)),
    ("adam_wd_amsgrad", "Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, amsgrad=True)),
    ("adamw", "AdamW", dict(lr=0.01)),
    ("adamw_amsgrad", "AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("rmsprop", "RMSprop", dict(lr=0.01)),
    ("rmsprop_momentum_centered_wd", "RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)),
]


def optimizer_cases():
    cases = []
    for n, (name, cls, kw) in enumerate(OPTIMIZERS):
        for dtype in (torch.float64, torch.float32):
            if dtype == torch.float32 and name not in ("adam", "sgd_momentum", "rmsprop"):
                continue
            torch.manual_seed(300 + n)
            a = torch.randn(3, 2, dtype=dtype).requires_grad_(True)
            b = torch.randn(4, dtype=dtype).requires_grad_(True)
            ca, cb = torch.rand(3, 2, dtype=dtype) * 2, torch.randn(4, dtype=dtype)
            opt = getattr(torch.optim, cls)([a, b], **kw)
            rec = collections.OrderedDict(name=name, optimizer=cls, dtype=str(dtype).replace("torch.", ""),
                                          options={k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()},
                                          initial=[t(a), t(b)], grads=[], params=[])
            for _ in range(STEPS):
                opt.zero_grad()
                # a fixed objective, so that gradients follow the parameters; the test feeds the recorded gradients
                loss = (ca * a * a).sum() / 2 + (torch.sin(3 * b) + cb * b).sum()
                loss.backward()
                rec["grads"].append([t(a.grad), t(b.grad)])
                opt.step()
                rec["params"].append([t(a), t(b)])
            cases.append(rec)
    return cases


def training_cases():
    cases = []
    for n, (name, cls, kw) in enumerate([OPTIMIZERS[2], OPTIMIZERS[5], OPTIMIZERS[7], OPTIMIZERS[9]]):
        torch.manual_seed(500 + n)
        m = Model(2, 4, 2, True, 0, True, 1).double()
        x = torch.randn(3, 6, 2, dtype=torch.float64)
        y = torch.randn(3, 1, dtype=torch.float64)
        rec = collections.OrderedDict(name="train_" + name, optimizer=cls,
                                      options={k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()},
                                      config=dict(input_size=2, hidden=4, layers=2, bidir=True, proj=0, bias=True, head_out=1),
                                      clip_norm=0.5, state_dict=collections.OrderedDict((k, t(v)) for k, v in m.state_dict().items()),
                                      x=t(x), y=t(y), losses=[], grad_norms=[], params=[])
        opt = getattr(torch.optim, cls)(m.parameters(), **kw)
        for step in range(1, 21):
            opt.zero_grad()
            pred, _, _, _ = m(x)
            loss = nn.MSELoss()(pred[:, -1, :], y)
            loss.backward()
            rec["grad_norms"].append(float(nn.utils.clip_grad_norm_(m.parameters(), 0.5)))
            opt.step()
            rec["losses"].append(float(loss))
            if step in (1, 10, 20):
                rec["params"].append(dict(step=step, state_dict=collections.OrderedDict((k, t(v)) for k, v in m.state_dict().items())))
        cases.append(rec)
    # truncated BPTT: state carried between chunks of k steps and detached, one optimizer step per chunk
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(600)
        m = Model(2, 3, 1, False, 0, True, 1).to(dtype)
        x = torch.randn(2, 12, 2, dtype=dtype)
        y = torch.randn(2, 12, 1, dtype=dtype)
        k = 4
        rec = collections.OrderedDict(name="tbptt_" + ("f64" if dtype == torch.float64 else "f32"), optimizer="SGD",
                                      options=dict(lr=0.1, momentum=0.9), config=dict(input_size=2, hidden=3, layers=1, bidir=False,
                                                                                        proj=0, bias=True, head_out=1),
                                      k=k, state_dict=collections.OrderedDict((kk, t(v)) for kk, v in m.state_dict().items()),
                                      x=t(x), y=t(y), losses=[], params=[])
        opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        state = None
        for epoch in range(3):
            state = None
            for s in range(0, 12, k):
                opt.zero_grad()
                pred, _, h, c = m(x[:, s:s + k], state)
                loss = nn.MSELoss()(pred, y[:, s:s + k])
                loss.backward()
                opt.step()
                state = (h.detach(), c.detach())
                rec["losses"].append(float(loss))
                rec["params"].append(collections.OrderedDict((kk, t(v)) for kk, v in m.state_dict().items()))
        cases.append(rec)
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "core", "src", "test", "resources", "grad-fixtures"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    header = collections.OrderedDict(format_version=FORMAT_VERSION, torch_version=torch.__version__,
                                     script="tools/pytorch/make_grad_fixtures.py")
    for fname, cases in (("backward.json", backward_cases()), ("losses.json", loss_cases()),
                         ("optimizers.json", optimizer_cases()), ("training.json", training_cases())):
        doc = collections.OrderedDict(header)
        doc["cases"] = cases
        with open(os.path.join(args.out, fname), "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        print(fname, len(cases), "cases", os.path.getsize(os.path.join(args.out, fname)), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
