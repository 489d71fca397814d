#!/bin/bash
# DNS benchmark: berth's DNS server (hack/bench/dns_server_main.cc) against
# aardvark-dns (podman's), both serving the same N names, queried by dnsperf
# with the same query file, in a throwaway network namespace (loopback only).
# Prints medians of QPS (unlimited offered load) and of p99 latency (at a
# fixed offered load, from dnsperf -v), and the ratios.
# Usage: hack/bench/dns.sh [NAMES] [ROUNDS] [SECONDS]   (root; BERTH_BUILD_DIR)
set -euo pipefail
names=${1:-1000} rounds=${2:-5} secs=${3:-4}
rate=${BERTH_DNS_BENCH_RATE:-20000}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BERTH_BUILD_DIR:-$src/build}
aardvark=${AARDVARK:-/usr/lib/podman/aardvark-dns}
[ "$(id -u)" = 0 ] || { echo "dns.sh: needs root (network namespace)" >&2; exit 77; }
command -v dnsperf >/dev/null || { echo "dns.sh: dnsperf not installed" >&2; exit 77; }
[ -x "$aardvark" ] || { echo "dns.sh: $aardvark not found" >&2; exit 77; }

ns=berth-dnsbench-$$
work=$(mktemp -d)
berth_pid=""
cleanup() {
  [ -n "$berth_pid" ] && kill "$berth_pid" 2>/dev/null || true
  if [ -f "$work/aardvark/aardvark.pid" ]; then
    apid=$(cat "$work/aardvark/aardvark.pid")
    kill "$apid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$apid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$apid" 2>/dev/null || true
  fi
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The server driver is a build target (net/CMakeLists.txt: dns_bench).
cmake --build "$build" --target dns_bench >/dev/null || { echo "dns.sh: cannot build dns_bench" >&2; exit 1; }
cp "$build/net/dns_bench" "$work/dns_server"

ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
# Gateway 10.89.0.1; the client sends from 10.89.0.2, a container's address:
# aardvark answers only queries from containers it knows.
in_ns ip addr add 10.89.0.1/16 dev lo

mkdir -p "$work/aardvark"
echo 10.89.0.1 >"$work/aardvark/bench"
: >"$work/queries"
for ((i = 0; i < names; i++)); do
  printf 'c%d 10.89.%d.%d  host%d\n' "$i" $((i / 250)) $((i % 250 + 2)) "$i" >>"$work/aardvark/bench"
  printf 'host%d A\n' "$i" >>"$work/queries"
done

ip netns exec "$ns" "$work/dns_server" 10.89.0.1 5301 "$names" >"$work/berth.log" 2>&1 &  # ip execs it: $! is the server
berth_pid=$!
in_ns "$aardvark" --config "$work/aardvark" -p 5302 run >"$work/aardvark.log" 2>&1  # daemonizes
sleep 1

perf() {  # PORT EXTRA... -> dnsperf summary
  in_ns dnsperf -s 10.89.0.1 -p "$1" -a 10.89.0.2 -d "$work/queries" -l "$secs" "${@:2}" 2>/dev/null
}
qps() { perf "$1" ${BERTH_DNS_BENCH_LOAD:--q 100} | awk '/Queries per second/ {print $4}'; }
p99() {  # microseconds, at $rate queries/s
  perf "$1" -Q "$rate" -v | awk '$1 == ">" {print $NF}' | sort -g |
    awk '{v[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.0f\n", v[i] * 1e6}'
}
lost() { perf "$1" -l 1 | awk '/Queries lost/ {print $3}'; }

echo "names=$names rounds=$rounds seconds=$secs p99 at ${rate} q/s; lost in a 1 s check: berth $(lost 5301), aardvark $(lost 5302)"
for ((r = 0; r < rounds; r++)); do
  echo "$(qps 5301) $(qps 5302) $(p99 5301) $(p99 5302)" >>"$work/results"
done
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
bq=$(awk '{print $1}' "$work/results" | median)
aq=$(awk '{print $2}' "$work/results" | median)
bp=$(awk '{print $3}' "$work/results" | median)
ap=$(awk '{print $4}' "$work/results" | median)
printf 'berth:    %10.0f q/s  p99 %6d us\n' "$bq" "$bp"
printf 'aardvark: %10.0f q/s  p99 %6d us\n' "$aq" "$ap"
awk -v bq="$bq" -v aq="$aq" -v bp="$bp" -v ap="$ap" \
  'BEGIN {printf "ratio: QPS %.2fx aardvark, p99 %.2fx aardvark\n", bq / aq, bp / ap}'
