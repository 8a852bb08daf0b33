#!/usr/bin/python3
"""Generate lstm4j's torch.save / .npz fixtures from real PyTorch.

    /usr/bin/python3 tools/pytorch/make_pt_fixtures.py [--out DIR]

Default output: <repo>/core/src/test/resources/pt-fixtures/ (wiped and rewritten).
Output is reproducible byte for byte except the legacy and TorchScript files,
which embed object addresses.
Each model case directory holds the same weights in several files, PyTorch's
outputs for one input, and case.json:

    model.safetensors        reference copy of the state dict (safetensors_io.py)
    state_dict.pt            torch.save(module.state_dict())
    params.pt                torch.save(module.state_dict(keep_vars=True))  (nn.Parameter -> _rebuild_parameter)
    checkpoint.pt            {"epoch", "state": {"model": state_dict, "optimizer": Adam state}, ...}
    archive_v2.pt            state_dict.pt re-packed in the newer layout: top folder "archive",
                             .data/version, byteorder "little" (same pickle and storages)
    big_endian.pt            as archive_v2.pt with byteorder "big" and every storage byte-swapped
    model.npz                np.savez(path, **{k: v.numpy()})             (entries stored)
    model_compressed.npz     np.savez_compressed(path, **{k: v.numpy()})  (entries deflated)
    input.npy, [h0.npy, c0.npy], output.npy, h_n.npy, c_n.npy, [head.npy]

case.json lists the weights files (with the --key each needs, if any) and the
model's configuration in the same fields as tools/pytorch/make_fixtures.py.
The "views" case stores its tensors as views of shared storages, with storage
offsets and non-contiguous strides; "dtypes" holds one tensor per storage type
with the values PyTorch reads back; "pickles/" holds one plain-Python sample
pickled with protocols 0 to 5 and the JSON it must read as; "refused/" holds files lstm4j must refuse
(whole pickled models, TorchScript, legacy format, malicious pickles). The
malicious pickles are checked here to really run their payload under Python's
pickle (in a temp dir) and to be refused by torch.load(weights_only=True).

Needs Debian's python3-torch (use /usr/bin/python3).
"""
import argparse
import collections
import copy
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import build_and_run, case, case_json, wipe  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "core", "src", "test", "resources", "pt-fixtures")
GENERATOR = "tools/pytorch/make_pt_fixtures.py"
FORMAT_VERSION = 1
ST_DTYPES = {"float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16"}
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
                "bfloat16": torch.bfloat16}
PAYLOAD_MARKER = "lstm4j-payload-ran"
FIXED_TIME = 315619200.0  # 1980-01-02, so np.savez's zip timestamps are reproducible

CASES = [
    case("plain", 201, I=3, H=4, head_prefix="fc.", B=2, T=5,
         description="nn.LSTM + Linear head in a module; every file variant"),
    case("views", 202, I=3, H=4, prefix="rnn.", head_prefix="fc.", B=2, T=4,
         description="tensors saved as views of shared storages: offsets, transposes, strided slices"),
    case("f16", 203, I=3, H=4, dtype="float16", B=2, T=4,
         description="state dict in float16 (computed in float32 with the rounded weights)"),
    case("bf16", 204, I=3, H=4, dtype="bfloat16", B=2, T=4,
         description="state dict in bfloat16 (computed in float32 with the rounded weights)"),
    case("f64", 205, I=3, H=4, dtype="float64", head_prefix="fc.", B=2, T=4,
         description="state dict in float64"),
    case("lstmcell", 206, kind="lstmcell", prefix="cell.", I=3, H=4, B=2, T=4,
         description="nn.LSTMCell looped over the steps"),
    case("bidir_proj", 207, I=4, H=6, L=2, bidir=True, proj=3, state=True, prefix="encoder.lstm.",
         head_prefix="fc.", B=2, T=5,
         description="bidirectional, 2 layers, proj_size=3, initial state, head; LSTM nested in a submodule"),
]


class Holder(nn.Module):
    """A module tree that puts `modules` at their dotted prefixes, so state_dict() is a real one."""

    def __init__(self, modules):
        super().__init__()
        for prefix, m in modules:
            parts = prefix.rstrip(".").split(".")
            parent = self
            for p in parts[:-1]:
                if not hasattr(parent, p):
                    parent.add_module(p, nn.Module())
                parent = getattr(parent, p)
            parent.add_module(parts[-1], m)


class Net(nn.Module):
    """A user-defined model class, pickled whole by torch.save(model)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)
        self.fc = nn.Linear(4, 2)


def savez(path, tensors, compressed):
    arrays = {k: v.numpy() for k, v in tensors.items()}
    real = time.time
    time.time = lambda: FIXED_TIME
    try:
        (np.savez_compressed if compressed else np.savez)(path, **arrays)
    finally:
        time.time = real


def repack(src, dst, top, byteorder, swap=None):
    """Re-pack a torch.save zip under another top folder, with .data/version and a byteorder record.

    `swap`: element size to byte-swap every storage with (for the big-endian variant)."""
    zin = zipfile.ZipFile(src)
    old_top = zin.infolist()[0].filename.split("/")[0]
    zout = zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED)

    def put(name, data):
        info = zipfile.ZipInfo(top + "/" + name, date_time=(1980, 1, 1, 0, 0, 0))
        zout.writestr(info, data)

    put("data.pkl", zin.read(old_top + "/data.pkl"))
    put("byteorder", byteorder)
    for info in zin.infolist():
        rest = info.filename[len(old_top) + 1:]
        if rest.startswith("data/"):
            data = zin.read(info.filename)
            if swap:
                data = np.frombuffer(data, dtype="<u%d" % swap).byteswap().tobytes()
            put(rest, data)
    put(".data/version", zin.read(old_top + "/version"))
    put(".data/serialization_id", "0123456789")
    zout.close()
    got = torch.load(dst) if byteorder == "little" else None
    ref = torch.load(src)
    if got is not None:
        assert list(got.keys()) == list(ref.keys())
        assert all(torch.equal(got[k], ref[k]) for k in ref)


def views_state_dict(sd):
    """The same values as `sd`, stored as views: offsets into one storage, a transpose, strided slices."""
    names = list(sd.keys())
    w_ih, w_hh, b_ih, b_hh, fc_w, fc_b = (sd[n] for n in names)
    flat = torch.zeros(7 + w_ih.numel() + b_hh.numel() + fc_b.numel())
    o = 7
    flat[o:o + w_ih.numel()] = w_ih.reshape(-1)
    v_ih = flat[o:o + w_ih.numel()].view(w_ih.shape)              # contiguous view at an offset
    o += w_ih.numel()
    flat[o:o + b_hh.numel()] = b_hh
    v_bhh = flat[o:o + b_hh.numel()]                              # 1-D view at an offset
    o += b_hh.numel()
    flat[o:o + fc_b.numel()] = fc_b
    v_fcb = flat[o:o + fc_b.numel()]
    t_hh = w_hh.t().contiguous()
    v_hh = t_hh.t()                                               # transposed: strides (1, 4H)
    wide = torch.zeros(b_ih.numel() * 2)
    wide[1::2] = b_ih
    v_bih = wide[1::2]                                            # stride 2, offset 1
    big = torch.zeros(fc_w.shape[0], fc_w.shape[1] + 3)
    big[:, 2:2 + fc_w.shape[1]] = fc_w
    v_fcw = big[:, 2:2 + fc_w.shape[1]]                           # row stride wider than the row
    out = collections.OrderedDict(zip(names, [v_ih, v_hh, v_bih, v_bhh, v_fcw, v_fcb]))
    for n in names:
        assert torch.equal(out[n], sd[n]), n
    assert not v_hh.is_contiguous() and not v_bih.is_contiguous() and not v_fcw.is_contiguous()
    assert v_ih.storage_offset() > 0 and v_ih.storage().data_ptr() == v_bhh.storage().data_ptr()
    return out


def module_state(c, model, head, keep_vars=False):
    mods = [(c["prefix"], model)] + ([(c["head_prefix"], head)] if head is not None else [])
    return Holder(mods).state_dict(keep_vars=keep_vars)


def write_model_case(c, outdir):
    model, head, tensors, arrays = build_and_run(c)
    os.makedirs(outdir)
    dt = c["dtype"]
    low = TORCH_DTYPES[dt]
    sd = module_state(c, model, head)
    assert list(sd.keys()) == list(tensors.keys()), (list(sd.keys()), list(tensors.keys()))
    if dt in ("float16", "bfloat16"):
        # the model computed with float32 weights rounded through `low`; the files hold `low`
        for k in list(sd.keys()):
            sd[k] = sd[k].to(low)
    write_safetensors(os.path.join(outdir, "model.safetensors"), sd, ST_DTYPES[dt],
                      metadata={"torch_version": torch.__version__, "seed": str(c["seed"]),
                                "generator": GENERATOR, "case": c["name"]})
    files = []

    def add(name, key=None, what=""):
        files.append(collections.OrderedDict([("file", name), ("key", key), ("what", what)]))

    def path(name):
        return os.path.join(outdir, name)

    if c["name"] == "views":
        vsd = views_state_dict(sd)
        torch.save(vsd, path("state_dict.pt"))
        zf = zipfile.ZipFile(path("state_dict.pt"))
        storages = [i for i in zf.namelist() if "/data/" in i]
        assert len(storages) < len(vsd), "views must share storages"
        add("state_dict.pt", what="views of shared storages with offsets and non-contiguous strides")
    else:
        torch.save(sd, path("state_dict.pt"))
        add("state_dict.pt", what="torch.save(module.state_dict())")
    if c["name"] == "plain":
        torch.save(module_state(c, model, head, keep_vars=True), path("params.pt"))
        add("params.pt", what="state_dict(keep_vars=True): nn.Parameter values")
        repack(path("state_dict.pt"), path("archive_v2.pt"), "archive", "little")
        add("archive_v2.pt", what="newer layout: top folder 'archive', .data/version, byteorder little")
        repack(path("state_dict.pt"), path("big_endian.pt"), "archive", "big", swap=4)
        add("big_endian.pt", what="byteorder big, storages byte-swapped")
        savez(path("model.npz"), sd, compressed=False)
        add("model.npz", what="np.savez (stored)")
        savez(path("model_compressed.npz"), sd, compressed=True)
        add("model_compressed.npz", what="np.savez_compressed (deflated)")
        ema = collections.OrderedDict((k, v.clone()) for k, v in sd.items())
        torch.save(collections.OrderedDict([("model", sd), ("ema", ema)]), path("two_models.pt"))
        add("two_models.pt", key="ema", what="two candidate state dicts: needs --key")
    if c["name"] in ("plain", "bidir_proj", "lstmcell"):
        # a training step on copies, so the saved weights stay those the outputs came from
        m2, h2 = copy.deepcopy(model), copy.deepcopy(head)
        params = list(m2.parameters()) + (list(h2.parameters()) if h2 is not None else [])
        opt = torch.optim.Adam(params, lr=1e-3)
        loss = sum((p.float() ** 2).sum() for p in params)
        loss.backward()
        opt.step()
        ckpt = collections.OrderedDict([
            ("epoch", 7),
            ("state", collections.OrderedDict([("model", sd), ("optimizer", opt.state_dict())])),
            ("loss", 0.25),
            ("history", [1.0, 0.5, 0.25]),
            ("device", torch.device("cpu")),
            ("note", "trained for the lstm4j fixtures"),
            ("flags", (True, None, -3)),
            ("big", 2 ** 70),
        ])
        torch.save(ckpt, path("checkpoint.pt"))
        add("checkpoint.pt", what="nested checkpoint dict with optimizer state; state dict found without --key")
        add("checkpoint.pt", key="state/model", what="the same, with --key state/model")

    npdt = np.float64 if dt == "float64" else np.float32
    for k, v in arrays.items():
        a = v.detach().cpu().numpy()
        assert a.dtype == npdt
        np.save(path(k + ".npy"), np.ascontiguousarray(a))
    info = case_json(c)
    info["generator"] = GENERATOR
    info["weights"] = files
    with open(path("case.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    verify_files(outdir, files, sd)


def verify_files(outdir, files, sd):
    """Every file must load in PyTorch/NumPy to exactly the state dict the outputs were computed with."""
    for f in files:
        p = os.path.join(outdir, f["file"])
        if p.endswith(".npz"):
            z = np.load(p)
            got = collections.OrderedDict((k, torch.from_numpy(z[k])) for k in z.files)
        elif "big_endian" in p:
            continue  # torch 1.13 predates the byteorder record; its content is checked by repack()
        else:
            # checkpoints hold torch.device, which torch 1.13's weights_only loader does not allow
            got = torch.load(p, weights_only=not f["file"].startswith("checkpoint"))
            if "state" in got and isinstance(got["state"], dict):
                got = got["state"]["model"]
            elif f["key"]:
                got = got[f["key"]]
        assert list(got.keys()) == list(sd.keys()), (p, list(got.keys()))
        for k in sd:
            assert got[k].dtype == sd[k].dtype and torch.equal(got[k], sd[k]), (p, k)


def write_dtypes_case(outdir):
    """One tensor per storage type, some non-contiguous, with the values PyTorch reads back."""
    os.makedirs(outdir)
    torch.manual_seed(208)
    t = collections.OrderedDict()
    t["float32"] = torch.randn(2, 3)
    t["float64"] = torch.randn(3, 2, dtype=torch.float64).t()
    t["float16"] = torch.tensor([0.5, -2.0, 65504.0, 6.0e-8, -0.0], dtype=torch.float16)
    t["bfloat16"] = torch.tensor([1.0, -3.5, 1.0e30, 1.0e-30], dtype=torch.bfloat16)
    t["int64"] = torch.tensor([0, -1, 2 ** 40, -(2 ** 50)], dtype=torch.int64)
    t["int32"] = torch.arange(12, dtype=torch.int32).reshape(3, 4).t()
    t["int16"] = torch.tensor([-32768, 32767, 5], dtype=torch.int16)
    t["int8"] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    t["uint8"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    t["bool"] = torch.tensor([[True, False], [False, True]])
    t["scalar"] = torch.tensor(3.25)
    t["empty"] = torch.zeros(0, 3)
    torch.save(t, os.path.join(outdir, "dtypes.pt"))
    back = torch.load(os.path.join(outdir, "dtypes.pt"), weights_only=True)
    expected = collections.OrderedDict()
    for k, v in back.items():
        assert torch.equal(v, t[k])
        expected[k] = collections.OrderedDict([
            ("dtype", str(v.dtype).replace("torch.", "")),
            ("shape", list(v.shape)),
            ("values", v.to(torch.float64).reshape(-1).tolist()),
        ])
    info = collections.OrderedDict([
        ("format_version", FORMAT_VERSION), ("name", "dtypes"), ("torch_version", torch.__version__), ("seed", 208),
        ("generator", GENERATOR), ("description", "one tensor per storage type; values as torch.load reads them"),
        ("tensors", expected),
    ])
    with open(os.path.join(outdir, "case.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")


class Payload:
    """Unpickling this calls `func(*args)`: the classic pickle exploit."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def with_pickle(src, dst, pkl):
    """A copy of a torch.save zip whose data.pkl is replaced."""
    zin = zipfile.ZipFile(src)
    top = zin.infolist()[0].filename.split("/")[0]
    zout = zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED)
    for info in zin.infolist():
        data = pkl if info.filename == top + "/data.pkl" else zin.read(info.filename)
        zout.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), data)
    zout.close()


def payload_runs(pkl):
    """True when Python's own unpickler, run in an empty temp dir, creates the marker file."""
    with tempfile.TemporaryDirectory() as d:
        cwd = os.getcwd()
        os.chdir(d)
        try:
            try:
                pickle.loads(pkl)
            except Exception:  # noqa: BLE001 - the payload ran even if unpickling fails afterwards
                pass
            return os.path.exists(os.path.join(d, PAYLOAD_MARKER))
        finally:
            os.chdir(cwd)


def write_refused(outdir, plain_dir):
    os.makedirs(outdir)
    files = []

    def add(name, kind, what):
        files.append(collections.OrderedDict([("file", name), ("kind", kind), ("what", what)]))

    p = lambda n: os.path.join(outdir, n)  # noqa: E731
    torch.manual_seed(209)
    net = Net()
    torch.save(net, p("whole_model.pt"))
    add("whole_model.pt", "whole_model", "torch.save(model) of a class defined in __main__")
    torch.save(nn.LSTM(3, 4), p("whole_lstm.pt"))
    add("whole_lstm.pt", "whole_model", "torch.save(nn.LSTM(3, 4))")
    torch.jit.save(torch.jit.script(nn.LSTM(3, 4)), p("torchscript.pt"))
    add("torchscript.pt", "torchscript", "torch.jit.save(torch.jit.script(nn.LSTM(3, 4)))")
    torch.save(nn.LSTM(3, 4).state_dict(), p("legacy.pt"), _use_new_zipfile_serialization=False)
    add("legacy.pt", "legacy", "state dict saved with _use_new_zipfile_serialization=False")
    torch.save(nn.LSTM(3, 4), p("legacy_model.pt"), _use_new_zipfile_serialization=False)
    add("legacy_model.pt", "legacy_model", "whole model saved with _use_new_zipfile_serialization=False")
    ckpt = {"model": nn.LSTM(3, 4).state_dict(), "rng": np.random.RandomState(0).get_state()}
    torch.save(ckpt, p("checkpoint_numpy.pt"))
    add("checkpoint_numpy.pt", "other_global", "checkpoint holding a NumPy array (numpy's global refused)")
    # malicious pickles: each creates PAYLOAD_MARKER in the working directory when unpickled by Python
    # (protocol 2 writes GLOBAL 'posix system', 3 'builtins eval', 4 STACK_GLOBAL 'subprocess' 'call')
    payloads = [
        ("malicious_os_system.pt", "os.system", Payload(os.system, ("touch " + PAYLOAD_MARKER,)), 2),
        ("malicious_eval.pt", "builtins.eval", Payload(eval, ("open(%r, 'w').close()" % PAYLOAD_MARKER,)), 3),
        ("malicious_subprocess.pt", "subprocess.call", Payload(subprocess.call, (["touch", PAYLOAD_MARKER],)), 4),
    ]
    state_dict_pt = os.path.join(plain_dir, "state_dict.pt")
    for name, what, obj, protocol in payloads:
        pkl = pickle.dumps(obj, protocol=protocol)
        assert payload_runs(pkl), name + ": the payload must really run under pickle.loads"
        with_pickle(state_dict_pt, p(name), pkl)
        try:
            torch.load(p(name), weights_only=True)
            raise AssertionError(name + ": torch's weights_only loader should refuse it")
        except pickle.UnpicklingError:
            pass
        add(name, "malicious", "data.pkl calls " + what + " to create " + PAYLOAD_MARKER)
    with open(p("refused.json"), "w") as f:
        json.dump(collections.OrderedDict([
            ("format_version", FORMAT_VERSION), ("torch_version", torch.__version__), ("generator", GENERATOR),
            ("payload_marker", PAYLOAD_MARKER), ("files", files)]), f, indent=2)
        f.write("\n")


def pickle_sample():
    """Plain Python values of the kinds a checkpoint holds, exercising most opcodes of each protocol."""
    shared = [1, 2]
    return collections.OrderedDict([
        ("int", 7), ("neg", -300), ("i32", 2 ** 31 - 1), ("i64", -(2 ** 63)), ("big", 2 ** 70), ("negbig", -(2 ** 65)),
        ("float", 0.1), ("tiny", 5e-324), ("huge", -1e300), ("str", "h\u00e9llo \u2603 \\ 'q' \"d\"\n"), ("empty_str", ""),
        ("true", True), ("false", False), ("none", None),
        ("list", [1, [2, [3, []]]]), ("tuple", (1, "a", (2.5,))), ("t2", (1, 2)), ("t3", (1, 2, 3)), ("t4", (1, 2, 3, 4)),
        ("nested", {"a": {"b": {"c": 1}}}), ("shared", shared), ("shared2", shared), ("empty", {}), ("empty_tuple", ()),
        ("od", collections.OrderedDict([("z", 1), ("a", 2)])),
        ("long_list", list(range(1100))), ("many", {"k%d" % i: i for i in range(1001)}),
    ])


def jsonable(v):
    """The sample as JSON: tuples become lists; ints beyond 64 bits become "int:<digits>"."""
    if isinstance(v, bool) or v is None or isinstance(v, (str, float)):
        return v
    if isinstance(v, int):
        return v if -(2 ** 63) <= v < 2 ** 63 else "int:%d" % v
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return collections.OrderedDict((k, jsonable(x)) for k, x in v.items())


def write_pickles(outdir):
    """The same plain-Python sample pickled with protocols 0 to 5, and what it must read as."""
    os.makedirs(outdir)
    sample = pickle_sample()
    for proto in range(6):
        data = pickle.dumps(sample, protocol=proto)
        assert pickle.loads(data) == sample
        with open(os.path.join(outdir, "protocol%d.pkl" % proto), "wb") as f:
            f.write(data)
    with open(os.path.join(outdir, "expected.json"), "w") as f:
        json.dump(collections.OrderedDict([("format_version", FORMAT_VERSION), ("generator", GENERATOR),
                                           ("python_pickle_protocols", list(range(6))), ("value", jsonable(sample))]),
                  f, ensure_ascii=False)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixtures directory (wiped and rewritten)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    wipe(args.out, marker="manifest.json")
    os.makedirs(args.out)
    for c in CASES:
        write_model_case(c, os.path.join(args.out, c["name"]))
        print("wrote", c["name"])
    write_dtypes_case(os.path.join(args.out, "dtypes"))
    print("wrote dtypes")
    write_refused(os.path.join(args.out, "refused"), os.path.join(args.out, "plain"))
    print("wrote refused")
    write_pickles(os.path.join(args.out, "pickles"))
    print("wrote pickles")
    with open(os.path.join(args.out, ".gitattributes"), "w") as f:
        f.write("# binary fixtures: never touch line endings\n*.pt binary\n*.pkl binary\n*.npz binary\n*.npy binary\n"
                "*.safetensors binary\n")
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(collections.OrderedDict([
            ("format_version", FORMAT_VERSION), ("torch_version", torch.__version__), ("generator", GENERATOR),
            ("cases", [c["name"] for c in CASES])]), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
