#!/usr/bin/env bash
# One training step (forward, MSE on the head's last step, backward, Adam) at I=64, H=256, T=100, B=32, float32:
# lstm4j's fast path (bench/src/main/java/dev/lstm4j/bench/TrainStepMain.java: steady steps after a warm-up, one JVM per
# case) against Debian's PyTorch on OpenBLAS (tools/pytorch/bench_train_step.py), at 1 and 2 threads and 1 and 2
# layers, in one run. Prints both lines of each case and the ratios PyTorch / lstm4j of the median wall-clock and of
# the median process CPU time per step (above 1: lstm4j is faster), with the load average before each case.
#
#   mvn -o -B -Pbench -DskipTests package -pl bench -am    # first
#   bench/train_compare.sh
#   WARMUP=60 STEPS=30 bench/train_compare.sh              # longer, steadier
#   OMP_WAIT_POLICY=PASSIVE bench/train_compare.sh         # PyTorch's OpenMP threads sleep instead of spinning (a
#                                                          # spinning barrier collapses when the CPUs are shared)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py=/usr/bin/python3
warmup="${WARMUP:-40}"
steps="${STEPS:-20}"
[ -f "$root/bench/target/classpath.txt" ] || { echo "train_compare.sh: build first: mvn -o -B -Pbench -DskipTests package -pl bench -am" >&2; exit 1; }
$py -c 'import torch' 2>/dev/null || { echo "train_compare.sh: needs Debian's python3-torch (apt-get install -y python3-torch)" >&2; exit 1; }
cp="$root/bench/target/classes:$(cat "$root/bench/target/classpath.txt")"
# OpenBLAS picks its kernels by CPU; under a hypervisor it can guess wrong, so name the core type (as bench/compare.sh)
if grep -qw avx512f /proc/cpuinfo; then coretype=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then coretype=Haswell; else coretype=""; fi
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-$coretype}"

medians() {  # "wall cpu" from a line "... step median W ms (min M), CPU time median C ms ..."
  sed -E 's/.*step median ([0-9.]+) ms.*CPU time median ([0-9.]+) ms.*/\1 \2/'
}

echo "train_compare: $(date -u +%FT%TZ), $(nproc) CPUs, $(java -version 2>&1 | head -1), OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-default}"
printf '%-8s %-7s %-10s %-10s %-10s %-10s %-11s %-10s %s\n' threads layers lstm4j_ms torch_ms lstm4j_cpu torch_cpu ratio_wall ratio_cpu load_before
for threads in 1 2; do
  for layers in 1 2; do
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    j="$(java --add-modules jdk.incubator.vector -Xmx2g "-Dlstm4j.threads=$threads" -cp "$cp" dev.lstm4j.bench.TrainStepMain \
        "$layers" "$warmup" "$steps" fast 2>/dev/null)"
    p="$(OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads $py "$root/tools/pytorch/bench_train_step.py" \
        --threads "$threads" --layers "$layers" --warmup 5 --repeats "$steps" 2>/dev/null)"
    echo "  $j" >&2
    echo "  $p" >&2
    read -r jw jc <<<"$(echo "$j" | medians)"
    read -r pw pc <<<"$(echo "$p" | medians)"
    printf '%-8s %-7s %-10s %-10s %-10s %-10s %-11s %-10s %s\n' "$threads" "$layers" "$jw" "$pw" "$jc" "$pc" \
      "$(awk -v a="$pw" -v b="$jw" 'BEGIN { printf "%.2fx", a / b }')" \
      "$(awk -v a="$pc" -v b="$jc" 'BEGIN { printf "%.2fx", a / b }')" "$load"
  done
done
