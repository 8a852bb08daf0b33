#!/usr/bin/python3
"""Differential check of lstm4j's readers against PyTorch and NumPy, on the cases of a fuzz run.

    mvn -pl core test -Dtest=StructuredFuzzTest -Dlstm4j.fuzz.dump=/tmp/fuzz -Dlstm4j.fuzz.seconds=60
    /usr/bin/python3 tools/pytorch/fuzz_differential.py /tmp/fuzz

StructuredFuzzTest writes every case and lstm4j's verdict to DIR (cases.jsonl). This script reads each
.pt case with torch.load(weights_only=True) and each .npz case with numpy.load(allow_pickle=False),
every array read, in a worker process with a time limit (a dict key of shared tuples can make Python
hash for ever: that counts as "refused" here). lstm4j reads a file when its outcome is "model", "read"
or "read, then ModelException" (the file is fine, the model in it is not); it refuses it on a
FileFormatException. A case disagrees when one reads what the other refuses, unless lstm4j's message
names one of its documented stricter rules (DELIBERATE). safetensors cases are skipped: the reference
is the Rust crate, whose rules the fuzzer's own oracle encodes. Exits 1 on any disagreement.
"""
import json
import multiprocessing as mp
import os
import sys

TIMEOUT_S = 20

# lstm4j refuses these although the reference reads them, on purpose (docs/formats.md)
DELIBERATE = {
    "names storage": "a storage named with two dtypes (torch.load silently reads both as the first)",
    "nested deeper than": "dict keys nested deeper than 32 tuples",
    "(maxBytes)": "over the run's byte budget",
    "(NumPy would take the last one)": "an .npy header with a key twice",
    "at most 2 GiB": "a tensor over 2 GiB",
    "is larger than 2^31 - 1": "a tensor of 2^31 elements or more",
    "more than one tensor can hold here": "a tensor of 2^31 elements or more",
    "over twice what their storages hold": "views expanding past twice their storages",
    "is not supported; expected float16/32/64": "an .npy dtype lstm4j does not read (void, complex, bfloat16 as V2)",
    "declares": "a zip entry whose declared sizes are forged",
}

# the reference refuses these although lstm4j reads them; no disagreement on what the file means
REFERENCE_LIMITS = {
    "Unsupported operand": "torch's weights_only unpickler lacks an opcode plain pickle reads the same way",
    "timeout after": "Python did not finish (it hashes a key of shared tuples 2^depth times)",
}


def _worker(conn):
    import numpy
    import torch
    conn.send(("ready", ""))
    while True:
        kind, path = conn.recv()
        try:
            if kind == ".pt":
                torch.load(path, map_location="cpu", weights_only=True)
            else:
                with numpy.load(path, allow_pickle=False) as z:
                    for k in z.files:
                        z[k]
            conn.send(("read", ""))
        except BaseException as e:  # noqa: BLE001 - any refusal is a verdict
            conn.send(("refused", (type(e).__name__ + ": " + str(e))[:200]))


class Reference:
    def __init__(self):
        self._start()

    def _start(self):
        self.parent, child = mp.Pipe()
        self.proc = mp.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()
        self.parent.recv()  # imports done: the time limit is for reading only

    def read(self, kind, path):
        self.parent.send((kind, path))
        if self.parent.poll(TIMEOUT_S):
            return self.parent.recv()
        self.proc.kill()
        self.proc.join()
        self._start()
        return ("refused", "timeout after %d s" % TIMEOUT_S)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = sys.argv[1]
    with open(os.path.join(folder, "cases.jsonl"), encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    ref = Reference()
    counts = {}
    disagreements = []
    deliberate = {}
    for c in cases:
        kind = os.path.splitext(c["file"])[1]
        if kind not in (".pt", ".npz"):
            counts["skipped " + kind] = counts.get("skipped " + kind, 0) + 1
            continue
        ours = "read" if c["outcome"] in ("model", "read") or c["outcome"].startswith("read, then") else "refused"
        theirs, why = ref.read(kind, os.path.join(folder, c["file"]))
        key = "%s lstm4j %s, reference %s" % (kind, ours, theirs)
        counts[key] = counts.get(key, 0) + 1
        if ours == theirs:
            continue
        rule = next((v for k, v in DELIBERATE.items() if k in c["message"]), None)
        if ours == "refused" and rule is not None:
            deliberate[rule] = deliberate.get(rule, 0) + 1
            continue
        limit = next((v for k, v in REFERENCE_LIMITS.items() if k in why), None)
        if ours == "read" and limit is not None:
            deliberate["reference: " + limit] = deliberate.get("reference: " + limit, 0) + 1
            continue
        disagreements.append("%s: lstm4j %s (%s), reference %s (%s) [%s]" % (
            c["file"], ours, c["message"][:160], theirs, why[:160], c["what"][:200]))
    print("fuzz_differential: %d cases from %s" % (len(cases), folder))
    for k in sorted(counts):
        print("  %5d  %s" % (counts[k], k))
    for k, v in sorted(deliberate.items()):
        print("  %5d  %s" % (v, k if k.startswith("reference: ") else "refused by lstm4j on purpose: " + k))
    for d in disagreements[:20]:
        print("DISAGREE " + d)
    print("fuzz_differential: %d disagreements" % len(disagreements))
    sys.exit(1 if disagreements else 0)


if __name__ == "__main__":
    main()
