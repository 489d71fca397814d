#!/bin/sh
# Log throughput through the whole stack (issue 4): MB/s from a container
# writing to stdout into its log file, berthd + berth-shim against podman +
# conmon (k8s-file), side by side in one throwaway node (hack/lib/berthd.sh),
# BENCH_RUNS runs each in a random order per round. Target: berth >= 2x
# podman, no line lost.
#
# The same busybox container on both sides first writes a 4 MB file of lines
# to /tmp (not to stdout), then cats it BENCH_MB/4 times (busybox `yes` would
# measure itself). The rate is the bytes over the time between the first and
# the last line's log timestamps, i.e. the time the log writer took to take
# everything in (each side stamps a line when it reads it), so the start of
# the container and the CLIs do not count. Then every line is counted in the
# log (`berth logs | wc -l`, conmon's F records). BENCH_MB stays under the
# default rotation limits (5 x 10 MiB) so that the whole log is kept.
# Lines of 100 and of 10 bytes (short lines are the worst case for per-line
# log formats).
#
# Usage: hack/bench/berth-logs.sh [BUILD_DIR]
# Env:   BENCH_RUNS (5), BENCH_MB (48, a multiple of 4, <= 48), BENCH_PODMAN_RUNTIME (crun)
set -u

[ -n "${1:-}" ] && [ "$1" != --inner ] && { BERTH_BUILD_DIR=$1; export BERTH_BUILD_DIR; shift; }
. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# span < "FIRST_TS LAST_TS" (RFC 3339, ns): seconds between them.
span() {
  "$PY" -c '
import datetime, sys
def ns(t):
    t = t.strip()
    sec, _, rest = t.partition(".")
    frac, tz = rest, ""
    for i, ch in enumerate(rest):
        if not ch.isdigit(): frac, tz = rest[:i], rest[i:]; break
    tz = "+00:00" if tz in ("", "Z") else tz
    d = datetime.datetime.fromisoformat(sec + tz)
    return int(d.timestamp()) * 10**9 + int((frac + "000000000")[:9])
a, b = sys.stdin.read().split()
print("%.6f" % ((ns(b) - ns(a)) / 1e9))
'
}

# run_berth LINE N: prints MB/s; checks the line count.
run_berth() {
  name=logs-$2
  berth_cli run -d --name "$name" "$BERTH_IMAGE" sh -c "$producer" >/dev/null 2>"$T/err" \
    || e2e_fail "berth run -d: $(cat "$T/err")"
  berth_wait_state "$name" exited 300 || e2e_fail "$name did not exit within 300 s"
  berth_cli logs --timestamps "$name" 2>"$T/err" \
    | awk 'NR == 1 {f = $1} {l = $1; n++} END {print f, l, n}' >"$T/b.sum"
  lines=$(awk '{print $3}' "$T/b.sum")
  [ "$lines" = "$want" ] || e2e_fail "berth log of $name has $lines lines, want $want ($(cat "$T/err"))"
  secs=$(awk '{print $1, $2}' "$T/b.sum" | span)
  berth_cli rm "$name" >/dev/null 2>&1
  awk -v b="$bytes" -v s="$secs" 'BEGIN {printf "%.1f\n", b / 1e6 / s}'
}

run_podman() {
  name=logs-$2
  rm -f "$T/p.log"
  pm run -d --name "$name" --network none --cgroup-parent "$PODMAN_CGROUP_PARENT" \
    --log-driver k8s-file --log-opt path="$T/p.log" "$PODMAN_IMAGE" sh -c "$producer" >/dev/null 2>"$T/err" \
    || e2e_fail "podman run -d: $(cat "$T/err")"
  pm wait "$name" >/dev/null 2>&1
  # Complete lines only: conmon writes a line read in pieces as P records
  # followed by an F record.
  awk '$3 == "F" {if (!n) f = $1; l = $1; n++} END {print f, l, n}' "$T/p.log" >"$T/p.sum"
  lines=$(awk '{print $3}' "$T/p.sum")
  [ "$lines" = "$want" ] || e2e_fail "podman log of $name has $lines lines, want $want"
  secs=$(awk '{print $1, $2}' "$T/p.sum" | span)
  pm rm "$name" >/dev/null 2>&1
  awk -v b="$bytes" -v s="$secs" 'BEGIN {printf "%.1f\n", b / 1e6 / s}'
}

bench() {
  runs=${BENCH_RUNS:-5}
  mb=${BENCH_MB:-48}
  case $runs in ''|*[!0-9]*|0) e2e_fail "BENCH_RUNS must be a positive number, not '$runs'" ;; esac
  case $mb in ''|*[!0-9]*|0) e2e_fail "BENCH_MB must be a positive multiple of 4, not '$mb'" ;; esac
  { [ $((mb % 4)) = 0 ] && [ "$mb" -le 48 ]; } || e2e_fail "BENCH_MB must be a multiple of 4 up to 48, not '$mb'"
  runtime=${BENCH_PODMAN_RUNTIME:-crun}
  BERTHD_CLEANUP_HOOK=berthd_podman_cleanup
  berthd_up
  berthd_podman_setup "$runtime"
  bytes=$((mb * 1000000))
  echo "Log throughput: container stdout -> log file, $bytes bytes, $runs runs each, median MB/s"
  echo "  berthd + berth-shim vs podman $(podman --version | awk '{print $3}') + conmon $(conmon --version | head -n 1 | awk '{print $3}') (k8s-file, $runtime)"
  k=0
  for shape in 100 10; do
    line=$(printf "%0$((shape - 1))d" 0 | tr 0 x)
    want=$((bytes / shape))
    producer="yes $line | head -c 4000000 >/tmp/lines; i=0; while [ \$i -lt $((mb / 4)) ]; do cat /tmp/lines; i=\$((i + 1)); done"
    : >"$T/b.txt"; : >"$T/p.txt"
    i=1
    while [ $i -le "$runs" ]; do
      for side in $(printf 'berth\npodman\n' | shuf); do
        k=$((k + 1))
        if [ "$side" = berth ]; then run_berth "$line" $k >>"$T/b.txt"; else run_podman "$line" $k >>"$T/p.txt"; fi
      done
      i=$((i + 1))
    done
    b=$(bench_median <"$T/b.txt"); p=$(bench_median <"$T/p.txt")
    printf '  %3s-byte lines: berth %9s MB/s   podman+conmon %9s MB/s   ratio %sx   (no line lost)\n' \
      "$shape" "$b" "$p" "$(bench_ratio "$b" "$p")"
    awk -v b="$b" -v p="$p" 'BEGIN {exit !(b >= 2 * p)}' || echo "  target berth >= 2x podman NOT met ($shape-byte lines)"
  done
  return 0
}

BERTH_E2E_NO_UNIFIED=${BERTH_E2E_NO_UNIFIED:-1}
BERTHD_QUIET=1
BERTHD_SANDBOX_SECS=${BERTHD_SANDBOX_SECS:-1800}
export BERTH_E2E_NO_UNIFIED BERTHD_QUIET BERTHD_SANDBOX_SECS
berthd_main berth-logs bench "$@"
