#!/bin/sh
# Network setup benchmark (issue 5): the time to attach N = 1, 64 and 256
# containers to one project network, berth against netavark (Debian's, the
# one podman runs). Target: berth's per-container median at most 0.5x
# netavark's, and flat as N grows.
#
# berth: build/net/net_attach_bench N (hack/bench/net_attach_main.cc):
# in-process, IpamStore allocate + netlink attachContainer per container,
# the bridge made beforehand by ensureBridge (as at network creation).
# netavark: one `netavark --config DIR -f OPTS.json setup /run/netns/<c>`
# process per container, timed by hack/bench/timeit.c around spawn/wait,
# the way podman runs it (podman's own IPAM done here up front: static_ips).
# netavark makes the bridge and the network's firewall rules at the first
# setup, so an untimed warm-up container is set up first and stays attached
# to the end; the N timed ones then all join an existing network, as berth's
# do. Teardown is timed for both as well. Container netns are made untimed
# for both (berth: newNetns; netavark: `ip netns add`).
#
# Isolation (NETWORK RULE): everything runs in a throwaway node namespace
# (berth-nb-<pid>); netavark's bridge, veths, sysctls and iptables rules exist
# only there, with DNS off (no aardvark). No traffic is sent. The node netns,
# every container netns (berth-nb-<pid>-c*) and the temp dir are removed on
# exit, failure and signals included.
#
# Usage: hack/bench/net-attach.sh [BUILD_DIR]
# Env:   BENCH_NS ("1 64 256"), BENCH_REPS (3: runs per N, samples pooled),
#        NETAVARK (/usr/lib/podman/netavark)
set -eu

die() { echo "net-attach-bench: $*" >&2; exit 1; }

src=$(cd "$(dirname "$0")/../.." && pwd)
counts=${BENCH_NS:-1 64 256}
reps=${BENCH_REPS:-3}
NETAVARK=${NETAVARK:-/usr/lib/podman/netavark}

# --- inside the node namespace (the script runs itself through nsenter) ---
if [ "${1:-}" = --inner ]; then
  work=$2; node=$3; build=$4
  . "$src/hack/lib/bench.sh"

  # opts FILE INDEX: netavark's network options for container INDEX
  # (0: the warm-up) on network "bench", 10.90.0.0/23, bridge nbbr<pid>.
  opts() {
    printf '{"container_id":"%064x","container_name":"nb-c%d","port_mappings":[],
"networks":{"bench":{"static_ips":["10.90.%d.%d"],"interface_name":"eth0"}},
"network_info":{"bench":{"name":"bench","id":"%064x","driver":"bridge",
"network_interface":"nbbr%s","subnets":[{"subnet":"10.90.0.0/23","gateway":"10.90.0.1"}],
"ipv6_enabled":false,"internal":false,"dns_enabled":false,
"ipam_options":{"driver":"host-local"}}}}\n' \
      $(($2 + 1)) "$2" $((($2 + 2) / 256)) $((($2 + 2) % 256)) 48879 "$$" >"$1"
  }
  nv() {  # nv SAMPLES setup|teardown INDEX
    "$work/timeit" "$1" "$NETAVARK" --config "$work/nv-config" -f "$work/c$3.json" \
      "$2" "/run/netns/$node-c$3" >/dev/null || die "netavark $2 of container $3 failed"
  }

  ip netns add "$node-c0" || die "ip netns add $node-c0"
  opts "$work/c0.json" 0
  nv "$work/warm.txt" setup 0
  for n in $counts; do
    r=1
    while [ $r -le "$reps" ]; do
      # berth and netavark alternate first, so drift hits both alike.
      if [ $((r % 2)) = 1 ]; then order="berth netavark"; else order="netavark berth"; fi
      for tool in $order; do
        if [ $tool = berth ]; then
          timeout 300 "$build/net/net_attach_bench" "$n" --samples "$work/berth-$n.txt" \
            >>"$work/berth-$n.log" || die "net_attach_bench $n failed"
          continue
        fi
        i=1
        while [ $i -le "$n" ]; do
          ip netns add "$node-c$i" || die "ip netns add $node-c$i"
          opts "$work/c$i.json" $i
          i=$((i + 1))
        done
        i=1
        while [ $i -le "$n" ]; do nv "$work/netavark-$n.txt" setup $i; i=$((i + 1)); done
        i=1
        while [ $i -le "$n" ]; do
          nv "$work/netavark-down-$n.txt" teardown $i
          ip netns del "$node-c$i"
          i=$((i + 1))
        done
      done
      r=$((r + 1))
    done
  done
  nv "$work/warm.txt" teardown 0

  # quarter_means FILE: mean ms of the first and the last quarter of each run's
  # samples, in attach order (runs are appended whole, so split by N).
  stats() {  # stats FILE N -> "median p90 firstq lastq"
    set -- "$(bench_time_stats "$1")" "$1" "$2"
    q=$(awk -v n="$3" '{i = (NR - 1) % n; q = int(n / 4); if (q < 1) q = 1
          if (i < q) {f += $1; fc++} if (i >= n - q) {l += $1; lc++}}
          END {printf "%.2f %.2f", f / fc / 1e6, l / lc / 1e6}' "$2")
    echo "$1 $q"
  }
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "per-container attach time, ms ($reps runs per N, samples pooled)"
  printf '  %-4s %-9s %8s %8s %8s %8s   %s\n' N tool median p90 "1st-q" "last-q" "teardown median"
  for n in $counts; do
    set -- $(stats "$work/berth-$n.txt" "$n")
    bm=$1
    bd=$(awk '/^detach/ {print $4}' "$work/berth-$n.log" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
    printf '  %-4s %-9s %8s %8s %8s %8s   %s\n' "$n" berth "$1" "$2" "$3" "$4" "$bd"
    set -- $(stats "$work/netavark-$n.txt" "$n")
    nm=$1
    nd=$(bench_time_stats "$work/netavark-down-$n.txt" | cut -d' ' -f1)
    printf '  %-4s %-9s %8s %8s %8s %8s   %s\n' "$n" netavark "$1" "$2" "$3" "$4" "$nd"
    printf '  %-4s ratio berth/netavark (medians) %s\n' "$n" \
      "$(awk "BEGIN {printf \"%.3f\", $bm / $nm}")"
    echo "$n $bm" >>"$work/flat.txt"
  done
  # Flat: the largest N's median within 1.5x of the smallest N's.
  awk '{v[NR] = $2} END {r = v[NR] / v[1]
         printf "berth median at largest N / smallest N: %.2f (%s)\n", r, r <= 1.5 ? "flat" : "NOT flat"}' \
    "$work/flat.txt"
  exit 0
fi

# --- outside: make and always remove the throwaway node namespace ---
build=${1:-${BERTH_BUILD_DIR:-$src/build}}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
[ -x "$NETAVARK" ] || die "netavark not found at $NETAVARK (Debian package netavark)"
[ -x "$build/net/net_attach_bench" ] ||
  die "$build/net/net_attach_bench missing: cmake --build $build --target net_attach_bench"
. "$src/hack/lib/bench.sh"
. "$src/hack/lib/e2e.sh"
E2E_NAME=net-attach-bench

node=berth-nb-$$
work=$(mktemp -d /tmp/berth-net-attach-bench.XXXXXX)
inner=
cleanup() {
  # The body first, so that it cannot make a namespace after the sweep.
  if [ -n "$inner" ]; then
    kill -TERM "$inner" 2>/dev/null || true
    wait "$inner" 2>/dev/null || true
  fi
  for f in /run/netns/"$node"-c*; do
    [ -e "$f" ] && e2e_netns_del "$(basename "$f")"
  done
  e2e_netns_del "$node"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
timeit=$(bench_build_timeit "$src" "$build" "$work") || die "building timeit failed"
cp "$timeit" "$work/timeit"
e2e_netns_add "$node"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $("$NETAVARK" --version)"
# Bounded: the whole body (3 x (1 + 64 + 256) netavark runs) takes ~1-2 min.
# In the background, so that a signal runs the trap at once (a shell waiting
# for a foreground child defers its traps); timeout passes TERM on.
NETAVARK=$NETAVARK BENCH_NS=$counts BENCH_REPS=$reps timeout -k 10 1200 \
  nsenter --net="/run/netns/$node" sh "$0" --inner "$work" "$node" "$build" &
inner=$!
rc=0
wait "$inner" || rc=$?
inner=
exit $rc
