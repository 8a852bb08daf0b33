#!/usr/bin/python3
"""Generate lstm4j's card-backward fixtures: every step's gradients, computed by torch.autograd in float64.

Run from anywhere (paths are computed from this file's location):

    /usr/bin/python3 tools/pytorch/make_card_backward_fixtures.py [--out DIR]

Default: <repo>/core/src/test/resources/card-backward-fixtures/, wiped and rewritten.

nn.LSTM keeps its gates inside, so each case builds the same cell by hand in torch ops from an nn.LSTM's own
parameters, in PyTorch's grouping (z = (W_ih x + b_ih) + (W_hh h + b_hh), rows i, f, g, o), and first checks that
this gives nn.LSTM's output, h_n and c_n (packed with pack_padded_sequence when the case has lengths). The model's
readout and head run on that output, L is y.sum() or MSELoss() against a target, and loss.backward() fills the
.grad of every tensor that called retain_grad(). A tensor that several steps read (c_{t-1}, h_{t-1}, x_t of a
bidirectional layer) is read through a clone() per step, so its .grad is that step's part alone, as the card
shows it.

Each case directory holds model.safetensors (float64, the lstm4j model spec in its metadata), input.npy,
[h0.npy, c0.npy], [lengths.npy], [target.npy], y.npy, and per gradient one <name>.npy of shape
(L*D, B, T, size) in input time order, NaN at padded steps (never computed):

  dh       dL/dh_t, all of it              dh_out   its part from the output (head, loss or layer above)
  dh_next  its part from the next step     d_hidden dL/d(o * tanh c_t) (projected cases only)
  dc       dL/dc_t, all of it              dc_next  its part from the next step (dc_{t+1} * f_{t+1})
  d_i d_f d_g d_o   the gate activations   dz       the pre-activations (4H, rows i, f, g, o)
  dc_prev  dL/dc_{t-1} from this step      dh_prev  dL/dh_{t-1} from this step
  dx       dL/dx_t from this layer and direction

case.json records the configuration, spec, loss, its value, torch version and seed. Needs Debian's python3-torch.
"""
import argparse
import collections
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import write_safetensors  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "core", "src", "test", "resources", "card-backward-fixtures")
GENERATOR = "tools/pytorch/make_card_backward_fixtures.py"
FORMAT_VERSION = 1

# head: a list of ("name", nn module) or keywords; "target" True means MSELoss against a seeded random target
CASES = [
    dict(name="one_layer_sum", seed=11, I=3, H=4, L=1, bidir=False, proj=0, B=2, T=6, state=False, lengths=None,
         readout="all", head=[], target=False, description="1 layer, no head, L = y.sum()"),
    dict(name="two_layers_fc_mse", seed=12, I=3, H=4, L=2, bidir=False, proj=0, B=2, T=7, state=False, lengths=None,
         readout="all", head=[("fc", 2)], target=True, description="2 layers, Linear on every step, MSELoss against a target"),
    dict(name="bidir_last_tanh_mse", seed=13, I=2, H=3, L=1, bidir=True, proj=0, B=3, T=5, state=True, lengths=None,
         readout="last", head=[("fc1", 4), "tanh", ("fc2", 1)], target=True,
         description="bidirectional, h0/c0, out[:, -1] > Linear > tanh > Linear, MSELoss"),
    dict(name="bidir_layers2_proj_packed_mean_sum", seed=14, I=4, H=5, L=2, bidir=True, proj=3, B=3, T=6, state=True,
         lengths=[6, 3, 5], readout="mean", head=[("fc", 2)], target=False,
         description="2 layers, bidirectional, proj_size=3, h0/c0, lengths [6, 3, 5], mean > Linear, L = y.sum()"),
    dict(name="proj_packed_hn_sigmoid_mse", seed=15, I=3, H=4, L=1, bidir=False, proj=2, B=2, T=5, state=False,
         lengths=[5, 2], readout="hn", head=[("fc", 3), "sigmoid"], target=True,
         description="proj_size=2, lengths [5, 2], h_n[-1] > Linear > sigmoid, MSELoss"),
    dict(name="bidir_packed_last_valid_relu_sum", seed=16, I=3, H=4, L=2, bidir=True, proj=0, B=2, T=5, state=False,
         lengths=[3, 5], readout="last-valid", head=[("fc", 5), "relu"], target=False,
         description="2 layers, bidirectional, lengths [3, 5], last-valid > Linear > relu, L = y.sum()"),
]

GRADS = ["dh", "dh_out", "dh_next", "d_hidden", "dc", "dc_next", "d_i", "d_f", "d_g", "d_o", "dz", "dc_prev", "dh_prev", "dx"]


def params(model, layer, d):
    sfx = "_l%d%s" % (layer, "_reverse" if d == 1 else "")
    g = lambda n: getattr(model, n + sfx, None)  # noqa: E731
    return g("weight_ih"), g("weight_hh"), g("bias_ih"), g("bias_hh"), g("weight_hr")


def grad(t, like):
    """t.grad, or zeros when nothing reached t (PyTorch leaves it None)."""
    return t.grad.detach() if t.grad is not None else torch.zeros_like(like)


def run_case(c):
    torch.manual_seed(c["seed"])
    dt = torch.float64
    lstm = nn.LSTM(c["I"], c["H"], num_layers=c["L"], batch_first=True, bidirectional=c["bidir"], proj_size=c["proj"]).to(dt)
    # wider weights than the default init, so that gates leave their linear region and gradients fade visibly
    with torch.no_grad():
        for p in lstm.parameters():
            p.uniform_(-1, 1)
    D = 2 if c["bidir"] else 1
    H, hh, B, T, L = c["H"], c["proj"] or c["H"], c["B"], c["T"], c["L"]
    features = D * hh
    head = collections.OrderedDict()
    spec_head = []
    for item in c["head"]:
        if isinstance(item, tuple):
            lin = nn.Linear(features, item[1]).to(dt)
            head[item[0]] = lin
            features = item[1]
            spec_head.append(item[0])
        else:
            spec_head.append(item)
    x = torch.randn(B, T, c["I"], dtype=dt)
    lengths = c["lengths"] or [T] * B
    h0 = torch.randn(L * D, B, hh, dtype=dt) if c["state"] else torch.zeros(L * D, B, hh, dtype=dt)
    c0 = torch.randn(L * D, B, H, dtype=dt) if c["state"] else torch.zeros(L * D, B, H, dtype=dt)
    with torch.no_grad():
        if c["lengths"]:
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
            ref_out, (ref_hn, ref_cn) = lstm(packed, (h0, c0))
            ref_out, _ = pad_packed_sequence(ref_out, batch_first=True, total_length=T)
        else:
            ref_out, (ref_hn, ref_cn) = lstm(x, (h0, c0))

    # the cell by hand, keeping every tensor whose gradient the card shows (x, h0 and c0 take part in the graph, so
    # that the first step's clones of them can keep a gradient too)
    x.requires_grad_(True)
    h0.requires_grad_(True)
    c0.requires_grad_(True)
    rec = {}  # (ld, b, t) -> dict of tensors
    layer_in = x
    hn = [[None] * B for _ in range(L * D)]
    cn = [[None] * B for _ in range(L * D)]
    for layer in range(L):
        cells = [[[None] * T for _ in range(B)] for _ in range(D)]
        for d in range(D):
            w_ih, w_hh, b_ih, b_hh, w_hr = params(lstm, layer, d)
            ld = layer * D + d
            for b in range(B):
                h, cc = h0[ld, b], c0[ld, b]
                n = lengths[b]
                for k in range(n):
                    t = k if d == 0 else n - 1 - k
                    # clones: this step's own reading of x_t, h_{t-1} and c_{t-1}
                    x_in, h_in, c_in = layer_in[b, t].clone(), h.clone(), cc.clone()
                    z = F.linear(x_in, w_ih, b_ih) + F.linear(h_in, w_hh, b_hh)
                    zi, zf, zg, zo = z.chunk(4)
                    i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
                    c_new = f * c_in + i * g
                    hid = o * torch.tanh(c_new)
                    h_new = F.linear(hid, w_hr) if w_hr is not None else hid * 1
                    h_out = h_new.clone()  # what the output (and so the head or the layer above) reads
                    r = dict(x_in=x_in, h_in=h_in, c_in=c_in, z=z, i=i, f=f, g=g, o=o, c_new=c_new, hid=hid, h_new=h_new,
                             h_out=h_out)
                    for v in r.values():
                        v.retain_grad()
                    rec[(ld, b, t)] = r
                    cells[d][b][t] = h_out
                    h, cc = h_new, c_new
                hn[ld][b] = h.clone()
                cn[ld][b] = cc.clone()
                hn[ld][b].retain_grad()
                cn[ld][b].retain_grad()
        zero = torch.zeros(hh, dtype=dt)
        layer_in = torch.stack([torch.stack([torch.cat([cells[d][b][t] if cells[d][b][t] is not None else zero for d in range(D)])
                                             for t in range(T)]) for b in range(B)])
    out = layer_in
    my_hn = torch.stack([torch.stack(hn[k]) for k in range(L * D)])
    my_cn = torch.stack([torch.stack(cn[k]) for k in range(L * D)])
    # the equations above are nn.LSTM: same output, h_n and c_n
    for what, mine, theirs in [("output", out, ref_out), ("h_n", my_hn, ref_hn), ("c_n", my_cn, ref_cn)]:
        err = (mine.detach() - theirs).abs().max().item()
        assert err < 1e-12, (c["name"], what, err)

    # readout and head, as lstm4j's spec runs them
    ln = torch.tensor(lengths)
    if c["readout"] == "all":
        y = out
    elif c["readout"] == "last":
        y = out[:, -1]
    elif c["readout"] == "last-valid":
        y = out[torch.arange(B), ln - 1]
    elif c["readout"] == "mean":
        y = out.sum(1) / ln.to(dt).unsqueeze(1)
    elif c["readout"] == "hn":
        y = my_hn[-1] if D == 1 else torch.cat((my_hn[-2], my_hn[-1]), 1)
    else:
        raise ValueError(c["readout"])
    for item in c["head"]:
        if isinstance(item, tuple):
            y = head[item[0]](y)
        else:
            y = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[item](y)
    target = None
    if c["target"]:
        target = torch.randn(*y.shape, dtype=dt)
        loss = F.mse_loss(y, target)
        loss_name = "MSELoss(reduction='mean')(y, target)"
    else:
        loss = y.sum()
        loss_name = "y.sum()"
    loss.backward()

    grads = {}
    for name in GRADS:
        size = {"dh": hh, "dh_out": hh, "dh_next": hh, "dh_prev": hh, "dz": 4 * H}.get(name, H)
        grads[name] = [torch.full((L * D, B, T, size if name != "dx" else (c["I"] if layer == 0 else D * hh)), float("nan"), dtype=dt)
                       for layer in range(L)]
    for (ld, b, t), r in rec.items():
        layer, d = divmod(ld, D)
        n = lengths[b]
        last = (t == n - 1) if d == 0 else (t == 0)
        nxt = None if last else rec[(ld, b, t + 1 if d == 0 else t - 1)]
        vals = dict(dh=grad(r["h_new"], r["h_new"]), dh_out=grad(r["h_out"], r["h_out"]),
                    dh_next=grad(hn[ld][b], r["h_new"]) if last else grad(nxt["h_in"], r["h_new"]),
                    d_hidden=grad(r["hid"], r["hid"]), dc=grad(r["c_new"], r["c_new"]),
                    dc_next=grad(cn[ld][b], r["c_new"]) if last else grad(nxt["c_in"], r["c_new"]),
                    d_i=grad(r["i"], r["i"]), d_f=grad(r["f"], r["f"]), d_g=grad(r["g"], r["g"]), d_o=grad(r["o"], r["o"]),
                    dz=grad(r["z"], r["z"]), dc_prev=grad(r["c_in"], r["c_in"]), dh_prev=grad(r["h_in"], r["h_in"]),
                    dx=grad(r["x_in"], r["x_in"]))
        for name, v in vals.items():
            grads[name][layer][ld, b, t] = v
    # one array per gradient: (L*D, B, T, size); dx differs in size by layer, so layer 0's rows are saved as dx_l0 etc.
    arrays = collections.OrderedDict(input=x)
    if c["state"]:
        arrays["h0"], arrays["c0"] = h0, c0
    if c["lengths"]:
        arrays["lengths"] = torch.tensor(lengths, dtype=torch.int64)
    if target is not None:
        arrays["target"] = target
    arrays["y"] = y.detach()
    for name in GRADS:
        if name == "dx":
            for layer in range(L):
                arrays["dx_l%d" % layer] = grads["dx"][layer][layer * D:(layer + 1) * D]
        else:
            merged = grads[name][0]
            for layer in range(1, L):
                merged[layer * D:(layer + 1) * D] = grads[name][layer][layer * D:(layer + 1) * D]
            arrays[name] = merged
    tensors = collections.OrderedDict(("lstm." + k, v) for k, v in lstm.state_dict().items())
    for hname, lin in head.items():
        tensors.update((hname + "." + k, v) for k, v in lin.state_dict().items())
    spec = " > ".join(["lstm", c["readout"]] + spec_head)
    return tensors, arrays, spec, loss_name, loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixtures directory (wiped and rewritten)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if os.path.exists(args.out):
        if os.listdir(args.out) and not os.path.exists(os.path.join(args.out, "manifest.json")):
            sys.exit("refusing to wipe %s: it exists, is not empty and has no manifest.json" % args.out)
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    for c in CASES:
        tensors, arrays, spec, loss_name, loss_value = run_case(c)
        d = os.path.join(args.out, c["name"])
        os.makedirs(d)
        write_safetensors(os.path.join(d, "model.safetensors"), tensors, "F64",
                          metadata=collections.OrderedDict([("lstm4j.model", spec), ("torch_version", torch.__version__),
                                                            ("seed", str(c["seed"])), ("generator", GENERATOR),
                                                            ("case", c["name"])]))
        for k, v in arrays.items():
            np.save(os.path.join(d, k + ".npy"), np.ascontiguousarray(v.detach().numpy()))
        info = collections.OrderedDict(format_version=FORMAT_VERSION, name=c["name"], description=c["description"],
                                       generator=GENERATOR, torch_version=torch.__version__, seed=c["seed"], dtype="float64",
                                       input_size=c["I"], hidden_size=c["H"], num_layers=c["L"], bidirectional=c["bidir"],
                                       proj_size=c["proj"], layout="batch_first", initial_state=c["state"], batch=c["B"],
                                       steps=c["T"], lengths=c["lengths"], spec=spec, loss=loss_name, loss_value=loss_value,
                                       grads=[g for g in GRADS if g != "dx"] + ["dx_l%d" % k for k in range(c["L"])])
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump(info, f, indent=2)
            f.write("\n")
        print("wrote", c["name"], "L =", loss_value)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(collections.OrderedDict(format_version=FORMAT_VERSION, torch_version=torch.__version__, generator=GENERATOR,
                                          cases=[c["name"] for c in CASES]), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
