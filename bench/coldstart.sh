#!/usr/bin/env bash
# Cold starts: `bin/lstm4j run` on W3 and W4 (a fresh JVM each time) against Debian's PyTorch doing the same in a
# fresh python3 (bench/torch_run.py: load the safetensors, one forward pass, write the three .npy results). Each cold
# run is repeated RUNS times (default 7), alternating the engines, and the median wall time is printed. lstm4j runs
# at the default thread count, with the CDS archive bin/lstm4j makes next to the jar (its first run, untimed here,
# writes it), and once more without it (LSTM4J_CDS=0). Debian's PyTorch runs as users run it: OpenBLAS's default
# threads.
#
# Needs the models of bench/make_models.py in bench/target/models (bench/compare.sh writes them) and Debian's
# python3-torch and libopenblas0-pthread.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="${MODELS:-$root/bench/target/models}"
runs="${RUNS:-7}"
py=/usr/bin/python3
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
[ -f "$models/W3/model.safetensors" ] || { echo "coldstart.sh: run $py bench/make_models.py --out $models first" >&2; exit 1; }

"$root/bin/lstm4j" run --weights "$models/W3/model.safetensors" --input "$models/W3/input.npy" --out "$tmp/warm" >/dev/null 2>&1  # builds the jar and the CDS archive

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "coldstart.sh: failed: $*" >&2; exit 1; }; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(java -version 2>&1 | head -1); torch $($py -c 'import torch; print(torch.__version__)' 2>/dev/null); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| workload | lstm4j run (CDS) | lstm4j run (no CDS) | python3 + torch | lstm4j / torch |"
echo "|---|---|---|---|---|"
for w in W3 W4; do
  m="$models/$w"
  : > "$tmp/a"; : > "$tmp/b"; : > "$tmp/c"
  for _ in $(seq "$runs"); do
    ms "$root/bin/lstm4j" run --weights "$m/model.safetensors" --input "$m/input.npy" --out "$tmp/j" --force >> "$tmp/a"
    LSTM4J_CDS=0 ms "$root/bin/lstm4j" run --weights "$m/model.safetensors" --input "$m/input.npy" --out "$tmp/j" --force >> "$tmp/b"
    ms $py "$root/bench/torch_run.py" "$m" "$tmp/t" >> "$tmp/c"
  done
  a=$(median < "$tmp/a"); b=$(median < "$tmp/b"); c=$(median < "$tmp/c")
  echo "| $w | $a ms | $b ms | $c ms | $(awk -v a="$a" -v c="$c" 'BEGIN {printf "%.2f", a / c}') |"
done
echo
echo "median of $runs cold runs each, wall time of the whole process (date +%s%N around it)"
