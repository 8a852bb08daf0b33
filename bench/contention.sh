#!/usr/bin/env bash
# Issue 12's "no collapse" benchmark: the public API at 2 threads against 1 thread (dev.lstm4j.bench.Contention) on
# W2..W5 and a batch-1 sweep, (a) with the JVM pinned to one CPU (taskset -c 0), (b) on all CPUs with a busy loop
# pinned to the last CPU, (c) pinned to CPU 0 together with a busy loop on CPU 0, (d) on a quiet machine. Target: 2 threads
# never slower than 1.1x the 1-thread time. Needs the bench module built (bench/compare.sh builds it, or
# mvn -Pbench -DskipTests package -pl bench -am). Takes about 4 minutes per scenario; ROUND_MS shortens it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cp="$root/bench/target/classes:$(cat "$root/bench/target/classpath.txt")"
java=(java -Xss2m --add-modules jdk.incubator.vector -cp "$cp" dev.lstm4j.bench.Contention)
round="${ROUND_MS:-300}"
last=$(( $(nproc) - 1 ))
busy_pid=""
stop_busy() { if [ -n "$busy_pid" ]; then kill "$busy_pid" 2>/dev/null || true; wait "$busy_pid" 2>/dev/null || true; busy_pid=""; fi; }
trap stop_busy EXIT
busy() { taskset -c "$1" bash -c 'while :; do :; done' & busy_pid=$!; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(java -version 2>&1 | head -1); $(date -u +%Y-%m-%dT%H:%MZ)"
for scenario in ${SCENARIOS:-pinned busy-beside busy-same quiet}; do
  case "$scenario" in
    pinned)       taskset -c 0 "${java[@]}" "JVM pinned to CPU 0 (taskset -c 0)" "$round" "${CASES:-.*}" 2>/dev/null ;;
    busy-beside)  busy "$last"; "${java[@]}" "JVM on CPUs 0-$last, busy loop pinned to CPU $last" "$round" "${CASES:-.*}" 2>/dev/null; stop_busy ;;
    busy-same)    busy 0; taskset -c 0 "${java[@]}" "JVM pinned to CPU 0 with a busy loop on CPU 0" "$round" "${CASES:-.*}" 2>/dev/null; stop_busy ;;
    quiet)        "${java[@]}" "JVM on CPUs 0-$last, no other load started" "$round" "${CASES:-.*}" 2>/dev/null ;;
  esac
done
