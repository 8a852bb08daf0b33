#!/usr/bin/env bash
# Runs lstm4j and the engines a Java user would pick instead -- ONNX Runtime Java, PyTorch through DJL (offline,
# pytorch-native-cpu jar), Debian's PyTorch on OpenBLAS -- on workloads W1..W5 (float32), with the same weights and
# inputs and with 1 and 2 threads, in one run. Checks first that every engine's outputs agree with lstm4j's, then
# times each with JMH (Python's timer for Debian's PyTorch), and prints a table of times and ratios.
#
# Needs Debian's python3-torch, python3-onnx and libopenblas0-pthread (installed with apt-get when missing and run as
# root), and Maven Central for
# the first build (-Pbench brings ONNX Runtime, DJL and ~110 MB of PyTorch natives; DJL unpacks ~430 MB to
# ~/.djl.ai on first use). Also runs bench/contention.sh (2 threads on a pinned or busy CPU), SessionBench (streaming)
# and bench/coldstart.sh (cold runs against Debian's PyTorch). Takes about 40 minutes. Results: bench/target/compare/.
#
#   bench/compare.sh                    # everything
#   JMH_ARGS="-wi 1 -i 2" bench/compare.sh   # shorter, noisier
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/bench/target/compare"
models="$root/bench/target/models"
mkdir -p "$out"
py=/usr/bin/python3

# Debian packages: installed when missing and we are root (a fresh machine), else named
need=()
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need+=(libopenblas0-pthread)  # Debian's torch is 20-30x slower on the reference BLAS
$py -c 'import torch' 2>/dev/null || need+=(python3-torch python3-numpy)
$py -c 'import onnx' 2>/dev/null || need+=(python3-onnx)                      # torch.onnx.export needs it
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== apt-get install -y ${need[*]}" >&2
    apt-get install -y "${need[@]}" >&2 || { apt-get update >&2 && apt-get install -y "${need[@]}" >&2; } \
      || { echo "compare.sh: could not install ${need[*]}; install them and run again" >&2; exit 1; }
  else
    echo "compare.sh: needs Debian's ${need[*]} (apt-get install -y ${need[*]})" >&2; exit 1
  fi
fi
# OpenBLAS picks its kernels by CPU; under a hypervisor it can guess wrong, so name the core type: SkylakeX (AVX-512)
# or Haswell (AVX2), as the CPU flags say
if grep -qw avx512f /proc/cpuinfo; then coretype=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then coretype=Haswell; else coretype=""; fi
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-$coretype}"

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
"${java[@]}" org.openjdk.jmh.Main 'dev.lstm4j.bench.(Lstm4jBench|ApiBench|OnnxBench|DjlBench)' -prof gc -rf json -rff "$out/jmh.json" \
    ${JMH_ARGS:-} > "$out/jmh.log" 2>&1 || { tail -40 "$out/jmh.log" >&2; exit 1; }

echo "== JMH: the large sizes (L1..L5), lstm4j and ONNX Runtime" >&2
# shellcheck disable=SC2086
"${java[@]}" org.openjdk.jmh.Main 'dev.lstm4j.bench.(Lstm4jBench|ApiBench|OnnxBench)' -p workload=L1,L2,L3,L4,L5 \
    -rf json -rff "$out/jmh-large.json" ${JMH_ARGS:-} > "$out/jmh-large.log" 2>&1 || { tail -40 "$out/jmh-large.log" >&2; exit 1; }

"${java[@]}" dev.lstm4j.bench.MachineProbe "after JMH" >> "$out/probe.txt" 2>/dev/null
echo "== Debian PyTorch" >&2
: > "$out/torch.jsonl"
for t in 1 2; do
  OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=1 $py "$root/bench/torch_bench.py" --models "$models" --threads $t 2>/dev/null >> "$out/torch.jsonl"
done

echo "== no collapse: 2 threads against 1 on a pinned or busy CPU (bench/contention.sh)" >&2
"$root/bench/contention.sh" > "$out/contention.md"
echo "== streaming session (SessionBench)" >&2
"${java[@]}" dev.lstm4j.bench.SessionBench 2>/dev/null > "$out/session.md"
echo "== cold starts (bench/coldstart.sh)" >&2
MODELS="$models" "$root/bench/coldstart.sh" > "$out/coldstart.md"

{
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(java -version 2>&1 | head -1); $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (timings on a shared machine move with it)"
  echo
  $py "$root/bench/report.py" "$out"
  echo
  echo "roofline: one core's FMA peak (MachineProbe, Java) against OpenBLAS sgemm with OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto}"
  cat "$out/probe.txt"
  cat "$out/contention.md" "$out/session.md"
  echo
  cat "$out/coldstart.md"
} | tee "$out/table.md"
