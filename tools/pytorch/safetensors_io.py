#!/usr/bin/python3
"""Minimal safetensors writer/reader (no dependency on the `safetensors` package).

Format: 8-byte little-endian u64 header length N, then N bytes of UTF-8 JSON
header {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
"__metadata__": {str: str}}, offsets relative to the first byte after the
header; tensor bytes little-endian, row-major. The header is padded with
spaces to a multiple of 8 bytes.
"""
import json
import struct

import numpy as np
import torch

DTYPES = {
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float32: "F32",
    torch.float64: "F64",
}

_NP_READ = {"F16": "<f2", "F32": "<f4", "F64": "<f8"}


def tensor_bytes(t, dtype_name):
    """Little-endian row-major bytes of tensor `t` converted to `dtype_name`."""
    t = t.detach().cpu().contiguous()
    if dtype_name == "F32":
        return t.to(torch.float32).numpy().astype("<f4").tobytes()
    if dtype_name == "F64":
        return t.to(torch.float64).numpy().astype("<f8").tobytes()
    if dtype_name == "F16":
        return t.to(torch.float16).numpy().astype("<f2").tobytes()
    if dtype_name == "BF16":
        return t.to(torch.bfloat16).contiguous().view(torch.int16).numpy().astype("<i2").tobytes()
    raise ValueError("unsupported dtype " + dtype_name)


def write_safetensors(path, tensors, dtype_name, metadata=None, data_order=None, metadata_first=False):
    """Write `tensors` (ordered dict name -> torch tensor) as `dtype_name`.

    The header lists tensors in the given order; tensor data is packed in
    `data_order` (default: the same order). A different data order is still a
    valid file, since each tensor's offsets are explicit.
    """
    names = list(tensors.keys())
    order = list(data_order) if data_order is not None else names
    assert sorted(order) == sorted(names)
    blobs = {}
    offsets = {}
    pos = 0
    for name in order:
        b = tensor_bytes(tensors[name], dtype_name)
        blobs[name] = b
        offsets[name] = [pos, pos + len(b)]
        pos += len(b)
    header = {}
    if metadata is not None and metadata_first:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in names:
        header[name] = {
            "dtype": dtype_name,
            "shape": list(tensors[name].shape),
            "data_offsets": offsets[name],
        }
    if metadata is not None and not metadata_first:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for name in order:
            f.write(blobs[name])


def read_safetensors(path):
    """Read a safetensors file into (dict name -> float32/float64 torch tensor, dtype names, metadata)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    meta = header.pop("__metadata__", None)
    out = {}
    dtypes = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        raw = body[b:e]
        dt = info["dtype"]
        if dt == "BF16":
            i16 = np.frombuffer(raw, dtype="<i2").copy()
            t = torch.from_numpy(i16).view(torch.bfloat16).to(torch.float32)
        else:
            t = torch.from_numpy(np.frombuffer(raw, dtype=_NP_READ[dt]).copy())
            if dt == "F16":
                t = t.to(torch.float32)
        out[name] = t.reshape(info["shape"])
        dtypes[name] = dt
    return out, dtypes, meta
