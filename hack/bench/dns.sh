#!/bin/bash
# DNS benchmark: berth's DNS server (hack/bench/dns_server_main.cc) against
# aardvark-dns (podman's), both serving the same N names, queried by dnsperf
# with the same query file, in a throwaway network namespace (loopback only).
# Prints medians of QPS (unlimited offered load) and of p99 latency (at a
# fixed offered load, from dnsperf -v), and the ratios.
# The forwarded run does the same with N names neither server owns
# (extI.example.test): both relay them to one upstream, a dnsmasq answering
# them from a hosts file on 10.90.0.53:53 inside the same namespace; berth's
# server reads it from a resolv.conf file, aardvark-dns from /etc/resolv.conf,
# which is bind-mounted over in aardvark's own mount namespace (ip netns exec
# makes a private one), so the host's file is never touched. dnsmasq queried
# directly is printed as the ceiling both forwarders share.
# Usage: hack/bench/dns.sh [NAMES] [ROUNDS] [SECONDS]   (root; BERTH_BUILD_DIR)
#   BERTH_DNS_BENCH_FORWARD=0: local names only; =1: forwarded only; unset: both
set -euo pipefail
names=${1:-1000} rounds=${2:-5} secs=${3:-4}
rate=${BERTH_DNS_BENCH_RATE:-20000}
forward=${BERTH_DNS_BENCH_FORWARD:-}
case "$forward" in
  "") run_local=1 run_forward=1 ;;
  0) run_local=1 run_forward=0 ;;
  1) run_local=0 run_forward=1 ;;
  *) echo "dns.sh: BERTH_DNS_BENCH_FORWARD must be 0, 1 or unset" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BERTH_BUILD_DIR:-$src/build}
aardvark=${AARDVARK:-/usr/lib/podman/aardvark-dns}
[ "$(id -u)" = 0 ] || { echo "dns.sh: needs root (network namespace)" >&2; exit 77; }
command -v dnsperf >/dev/null || { echo "dns.sh: dnsperf not installed" >&2; exit 77; }
[ -x "$aardvark" ] || { echo "dns.sh: $aardvark not found" >&2; exit 77; }
if [ "$run_forward" = 1 ]; then
  command -v dnsmasq >/dev/null || { echo "dns.sh: dnsmasq not installed" >&2; exit 77; }
fi

ns=berth-dnsbench-$$
work=$(mktemp -d)
berth_pid="" dnsmasq_pid=""
cleanup() {
  [ -n "$berth_pid" ] && kill "$berth_pid" 2>/dev/null || true
  [ -n "$dnsmasq_pid" ] && kill "$dnsmasq_pid" 2>/dev/null || true
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

# The server driver is a build target (net/CMakeLists.txt: dns_bench); the
# build tree is shared, so build through its lock.
lock=(); command -v flock >/dev/null && lock=(flock /tmp/berth-build.lock)
"${lock[@]}" cmake --build "$build" --target dns_bench >/dev/null ||
  { echo "dns.sh: cannot build dns_bench" >&2; exit 1; }
cp "$build/net/dns_bench" "$work/dns_server"

ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
# Gateway 10.89.0.1; the client sends from 10.89.0.2, a container's address:
# aardvark answers only queries from containers it knows.
in_ns ip addr add 10.89.0.1/16 dev lo
# The upstream resolver's address (port 53: a resolv.conf names no port).
upstream=10.90.0.53
in_ns ip addr add "$upstream/32" dev lo
echo "nameserver $upstream" >"$work/resolv.conf"

mkdir -p "$work/aardvark"
echo 10.89.0.1 >"$work/aardvark/bench"
: >"$work/queries"
: >"$work/ext_hosts"
: >"$work/ext_queries"
for ((i = 0; i < names; i++)); do
  printf 'c%d 10.89.%d.%d  host%d\n' "$i" $((i / 250)) $((i % 250 + 2)) "$i" >>"$work/aardvark/bench"
  printf 'host%d A\n' "$i" >>"$work/queries"
  printf '10.90.%d.%d ext%d.example.test\n' $((i / 250 + 1)) $((i % 250 + 2)) "$i" >>"$work/ext_hosts"
  printf 'ext%d.example.test A\n' "$i" >>"$work/ext_queries"
done

if [ "$run_forward" = 1 ]; then
  # --user=root: the hosts file sits in a 0700 temporary directory.
  ip netns exec "$ns" dnsmasq --no-daemon --no-resolv --no-hosts --addn-hosts="$work/ext_hosts" \
    --listen-address="$upstream" --bind-interfaces --port=53 --user=root --pid-file= \
    --log-facility="$work/dnsmasq.log" >"$work/dnsmasq.out" 2>&1 &  # ip execs it: $! is dnsmasq
  dnsmasq_pid=$!
fi
ip netns exec "$ns" "$work/dns_server" 10.89.0.1 5301 "$names" "$work/resolv.conf" \
  >"$work/berth.log" 2>&1 &  # ip execs it: $! is the server
berth_pid=$!
in_ns sh -c 'mount --bind "$1" /etc/resolv.conf && exec "$2" --config "$3" -p 5302 run' \
  sh "$work/resolv.conf" "$aardvark" "$work/aardvark" >"$work/aardvark.log" 2>&1  # daemonizes
sleep 1

perf() {  # SERVER PORT QUERYFILE EXTRA... -> dnsperf summary
  in_ns dnsperf -s "$1" -p "$2" -a 10.89.0.2 -d "$3" -l "$secs" "${@:4}" 2>/dev/null
}
qps() { perf "$@" ${BERTH_DNS_BENCH_LOAD:--q 100} | awk '/Queries per second/ {print $4}'; }
p99() {  # microseconds, at $rate queries/s
  perf "$@" -Q "$rate" -v | awk '$1 == ">" {print $NF}' | sort -g |
    awk '{v[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.0f\n", v[i] * 1e6}'
}
lost() { perf "$@" -l 1 | awk '/Queries lost/ {print $3}'; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
report() {  # RESULTS-FILE: columns berth-qps aardvark-qps berth-p99 aardvark-p99
  bq=$(awk '{print $1}' "$1" | median)
  aq=$(awk '{print $2}' "$1" | median)
  bp=$(awk '{print $3}' "$1" | median)
  ap=$(awk '{print $4}' "$1" | median)
  printf 'berth:    %10.0f q/s  p99 %6d us\n' "$bq" "$bp"
  printf 'aardvark: %10.0f q/s  p99 %6d us\n' "$aq" "$ap"
  awk -v bq="$bq" -v aq="$aq" -v bp="$bp" -v ap="$ap" \
    'BEGIN {printf "ratio: QPS %.2fx aardvark, p99 %.2fx aardvark\n", bq / aq, bp / ap}'
}

if [ "$run_local" = 1 ]; then
  echo "names=$names rounds=$rounds seconds=$secs p99 at ${rate} q/s; lost in a 1 s check: berth $(lost 10.89.0.1 5301 "$work/queries"), aardvark $(lost 10.89.0.1 5302 "$work/queries")"
  for ((r = 0; r < rounds; r++)); do
    echo "$(qps 10.89.0.1 5301 "$work/queries") $(qps 10.89.0.1 5302 "$work/queries") $(p99 10.89.0.1 5301 "$work/queries") $(p99 10.89.0.1 5302 "$work/queries")" >>"$work/results"
  done
  report "$work/results"
fi

if [ "$run_forward" = 1 ]; then
  # Every forwarded name must come back NOERROR through each path; a
  # forwarder that answers SERVFAIL fast would otherwise look fast.
  for target in "$upstream 53" "10.89.0.1 5301" "10.89.0.1 5302"; do
    # shellcheck disable=SC2086 # "ADDR PORT" splits on purpose
    codes=$(in_ns dnsperf -s ${target% *} -p ${target#* } -a 10.89.0.2 -d "$work/ext_queries" \
      -n 1 -t 2 2>/dev/null | awk '/Response codes/ {sub(/.*codes: */, ""); print}')
    case "$codes" in
      "NOERROR $names (100.00%)") ;;
      *) echo "dns.sh: forwarded names through $target: ${codes:-no answers}" >&2; exit 1 ;;
    esac
  done
  echo "forwarded: names=$names rounds=$rounds seconds=$secs p99 at ${rate} q/s; upstream dnsmasq at $upstream; lost in a 1 s check: berth $(lost 10.89.0.1 5301 "$work/ext_queries"), aardvark $(lost 10.89.0.1 5302 "$work/ext_queries")"
  for ((r = 0; r < rounds; r++)); do
    echo "$(qps 10.89.0.1 5301 "$work/ext_queries") $(qps 10.89.0.1 5302 "$work/ext_queries") $(p99 10.89.0.1 5301 "$work/ext_queries") $(p99 10.89.0.1 5302 "$work/ext_queries")" >>"$work/fwd_results"
    echo "$(qps "$upstream" 53 "$work/ext_queries") $(p99 "$upstream" 53 "$work/ext_queries")" >>"$work/upstream_results"
  done
  report "$work/fwd_results"
  printf 'dnsmasq:  %10.0f q/s  p99 %6d us (upstream queried directly)\n' \
    "$(awk '{print $1}' "$work/upstream_results" | median)" \
    "$(awk '{print $2}' "$work/upstream_results" | median)"
fi
