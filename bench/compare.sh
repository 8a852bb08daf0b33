#!/usr/bin/env bash
# Runs lstm4j and the engines a Java user would pick instead -- ONNX Runtime Java, PyTorch through DJL (offline,
# pytorch-native-cpu jar), Debian's PyTorch on OpenBLAS -- on workloads W1..W5 (float32), with the same weights and
# inputs and with 1 and 2 threads, in one run. Checks first that every engine's outputs agree with lstm4j's, then
# times each with JMH (Python's timer for Debian's PyTorch), and prints a table of times and ratios.
#
# Needs Debian's python3-torch, python3-onnx and libopenblas0-pthread (apt-get install), and Maven Central for
# the first build (-Pbench brings ONNX Runtime, DJL and ~110 MB of PyTorch natives; DJL unpacks ~430 MB to
# ~/.djl.ai on first use). Takes about 10 minutes. Results: bench/target/compare/.
#
#   bench/compare.sh                    # everything
#   JMH_ARGS="-wi 1 -i 2" bench/compare.sh   # shorter, noisier
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/bench/target/compare"
models="$root/bench/target/models"
mkdir -p "$out"
py=/usr/bin/python3

dpkg -s libopenblas0-pthread >/dev/null 2>&1 || { echo "compare.sh: install libopenblas0-pthread first (Debian's torch is 20-30x slower on the reference BLAS)" >&2; exit 1; }
$py -c 'import torch, onnx' 2>/dev/null || { echo "compare.sh: needs Debian's python3-torch and python3-onnx for $py" >&2; exit 1; }

echo "== build (mvn -Pbench package)" >&2
(cd "$root" && mvn -q -B -Pbench -DskipTests package -pl bench -am) >&2
echo "== models: $py bench/make_models.py (same weights for every engine)" >&2
$py "$root/bench/make_models.py" --out "$models" 2>/dev/null >&2

cp="$root/bench/target/classes:$(cat "$root/bench/target/classpath.txt")"
# -Xss2m: ONNX Runtime 1.29 crashed creating its environment with a long class path on the default stack
java=(java -Xss2m --add-modules jdk.incubator.vector -Dai.djl.offline=true "-Dlstm4j.bench.models=$models" -cp "$cp")

echo "== agreement" >&2
"${java[@]}" dev.lstm4j.bench.Agreement 2>/dev/null | tee "$out/agreement.txt"

"${java[@]}" dev.lstm4j.bench.MachineProbe "before JMH" > "$out/probe.txt" 2>/dev/null
echo "== JMH: lstm4j (with -prof gc), ONNX Runtime, DJL" >&2
# shellcheck disable=SC2086
"${java[@]}" org.openjdk.jmh.Main 'dev.lstm4j.bench.(Lstm4jBench|OnnxBench|DjlBench)' -prof gc -rf json -rff "$out/jmh.json" \
    ${JMH_ARGS:-} > "$out/jmh.log" 2>&1 || { tail -40 "$out/jmh.log" >&2; exit 1; }

"${java[@]}" dev.lstm4j.bench.MachineProbe "after JMH" >> "$out/probe.txt" 2>/dev/null
echo "== Debian PyTorch" >&2
: > "$out/torch.jsonl"
for t in 1 2; do
  OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=1 $py "$root/bench/torch_bench.py" --models "$models" --threads $t 2>/dev/null >> "$out/torch.jsonl"
done

{
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(java -version 2>&1 | head -1); $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  $py "$root/bench/report.py" "$out"
  echo
  cat "$out/probe.txt"
} | tee "$out/table.md"
