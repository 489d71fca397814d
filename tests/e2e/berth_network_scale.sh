#!/bin/sh
# End-to-end test of one project network at scale, through berthd + berth
# (issue 5). Its own berthd in a throwaway node netns (hack/lib/berthd.sh).
# Checks:
#   - 256 containers (`sleep`) run with --network scale all start, each with
#     its own address inside the project's subnet (berth inspect), one veth
#     each on the node;
#   - from 6 sampled containers, 8 sampled names each (bare NAME and
#     NAME.scale, the first and the last container among them) resolve
#     through berth's DNS (busybox nslookup) to exactly the address berth
#     inspect reports, and an unknown name does not resolve;
#   - containers keep being added up to the subnet's size (the default /23:
#     509 containers besides the gateway), then the next `berth run` fails
#     with an error that says the network/subnet is full (a container it
#     keeps, as docker does, is not running and has no address); once one
#     container is removed, its address is free again and a new container
#     gets it;
#   - names still resolve right on the full network;
#   - rm -f of everything and `network rm` leave no container, no berth
#     bridge, no veth, no project chain in `table inet berth`, and
#     `berth network ls` is empty.
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

NET=scale
FIRST_BATCH=256

# run_range FROM TO: runs containers sFROM..sTO on $NET, one after the other
# (about 20 ms each: a parallel loop would buy little on two cores).
run_range() {
  _i=$1
  while [ "$_i" -le "$2" ]; do
    berth_cli run -d --name "s$_i" --network "$NET" "$BERTH_IMAGE" sleep 3600 \
      >/dev/null 2>"$T/run.err" \
      || e2e_fail "run -d --name s$_i --network $NET (container $_i): $(cat "$T/run.err")"
    _i=$((_i + 1))
  done
}

# names FROM TO: "sFROM ... sTO".
names() { seq -f 's%.0f' "$1" "$2" | tr '\n' ' '; }

# addresses NAME...: writes "NAME ADDRESS" lines to $T/addr (one inspect
# call) and checks that every address is set, in $SUBNET and unique.
addresses() {
  berth_cli inspect "$@" >"$T/inspect.json" 2>"$T/inspect.err" \
    || e2e_fail "berth inspect of $# containers: $(head -c 500 "$T/inspect.err")"
  "$PY" - "$SUBNET" "$T/inspect.json" >"$T/addr" 2>"$T/addr.err" <<'EOF' \
    || e2e_fail "addresses from berth inspect: $(cat "$T/addr.err")"
import ipaddress, json, sys
subnet = ipaddress.ip_network(sys.argv[1])
seen = {}
for c in json.load(open(sys.argv[2])):
    name, addr = c["name"], c.get("network_address", "")
    if not addr or ipaddress.ip_address(addr) not in subnet:
        sys.exit(f"{name}: network_address '{addr}' is not in {subnet}")
    if addr in seen:
        sys.exit(f"{name} and {seen[addr]} both have the address {addr}")
    seen[addr] = name
    print(name, addr)
EOF
}

# check_names FROM NAME...: FROM's nslookup of each NAME (through berth exec,
# one exec for all) answers exactly the address in $T/addr; NAME may end in
# .$NET. A name starting with "none-" must not resolve.
check_names() {
  _from=$1; shift
  BERTH_CLI_SECS=40 berth_cli exec "$_from" sh -c \
    'for n in "$@"; do echo "=== $n"; timeout 5 nslookup "$n" 2>&1; echo "=== rc $?"; done' \
    sh "$@" >"$T/ns.out" 2>&1 || e2e_fail "exec nslookup in $_from: $(tail -n 5 "$T/ns.out")"
  "$PY" - "$T/addr" "$T/ns.out" "$NET" >"$T/ns.err" 2>&1 <<'EOF' \
    || e2e_fail "names resolved from $_from: $(cat "$T/ns.err")"
import re, sys
want = dict(l.split() for l in open(sys.argv[1]))
blocks = re.split(r"^=== (\S+)\n", open(sys.argv[2]).read(), flags=re.M)[1:]
bad = []
for name, text in zip(blocks[::2], blocks[1::2]):
    # The answers follow "Name:"; the "Address:" before it is the server's.
    got = set()
    for part in text.split("Name:")[1:]:
        got |= set(re.findall(r"^Address:\s*([0-9.]+)\s*$", part, flags=re.M))
    if name.startswith("none-"):
        if got: bad.append(f"{name}: resolved to {sorted(got)}, expected no answer")
        continue
    short = name.removesuffix("." + sys.argv[3])
    if got != {want[short]}:
        bad.append(f"{name}: got {sorted(got) or 'no answer'}, inspect says {want[short]}"
                   f" (nslookup said: {' | '.join(text.strip().splitlines())})")
if bad: sys.exit("\n  ".join(bad))
EOF
}

# sample_checks COUNT: 6 containers among s1..sCOUNT look up 8 names each.
sample_checks() {
  _n=$1
  _k=0
  for _from in 1 $((_n / 5)) $((_n / 3)) $((_n / 2)) $((_n * 4 / 5)) "$_n"; do
    _k=$((_k + 1))
    # 8 names spread over the whole range, a different spread per client,
    # including the first and the last container and NAME.PROJECT forms.
    set -- s1 "s$_n.$NET" "s$(((_k * 37) % _n + 1))" "s$(((_k * 91 + 13) % _n + 1)).$NET" \
      "s$(((_k * 53 + 7) % _n + 1))" "s$(((_k * 131 + 29) % _n + 1))" \
      "s$(((_k * 17 + 101) % _n + 1)).$NET" "s$(((_k * 211 + 3) % _n + 1))" none-s$((_n + 1000))
    check_names "s$_from" "$@"
  done
  e2e_log "ok: 6 containers x 8 names resolve to exactly inspect's addresses ($_n containers)"
}

body() {
  berthd_up
  t0=$(date +%s)

  # ------------------------------------------------------- 256 containers
  run_range 1 "$FIRST_BATCH"
  t1=$(date +%s)
  e2e_log "ok: $FIRST_BATCH containers started on $NET in $((t1 - t0)) s"
  SUBNET=$(berth_cli network inspect "$NET" 2>"$T/err" | berth_json subnet) \
    || e2e_fail "network inspect $NET: $(cat "$T/err")"
  case $SUBNET in */*) ;; *) e2e_fail "network inspect $NET: subnet '$SUBNET'" ;; esac
  # shellcheck disable=SC2046 # one word per name
  addresses $(names 1 "$FIRST_BATCH")
  [ "$(wc -l <"$T/addr")" -eq "$FIRST_BATCH" ] || e2e_fail "inspect listed $(wc -l <"$T/addr") of $FIRST_BATCH containers"
  e2e_log "ok: $FIRST_BATCH distinct addresses in $SUBNET"
  sample_checks "$FIRST_BATCH"

  # ------------------------------------------------------- up to the subnet's size
  # Every address but the network's, the broadcast and the gateway.
  cap=$(( (1 << (32 - ${SUBNET#*/})) - 3 ))
  run_range $((FIRST_BATCH + 1)) "$cap"
  t2=$(date +%s)
  e2e_log "ok: $cap containers (the size of $SUBNET) started in $((t2 - t0)) s"
  berth_expect_fail "container $((cap + 1)) on the full $SUBNET" \
    berth_cli run -d --name "s$((cap + 1))" --network "$NET" "$BERTH_IMAGE" sleep 3600
  grep -qi full "$T/fail.err" || e2e_fail "the error for a full network does not say it is full: $(cat "$T/fail.err")"
  grep -q -e "$SUBNET" -e "$NET" "$T/fail.err" \
    || e2e_fail "the error for a full network names neither $NET nor $SUBNET: $(cat "$T/fail.err")"
  # Like docker, a run whose start fails may keep the container as created:
  # then it must not run nor hold an address; it goes before the next step.
  if berth_cli inspect "s$((cap + 1))" >/dev/null 2>&1; then
    st=$(berth_inspect "s$((cap + 1))" state)
    ad=$(berth_inspect "s$((cap + 1))" network_address)
    if [ "$st" = running ] || [ -n "$ad" ]; then
      e2e_fail "the refused container s$((cap + 1)) is $st with address '$ad'"
    fi
    berth_cli rm -f "s$((cap + 1))" >/dev/null 2>"$T/err" || e2e_fail "rm -f s$((cap + 1)): $(cat "$T/err")"
    e2e_log "ok: the refused container was kept as '$st', with no address (removed now)"
  fi
  # shellcheck disable=SC2046
  addresses $(names 1 "$cap")
  [ "$(wc -l <"$T/addr")" -eq "$cap" ] || e2e_fail "inspect listed $(wc -l <"$T/addr") of $cap containers"
  veths=$(ip -o link show 2>/dev/null | grep -c ': bveth')
  [ "$veths" -eq "$cap" ] || e2e_fail "$veths bveth links on the node for $cap containers"
  e2e_log "ok: $cap distinct addresses, $veths veths"
  sample_checks "$cap"

  # A removed container's address is free for the next one.
  freed=$(awk '$1 == "s100" {print $2}' "$T/addr")
  berth_cli rm -f s100 >/dev/null 2>"$T/err" || e2e_fail "rm -f s100: $(cat "$T/err")"
  berth_cli run -d --name s100b --network "$NET" "$BERTH_IMAGE" sleep 3600 >/dev/null 2>"$T/err" \
    || e2e_fail "run after rm -f s100 on the full network: $(cat "$T/err")"
  got=$(berth_inspect s100b network_address)
  e2e_expect "the new container gets the freed address" "$freed" "$got"

  # ------------------------------------------------------- removal
  berth_cli ps -a -q >"$T/ps" 2>"$T/err" || e2e_fail "ps -a: $(cat "$T/err")"
  # rm -f in batches of 64 ids, so no single call runs into the CLI's bound.
  split -l 64 "$T/ps" "$T/ps."
  for f in "$T"/ps.*; do
    # shellcheck disable=SC2046
    BERTH_CLI_SECS=120 berth_cli rm -f $(cat "$f") >/dev/null 2>"$T/err" \
      || e2e_fail "rm -f of $(wc -l <"$f") containers: $(head -c 500 "$T/err")"
  done
  left=$(berth_cli ps -a -q 2>&1)
  [ -z "$left" ] || e2e_fail "containers left after rm -f: $(echo "$left" | wc -l)"
  berth_cli network rm "$NET" >/dev/null 2>"$T/err" || e2e_fail "network rm $NET: $(cat "$T/err")"
  [ -z "$(berth_cli network ls -q 2>&1)" ] || e2e_fail "network ls after rm: $(berth_cli network ls 2>&1)"
  links=$(berthd_links_left)
  [ -z "$links" ] || e2e_fail "links left: $links"
  if command -v nft >/dev/null 2>&1; then
    nft list table inet berth >"$T/nft" 2>&1
    grep -q 'chain proj-' "$T/nft" && e2e_fail "project chains left: $(grep 'chain proj-' "$T/nft")"
  fi
  t3=$(date +%s)
  e2e_log "ok: everything removed: no container, bridge, veth, project chain or network left ($((t3 - t0)) s in all)"
}

berthd_main berth_network_scale body "$@"
