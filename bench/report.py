#!/usr/bin/python3
"""Prints bench/compare.sh's table from its results: JMH's JSON (lstm4j, ONNX Runtime, DJL), Debian PyTorch's
JSON lines and the sgemm rate. Ratio = the peer's time / lstm4j's time (above 1: lstm4j is faster).

  /usr/bin/python3 bench/report.py bench/target/compare
"""
import json
import os
import sys

# workload: (peer, required speed-up of lstm4j over it) from issue 5's targets
TARGETS = {"W1": ("onnxruntime", 20.0), "W2": ("onnxruntime", 6.0), "W3": ("onnxruntime", 1.25),
           "W4": ("onnxruntime+djl", 1.0), "W5": ("djl", 1.2)}
LABELS = {"W1": "seed I2 H3 T3 B1", "W2": "stream I32 H128 step", "W3": "sequence I64 H256 L2 T100",
          "W4": "throughput I128 H512 T100 B64", "W5": "bidir-proj I80 H256 L3 P128 T200 B8"}
ENGINES = ["lstm4j", "lstm4j API", "onnxruntime", "djl", "pytorch-debian"]
# issue 12: the public API (ApiBench) against the engine's array API (Lstm4jBench) at the same threads
API_LIMITS = {"W1": 1.3, "W2": 1.1, "W3": 1.05, "W4": 1.05, "W5": 1.05}


# issue 12's large sizes (bench/make_models.py L1..L5) and the threads at which lstm4j must at least match ONNX Runtime
LARGE = {"L1": ("H2048 B1 I64 T50", (1, 2)), "L2": ("H1024 B64 I64 T50", (1,)), "L3": ("H2048 B64 I64 T25", (1,)),
         "L4": ("H512 B8 I64 T100", (2,)), "L5": ("H1024 B8 I64 T100", (2,))}


def flops(w):
    cfg = {"W1": (2, 3, 1, 1, 0, 3, 1), "W2": (32, 128, 1, 1, 0, 1, 1), "W3": (64, 256, 2, 1, 0, 100, 1),
           "W4": (128, 512, 1, 1, 0, 100, 64), "W5": (80, 256, 3, 2, 128, 200, 8),
           "L1": (64, 2048, 1, 1, 0, 50, 1), "L2": (64, 1024, 1, 1, 0, 50, 64), "L3": (64, 2048, 1, 1, 0, 25, 64),
           "L4": (64, 512, 1, 1, 0, 100, 8), "L5": (64, 1024, 1, 1, 0, 100, 8)}[w]
    i, h, layers, d, p, t, b = cfg
    hh = p or h
    total = 0
    for l in range(layers):
        inl = i if l == 0 else d * hh
        cell = 2 * 4 * h * (inl + hh) + (2 * h * p if p else 0)
        total += d * cell
    return total * t * b


def main():
    out = sys.argv[1]
    times, alloc, sgemm = {}, {}, {}
    engine_of = {"Lstm4jBench": "lstm4j", "ApiBench": "lstm4j API", "OnnxBench": "onnxruntime", "DjlBench": "djl"}
    results = json.load(open(os.path.join(out, "jmh.json")))
    if os.path.exists(os.path.join(out, "jmh-large.json")):
        results += json.load(open(os.path.join(out, "jmh-large.json")))
    for r in results:
        eng = engine_of[r["benchmark"].split(".")[-2]]
        th = r["params"]["threads"]
        key = (eng, r["params"]["workload"], os.cpu_count() if th == "default" else int(th))
        times[key] = (r["primaryMetric"]["score"], r["primaryMetric"]["scoreError"])
        sec = r.get("secondaryMetrics", {}).get("·gc.alloc.rate.norm") or r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
        if sec is not None:
            alloc[key] = sec["score"]
    for line in open(os.path.join(out, "torch.jsonl")):
        r = json.loads(line)
        if r["engine"] == "sgemm":
            sgemm[r["threads"]] = r["gflops"]
        else:
            times[("pytorch-debian", r["workload"], r["threads"])] = (r["us"], (r["us_max"] - r["us_min"]) / 2)

    def fmt(us):
        return "%.3g µs" % us if us < 1000 else ("%.3g ms" % (us / 1000) if us < 1e6 else "%.3g s" % (us / 1e6))

    print("| workload | threads | " + " | ".join(ENGINES) + " | lstm4j GFLOP/s (sgemm) | lstm4j alloc/op | speed-up vs ORT | vs DJL | vs Debian torch | target |")
    print("|---|---|" + "---|" * len(ENGINES) + "---|---|---|---|---|---|")
    for w in ["W1", "W2", "W3", "W4", "W5"]:
        for th in (1, 2):
            row = ["%s %s" % (w, LABELS[w]), str(th)]
            for e in ENGINES:
                t = times.get((e, w, th))
                row.append(fmt(t[0]) + (" ±%.0f%%" % (100 * t[1] / t[0]) if t[1] == t[1] else "") if t else "n/a")
            ours = times.get(("lstm4j", w, th))
            if ours:
                row.append("%.1f (%.0f)" % (flops(w) / (ours[0] * 1e-6) / 1e9, sgemm.get(th, float("nan"))))
            else:
                row.append("n/a")
            a = alloc.get(("lstm4j", w, th))
            row.append("%.0f B" % a if a is not None else "n/a")
            verdicts = []
            for e in ["onnxruntime", "djl", "pytorch-debian"]:
                p = times.get((e, w, th))
                if ours and p:
                    row.append("%.2f×" % (p[0] / ours[0]))
                else:
                    row.append("n/a")
            peer, need = TARGETS[w]
            got = [times[(e, w, th)][0] / ours[0] for e in peer.split("+") if ours and (e, w, th) in times]
            if got:
                ok = min(got) >= need
                verdicts.append("≥%.3g× vs %s: %s" % (need, peer, "met" if ok else "MISSED (%.2f×)" % min(got)))
            row.append("; ".join(verdicts) or "n/a")
            print("| " + " | ".join(row) + " |")
    print()
    print("The public API (LstmModel.forward; W2 an LstmSession step) against the engine's array API with a reused workspace:")
    print()
    print("| workload | threads | engine | public API | API / engine | limit |")
    print("|---|---|---|---|---|---|")
    for w in ["W1", "W2", "W3", "W4", "W5"]:
        for th in sorted({1, os.cpu_count()}):
            e, a = times.get(("lstm4j", w, th)), times.get(("lstm4j API", w, th))
            if e and a:
                r = a[0] / e[0]
                print("| %s | %d | %s | %s | %.2f× | ≤ %.2f×: %s |" % (w, th, fmt(e[0]), fmt(a[0]), r, API_LIMITS[w],
                                                                 "met" if r <= API_LIMITS[w] else "MISSED"))
    if any(k[1] in LARGE for k in times):
        print()
        print("Large sizes (issue 12): the public API against ONNX Runtime; target: at least parity where marked.")
        print()
        print("| workload | threads | lstm4j API | lstm4j engine | onnxruntime | pytorch-debian | lstm4j GFLOP/s | ORT / API | target |")
        print("|---|---|---|---|---|---|---|---|---|")
        for w, (label, must) in LARGE.items():
            for th in (1, 2):
                api = times.get(("lstm4j API", w, th))
                cells = [fmt(times[(e, w, th)][0]) if (e, w, th) in times else "n/a"
                         for e in ("lstm4j API", "lstm4j", "onnxruntime", "pytorch-debian")]
                ort = times.get(("onnxruntime", w, th))
                ratio = ort[0] / api[0] if api and ort else None
                gf = "%.1f" % (flops(w) / (api[0] * 1e-6) / 1e9) if api else "n/a"
                verdict = ("≥ 1× ORT: " + ("met" if ratio is not None and ratio >= 1 else "MISSED")) if th in must else "—"
                print("| %s %s | %d | %s | %s | %s | %s |" % (w, label, th, " | ".join(cells), gf,
                                                        "%.2f×" % ratio if ratio is not None else "n/a", verdict))
    print()
    print("sgemm (numpy, OpenBLAS pthread, 2048²): " + ", ".join("%d thread(s) %.0f GFLOP/s" % (k, v) for k, v in sorted(sgemm.items())))


if __name__ == "__main__":
    main()
