#!/bin/sh
# Log throughput benchmark: MB/s from a container writing to stdout into its
# log file, berth's log writer (agent/logs) against podman with conmon
# (k8s-file driver), side by side, BENCH_RUNS runs each, alternating. Target
# (issue 4): berth >= 2x podman, no line lost.
#
# Both sides run the same busybox container (hack/mkbundle) that cats a
# 4 MB file of lines (/lines.txt) BENCH_MB/4 times to stdout (busybox
# `yes | head` tops out near 130 MB/s and would measure itself), and are timed from start to exit, container start included:
#   podman: podman run --rm --runtime runc --rootfs ROOTFS --log-driver k8s-file
#           (-a stderr: stdout goes to the log only, not to the terminal)
#   berth:  runc run -b BUNDLE | logs_bench write DIR   (the shim is not
#           written yet: runc hands the container's stdout pipe to the writer,
#           which pumps it the way berth-shim will: LogWriter::pump, one
#           read of up to 1 MiB -> one writev)
# Two line shapes: 2-byte lines (`yes`, the worst case for per-line
# formats) and 100-byte lines. Lines are then counted in both logs.
# Then `logs_bench read` gives the reader's MB/s over the berth log.
#
# logs_bench is built here, not by CMake: a gtest-free main compiled with
# the agent/logs sources and runtime/sys/result.cc (c++ -O2), as unpack.sh does.
#
# Usage: hack/bench/logs.sh            (root; runc, podman, busybox-static)
# Env:   BENCH_RUNS (3), BENCH_MB (400, a multiple of 4), BENCH_NO_PODMAN=1 (berth only)
set -eu

die() { echo "logs-bench: $*" >&2; exit 1; }

src=$(cd "$(dirname "$0")/../.." && pwd)
runs=${BENCH_RUNS:-3}
mb=${BENCH_MB:-400}
case $runs in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive number, not '$runs'" ;; esac
case $mb in ''|*[!0-9]*|0) die "BENCH_MB must be a positive multiple of 4, not '$mb'" ;; esac
[ $((mb % 4)) = 0 ] || die "BENCH_MB must be a multiple of 4, not '$mb'"
bytes=$((mb * 1000000))
reps=$((mb / 4))
producer="i=0; while [ \$i -lt $reps ]; do cat /lines.txt; i=\$((i + 1)); done"
[ "$(id -u)" = 0 ] || die "run as root (containers)"
command -v runc >/dev/null || die "runc not found"
command -v c++ >/dev/null || die "c++ not found (build-essential)"
podman=yes
[ "${BENCH_NO_PODMAN:-}" = 1 ] && podman=no
[ $podman = yes ] && { command -v podman >/dev/null || die "podman not found (or BENCH_NO_PODMAN=1)"; }

work=$(mktemp -d /var/tmp/berth-logs-bench.XXXXXX)
cleanup() { runc delete -f "berth-logs-bench-$$" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

c++ -std=c++20 -O2 -D_GNU_SOURCE -I"$src" "$src/hack/bench/logs_bench.cc" "$src"/agent/logs/*.cc \
  "$src/runtime/sys/result.cc" -o "$work/logs_bench" || die "building logs_bench failed"

now_ns() { date +%s%N; }
mbps() { awk "BEGIN {printf \"%.1f\", $1 / 1e6 / ($2 / 1e9)}"; }
median() { sort -n | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }

run_berth() {  # $1 = line; prints MB/s, checks the line count
  rm -rf "$work/berth"
  mkdir -p "$work/berth"
  t0=$(now_ns)
  runc run -b "$work/bundle" "berth-logs-bench-$$" </dev/null \
    | "$work/logs_bench" write "$work/berth" --max-size 256M --max-files 8 >"$work/write.txt"
  t1=$(now_ns)
  lines=$("$work/logs_bench" read "$work/berth" | awk '{print $8}')
  [ "$lines" = $((bytes / (${#1} + 1))) ] || die "berth log has $lines lines, want $((bytes / (${#1} + 1)))"
  mbps "$bytes" $((t1 - t0))
}

run_podman() {  # $1 = line
  rm -f "$work/podman.log"
  t0=$(now_ns)
  podman run --rm --runtime runc -a stderr --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    --log-driver k8s-file --log-opt path="$work/podman.log" --rootfs "$work/bundle/rootfs" \
    sh -c "$producer" >/dev/null || die "podman run failed"
  t1=$(now_ns)
  # Complete lines only: conmon writes a line it read in pieces as P
  # records followed by an F record.
  lines=$(awk '$3 == "F"' "$work/podman.log" | wc -l)
  [ "$lines" = $((bytes / (${#1} + 1))) ] || die "podman log has $lines lines, want $((bytes / (${#1} + 1)))"
  mbps "$bytes" $((t1 - t0))
}

line100=$(printf '%099d' 0 | tr 0 x)
echo "logs: container stdout -> log file, $bytes bytes, $runs runs each, median MB/s"
for shape in 2 100; do
  if [ $shape = 2 ]; then line=y; else line=$line100; fi
  "$src/hack/mkbundle" "$work/bundle" -- sh -c "$producer" >/dev/null
  yes "$line" | head -c 4000000 >"$work/bundle/rootfs/lines.txt"
  : >"$work/b.txt"; : >"$work/p.txt"
  i=1
  while [ $i -le "$runs" ]; do
    run_berth "$line" >>"$work/b.txt"
    [ $podman = yes ] && run_podman "$line" >>"$work/p.txt"
    i=$((i + 1))
  done
  b=$(median <"$work/b.txt")
  if [ $podman = yes ]; then
    p=$(median <"$work/p.txt")
    printf '  %3s-byte lines: berth %8s MB/s   podman+conmon %8s MB/s   ratio %s\n' \
      "$shape" "$b" "$p" "$(awk "BEGIN {printf \"%.1f\", $b/$p}")"
    awk "BEGIN {exit !($b >= 2 * $p)}" || echo "  target berth >= 2x podman NOT met ($shape-byte lines)"
  else
    printf '  %3s-byte lines: berth %8s MB/s\n' "$shape" "$b"
  fi
done
echo "  reader (berth log of 100-byte lines): $("$work/logs_bench" read "$work/berth" | awk '{print $6}') MB/s"
