#!/bin/sh
# End-to-end test of project networks against the world around them, through
# berthd + berth (issue 5). Its own berthd in a throwaway node netns
# (hack/lib/berthd.sh), plus an "internet" namespace the test makes inside
# the sandbox: a veth links the node (198.18.0.1/24, default route via the
# peer) to the peer (198.18.0.2/24, no route back to any project subnet),
# which runs busybox httpd (a CGI prints REMOTE_ADDR) and dnsmasq answering
# example.test. The node's /etc/resolv.conf (bind-mounted, in the sandbox's
# private mount namespace only) names the peer's DNS before berthd starts.
# Checks:
#   - cross-project isolation: a container of project a cannot ping nor
#     open a TCP connection to a container of project b by address (while a
#     container of b can), and resolves neither NAME nor NAME.b of b's
#     containers, not even asking b's DNS server directly;
#   - containers cannot reach the node's own services (a node httpd), only
#     published ports and their DNS;
#   - outbound: a container fetches http://198.18.0.2/ through NAT, and the
#     peer sees the node's address as the source (masquerade); it resolves
#     example.test through berth's DNS (forwarded to the peer's dnsmasq);
#   - a published port (-p 18081:80) answers from the node namespace
#     (127.0.0.1 and 198.18.0.1), from the peer namespace (198.18.0.1) and
#     from inside the project (hairpin: another container and the
#     publishing container itself reaching 198.18.0.1:18081);
#   - berthd killed (SIGKILL) and started again: DNS answers the same names
#     with the same addresses, `nft list table inet berth` (handles
#     stripped, lines sorted) is identical, no jump is duplicated, ports and
#     outbound still work;
#   - rm -f of every container and `network rm` leave no berth bridge, no
#     veth, no project chain nor jump in the table, no network (no lease).
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

NODE_IP=198.18.0.1
PEER_IP=198.18.0.2
PORT=18081
PEER=
PEER_PIDS=

# ------------------------------------------------------------ the "internet" peer

# peer_cleanup: the BERTHD_CLEANUP_HOOK: stops the peer's servers and
# deletes its namespace, however the test ends.
peer_cleanup() {
  for _p in $PEER_PIDS; do kill -KILL "$_p" 2>/dev/null; done
  [ -n "$PEER" ] && e2e_netns_del "$PEER"
  umount /etc/resolv.conf 2>/dev/null
  return 0
}

# in_peer CMD...: CMD in the peer namespace, bounded.
in_peer() { timeout -k 2 10 nsenter --net="/run/netns/$PEER" "$@"; }

# peer_up: the peer namespace, its link to the node, its HTTP and DNS
# servers, and the node's resolv.conf pointing at it. Before berthd starts.
peer_up() {
  e2e_need dnsmasq nsenter
  # /run is this sandbox's own tmpfs: the name cannot clash with another run.
  PEER=berth-inet-${E2E_RUN:-$$}
  # shellcheck disable=SC2034 # run by berthd_cleanup (hack/lib/berthd.sh)
  BERTHD_CLEANUP_HOOK=peer_cleanup
  e2e_netns_add "$PEER"
  ip link add inet0 type veth peer name eth0 netns "$PEER" || e2e_fail "ip link add inet0 (veth to $PEER)"
  ip addr add "$NODE_IP/24" dev inet0 || e2e_fail "ip addr add $NODE_IP/24 dev inet0"
  ip link set inet0 up || e2e_fail "ip link set inet0 up"
  ip route add default via "$PEER_IP" || e2e_fail "ip route add default via $PEER_IP"
  ip -n "$PEER" addr add "$PEER_IP/24" dev eth0 || e2e_fail "ip -n $PEER addr add $PEER_IP/24"
  ip -n "$PEER" link set eth0 up || e2e_fail "ip -n $PEER link set eth0 up"

  mkdir -p "$T/www/cgi-bin" || e2e_fail "mkdir $T/www"
  echo outside-ok >"$T/www/index.html"
  printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\necho "$REMOTE_ADDR"\n' \
    >"$T/www/cgi-bin/addr"
  chmod 755 "$T/www/cgi-bin/addr"
  nsenter --net="/run/netns/$PEER" busybox httpd -f -p "$PEER_IP:80" -h "$T/www" \
    </dev/null >"$T/httpd.log" 2>&1 &
  PEER_PIDS="$PEER_PIDS $!"
  nsenter --net="/run/netns/$PEER" dnsmasq -k -C /dev/null -u root --no-resolv --no-hosts \
    --bind-interfaces --listen-address="$PEER_IP" --except-interface=lo \
    --host-record="example.test,$PEER_IP" --local=/test/ --log-queries \
    --log-facility="$T/dnsmasq.log" --pid-file= </dev/null >"$T/dnsmasq.out" 2>&1 &
  PEER_PIDS="$PEER_PIDS $!"

  # The node reaches the peer's servers (checked before berthd is involved).
  e2e_wait 10 sh -c "timeout 3 busybox wget -q -O - http://$PEER_IP/ | grep -q outside-ok" \
    || e2e_fail "the peer's httpd does not answer the node: $(cat "$T/httpd.log")"
  e2e_wait 10 sh -c "timeout 3 busybox nslookup example.test $PEER_IP | grep -q 'Address: $PEER_IP'" \
    || e2e_fail "the peer's dnsmasq does not answer the node: $(cat "$T/dnsmasq.out" "$T/dnsmasq.log" 2>&1 | tail -n 5)"

  # berthd's forwarder reads the node's resolv.conf: ours, in this mount
  # namespace only.
  echo "nameserver $PEER_IP" >"$T/resolv.conf"
  mount --bind "$T/resolv.conf" /etc/resolv.conf || e2e_fail "bind-mount $T/resolv.conf on /etc/resolv.conf"
  e2e_log "ok: peer namespace $PEER ($PEER_IP) with httpd and dnsmasq, ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
}

# ------------------------------------------------------------ helpers

# run_c NAME NETWORK [RUN FLAGS...] IMAGE CMD...: berth run -d.
run_c() {
  _n=$1; _net=$2; shift 2
  berth_cli run -d --name "$_n" --network "$_net" "$@" >/dev/null 2>"$T/err" \
    || e2e_fail "run -d --name $_n --network $_net: $(cat "$T/err")"
}

# httpd_cmd TEXT: a container command serving TEXT on port 80.
httpd_cmd() { echo "mkdir -p /www && echo $1 >/www/index.html && exec httpd -f -p 80 -h /www"; }

# lookup FROM NAME [SERVER]: the addresses FROM's nslookup answers for NAME
# (sorted, space-separated; empty when it does not resolve).
lookup() {
  BERTH_CLI_SECS=20 berth_cli exec "$1" timeout 8 nslookup "$2" ${3:+"$3"} >"$T/ns.out" 2>&1
  # The answers follow "Name:"; the "Address:" before it is the server's.
  awk '/^Name:/ {a = 1} a && /^Address:/ {print $2}' "$T/ns.out" | sort | tr '\n' ' ' | sed 's/ $//'
}

# fetch FROM URL: FROM's busybox wget of URL (FROM "node" or "peer": from
# that namespace, else a container); prints the body. Bounded by timeout(1),
# not wget -T: Debian busybox 1.35's wget -T crashes (SIGSEGV), anywhere.
fetch() {
  case $1 in
    node) timeout 5 busybox wget -q -O - "$2" 2>&1 ;;
    peer) in_peer busybox wget -q -O - "$2" 2>&1 ;;
    *) BERTH_CLI_SECS=15 berth_cli exec "$1" timeout 6 wget -q -O - "$2" 2>&1 ;;
  esac
}

# fetch_expect FROM URL TEXT: fetch answers TEXT (retried for up to 5 s:
# a server just started may not listen yet).
fetch_expect() {
  _i=0
  while [ $_i -lt 10 ]; do
    _got=$(fetch "$1" "$2") && [ "$_got" = "$3" ] && { e2e_log "ok: $1 -> $2"; return 0; }
    sleep 0.5
    _i=$((_i + 1))
  done
  e2e_fail "$1 fetching $2: expected '$3', got '$_got'"
}

# addr_of CONTAINER: its address from berth inspect.
addr_of() {
  _a=$(berth_inspect "$1" network_address) || e2e_fail "berth inspect $1 failed"
  [ -n "$_a" ] || e2e_fail "no network_address for $1"
  echo "$_a"
}

# nft_snapshot FILE: `table inet berth`, one "CHAIN: LINE" per rule or
# chain property, handles stripped, sorted (duplicates kept, so a duplicated
# rule shows as a difference, and a rule moved to another chain too).
nft_snapshot() {
  timeout 10 nft list table inet berth 2>&1 | sed 's/ *# handle [0-9]*//' | awk '
    { sub(/^[ \t]+/, "") }
    /^chain / { chain = $2; print "chain " chain; next }
    /^}$/ || /^table / || $0 == "" { next }
    { print chain ": " $0 }' | sort >"$1"
}

# dns_snapshot FILE: what a1, b1 and b2 resolve for the project names.
dns_snapshot() {
  : >"$1"
  for q in "a1 a1" "a1 a2" "a1 pub" "a1 a2.a" "a1 web" "a2 a1.a" "b1 b2" "b2 b1" "b2 b1.b" \
    "a1 example.test" "a1 b1" "a1 b1.b"; do
    # shellcheck disable=SC2086 # FROM NAME
    echo "$q -> $(lookup $q)" >>"$1"
  done
}

# ------------------------------------------------------------ the test

body() {
  for c in nft nsenter; do e2e_need "$c"; done
  t0=$(date +%s)
  peer_up
  berthd_up
  img=$BERTH_IMAGE

  run_c a1 a --alias web "$img" sleep 3600
  run_c a2 a "$img" sleep 3600
  run_c pub a -p "$PORT:80" "$img" sh -c "$(httpd_cmd published-ok)"
  run_c b1 b "$img" sh -c "$(httpd_cmd b-ok)"
  run_c b2 b "$img" sleep 3600
  A1=$(addr_of a1); B1=$(addr_of b1); PUB=$(addr_of pub)
  GW_A=$(berth_cli network inspect a 2>/dev/null | berth_json gateway)
  GW_B=$(berth_cli network inspect b 2>/dev/null | berth_json gateway)
  e2e_log "a1 $A1, pub $PUB (a, gateway $GW_A); b1 $B1 (b, gateway $GW_B)"

  # ------------------------------------------------------- isolation
  # Controls first: inside b, b1 is reachable and resolvable.
  fetch_expect b2 "http://$B1/" b-ok
  [ "$(lookup b2 b1)" = "$B1" ] || e2e_fail "b2 cannot resolve b1 (control): $(cat "$T/ns.out")"
  berth_cli exec a2 ping -c1 -W2 "$A1" >"$T/ping.out" 2>&1 || e2e_fail "a2 cannot ping a1 (control): $(cat "$T/ping.out")"
  if berth_cli exec a1 ping -c1 -W2 "$B1" >"$T/ping.out" 2>&1; then
    berth_fail_later "a1 (project a) pings b1 (project b) at $B1"
  fi
  if got=$(fetch a1 "http://$B1/"); then
    berth_fail_later "a1 (project a) fetches http://$B1/ of b1 (project b): '$got'"
  fi
  for n in b1 b1.b b2.b; do
    got=$(lookup a1 "$n")
    [ -z "$got" ] || berth_fail_later "a1 (project a) resolves $n of project b to $got"
  done
  got=$(lookup a1 b1 "$GW_B")
  [ -z "$got" ] || berth_fail_later "a1 (project a) resolves b1 asking b's DNS at $GW_B: $got"
  e2e_log "ok: project a neither reaches nor resolves project b"

  # The node's own services are out of reach of containers.
  busybox httpd -f -p 18099 -h "$T/www" </dev/null >/dev/null 2>&1 &
  node_httpd=$!
  fetch_expect node "http://$NODE_IP:18099/" outside-ok
  for target in "$NODE_IP" "$GW_A"; do
    if got=$(fetch a1 "http://$target:18099/"); then
      berth_fail_later "a1 reaches the node's own service at $target:18099: '$got'"
    fi
  done
  kill "$node_httpd" 2>/dev/null
  e2e_log "ok: a container does not reach the node's own services"

  # ------------------------------------------------------- outbound
  fetch_expect a1 "http://$PEER_IP/" outside-ok
  src=$(fetch a1 "http://$PEER_IP/cgi-bin/addr")
  e2e_expect "the peer sees a1's request from the node's address (masquerade)" "$NODE_IP" "$src"
  got=$(lookup a1 example.test)
  e2e_expect "a1 resolves example.test through berth's DNS (forwarded to the peer)" "$PEER_IP" "$got"
  grep -q "from $NODE_IP" "$T/dnsmasq.log" \
    || berth_fail_later "dnsmasq logged no query from the node ($NODE_IP): $(tail -n 5 "$T/dnsmasq.log")"
  got=$(lookup a1 nothing.example.test)
  [ -z "$got" ] || e2e_fail "a1 resolves nothing.example.test (NXDOMAIN at the peer) to $got"

  # ------------------------------------------------------- published port
  for from in "node http://127.0.0.1:$PORT/" "node http://$NODE_IP:$PORT/" \
    "peer http://$NODE_IP:$PORT/" "a2 http://$NODE_IP:$PORT/" "pub http://$NODE_IP:$PORT/"; do
    # shellcheck disable=SC2086 # FROM URL
    fetch_expect $from published-ok
  done
  e2e_log "ok: published port $PORT from the node, the peer and inside the project (hairpin)"

  # ------------------------------------------------------- berthd SIGKILL
  nft_snapshot "$T/nft.before"
  dns_snapshot "$T/dns.before"
  berthd_kill9
  berthd_start
  nft_snapshot "$T/nft.after"
  dns_snapshot "$T/dns.after"
  e2e_log "DNS after the restart: $(sed 's/$/;/' "$T/dns.after" | tr '\n' ' ')"
  grep -q "^a1 example.test -> $PEER_IP\$" "$T/dns.before" \
    || e2e_fail "the DNS snapshot lacks example.test: $(cat "$T/dns.before")"
  diff "$T/dns.before" "$T/dns.after" >"$T/dns.diff" \
    || berth_fail_later "DNS answers differ after SIGKILL + start of berthd: $(cat "$T/dns.diff")"
  grep -q "^a1 a2 -> $(addr_of a2)\$" "$T/dns.after" \
    || berth_fail_later "a1 does not resolve a2 to its address: $(cat "$T/dns.after")"
  diff "$T/nft.before" "$T/nft.after" >"$T/nft.diff" \
    || berth_fail_later "table inet berth differs after SIGKILL + start of berthd: $(cat "$T/nft.diff")"
  dups=$(grep ': jump ' "$T/nft.after" | uniq -d)
  [ -z "$dups" ] || berth_fail_later "duplicated jumps in table inet berth: $dups"
  for want in ": jump proj-a-" ": jump proj-b-" "proj-a-prerouting: .*dport $PORT .*dnat"; do
    grep -q "$want" "$T/nft.after" || e2e_fail "table inet berth lacks '$want': $(cat "$T/nft.after")"
  done
  e2e_log "ok: after SIGKILL + start of berthd: same DNS answers, same nft table, no duplicates"
  fetch_expect peer "http://$NODE_IP:$PORT/" published-ok
  fetch_expect a2 "http://$NODE_IP:$PORT/" published-ok
  fetch_expect a1 "http://$PEER_IP/" outside-ok

  # ------------------------------------------------------- removal
  berth_cli rm -f a1 a2 pub b1 b2 >/dev/null 2>"$T/err" || e2e_fail "rm -f: $(cat "$T/err")"
  left=$(berth_cli ps -a -q 2>&1)
  [ -z "$left" ] || e2e_fail "containers left: $left"
  berth_cli network rm a b >/dev/null 2>"$T/err" || e2e_fail "network rm a b: $(cat "$T/err")"
  [ -z "$(berth_cli network ls -q 2>&1)" ] || e2e_fail "network ls after rm: $(berth_cli network ls 2>&1)"
  links=$(berthd_links_left)
  [ -z "$links" ] || e2e_fail "links left: $links"
  nft_snapshot "$T/nft.end"
  grep -q -e 'proj-' "$T/nft.end" && e2e_fail "project chains or jumps left: $(grep 'proj-' "$T/nft.end")"
  e2e_log "ok: no container, bridge, veth, project rule or network left ($(($(date +%s) - t0)) s in all)"
}

berthd_main berth_network_outside body "$@"
