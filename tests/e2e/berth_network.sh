#!/bin/sh
# End-to-end test of project networks through berthd + berth (issue 5).
# Its own berthd in a throwaway node netns (hack/lib/berthd.sh). Checks:
#   - two containers run with --network proj resolve each other by name,
#     by NAME.proj and by --alias (busybox nslookup), and reach each other
#     (ping -c1)
#   - berth inspect shows the container's network address
#   - a published port (-p 18080:80, busybox httpd in a container) answers
#     from the node namespace
#   - a stopped container's name is gone, and back when it starts again
#   - berthd killed (SIGKILL) and started again: names and ports still answer
#   - after rm -f of one container, its name no longer resolves
#   - a container without --network has a network of its own (address,
#     own name, no way into proj), removed with it; --network none has only
#     lo; --network host is refused
#   - network ls|inspect|rm; rm refused while containers are attached, and
#     leaves no bridge
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# resolves FROM NAME: FROM's nslookup of NAME succeeds (and prints an address).
resolves() {
  berth_cli exec "$1" nslookup "$2" >"$T/ns.out" 2>&1 \
    && grep -q 'Address.*10\.' "$T/ns.out"
}

body() {
  berthd_up
  img=$BERTH_IMAGE
  berth_cli run -d --name alpha --network proj --alias web "$img" sleep 300 >/dev/null 2>"$T/err" \
    || e2e_fail "run -d --network proj (alpha): $(cat "$T/err")"
  berth_cli run -d --name beta --network proj "$img" sleep 300 >/dev/null 2>"$T/err" \
    || e2e_fail "run -d --network proj (beta): $(cat "$T/err")"

  addr=$(berth_cli inspect alpha 2>"$T/err" | "$PY" -c 'import json,sys; j=json.load(sys.stdin); j=j[0] if isinstance(j,list) else j; print(j["network_address"])')
  case $addr in
    10.89.*) e2e_log "ok: inspect shows alpha's address $addr" ;;
    *) e2e_fail "inspect alpha: network_address is '$addr' ($(cat "$T/err"))" ;;
  esac

  for name in alpha alpha.proj web; do
    resolves beta "$name" || e2e_fail "beta cannot resolve $name: $(cat "$T/ns.out")"
  done
  resolves alpha beta || e2e_fail "alpha cannot resolve beta: $(cat "$T/ns.out")"
  e2e_log "ok: names, NAME.proj and aliases resolve"
  berth_cli exec beta ping -c1 -W2 alpha >"$T/ping.out" 2>&1 \
    || e2e_fail "beta cannot ping alpha: $(cat "$T/ping.out")"
  e2e_log "ok: beta reaches alpha by name"
  out=$(berth_cli exec alpha cat /etc/hostname 2>&1)
  e2e_expect "alpha's /etc/hostname" alpha "$out"

  # ------------------------------------------------------- a network of its own
  # No --network: a private network (eth0 with an address, its own name
  # resolving, a default route) that cannot reach project proj; gone with it.
  berth_cli run -d --name solo "$img" sleep 300 >/dev/null 2>"$T/err" \
    || e2e_fail "run -d without --network: $(cat "$T/err")"
  solo_id=$(berth_cli inspect solo | "$PY" -c 'import json,sys; j=json.load(sys.stdin); j=j[0] if isinstance(j,list) else j; print(j["id"])')
  own="c-$(printf %.12s "$solo_id")"
  berth_cli network ls -q 2>&1 | grep -qx "$own" || e2e_fail "network ls lacks solo's own network $own: $(berth_cli network ls 2>&1)"
  berth_cli exec solo ip -o -4 addr show eth0 >"$T/ip.out" 2>&1
  grep -q 'inet 10\.89\.' "$T/ip.out" || e2e_fail "solo has no eth0 address: $(cat "$T/ip.out")"
  resolves solo solo || e2e_fail "solo cannot resolve its own name: $(cat "$T/ns.out")"
  if resolves solo alpha; then e2e_fail "solo resolves alpha of project proj: $(cat "$T/ns.out")"; fi
  if berth_cli exec solo ping -c1 -W1 "$addr" >"$T/ping.out" 2>&1; then
    e2e_fail "solo (own network) reaches alpha at $addr"
  fi
  out=$(berth_cli run --rm --network none "$img" sh -c 'ls /sys/class/net 2>/dev/null || ip -o link | cut -d: -f2' 2>&1 | tr -d ' \n')
  e2e_expect "links of a --network none container" lo "$out"
  berth_expect_fail "run --network host" berth_cli run --rm --network host "$img" true
  berth_cli rm -f solo >/dev/null 2>"$T/err" || e2e_fail "rm -f solo: $(cat "$T/err")"
  if berth_cli network ls -q 2>&1 | grep -qx "$own"; then e2e_fail "solo's network $own outlives it"; fi
  e2e_log "ok: a container without --network has its own network, isolated, removed with it"

  # ------------------------------------------------------- stop / start
  berth_cli stop -t 1 beta >/dev/null 2>"$T/err" || e2e_fail "stop beta: $(cat "$T/err")"
  if resolves alpha beta; then e2e_fail "beta still resolves once stopped: $(cat "$T/ns.out")"; fi
  berth_cli start beta >/dev/null 2>"$T/err" || e2e_fail "start beta: $(cat "$T/err")"
  resolves alpha beta || e2e_fail "beta does not resolve after its start: $(cat "$T/ns.out")"
  e2e_log "ok: a stopped container's name is gone, back at its start"

  # ------------------------------------------------------- published port
  berth_cli run -d --name web1 --network proj -p 18080:80 "$img" \
    sh -c 'mkdir -p /www && echo published-ok >/www/index.html && exec httpd -f -p 80 -h /www' \
    >/dev/null 2>"$T/err" || e2e_fail "run -p 18080:80: $(cat "$T/err")"
  gw=$(berth_cli exec web1 sh -c 'ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p"' 2>/dev/null)
  got=
  i=0
  while [ $i -lt 30 ]; do
    for target in 127.0.0.1 ${gw:+"$gw"}; do
      got=$(timeout 5 busybox wget -q -O - "http://$target:18080/" 2>/dev/null) && break 2
    done
    sleep 0.2
    i=$((i + 1))
  done
  e2e_expect "published port 18080 from the node ($target)" published-ok "$got"

  # ------------------------------------------------------- berthd SIGKILL
  berthd_kill9
  berthd_start
  resolves alpha beta || e2e_fail "after SIGKILL + start of berthd: beta does not resolve: $(cat "$T/ns.out")"
  got=$(timeout 5 busybox wget -q -O - "http://$target:18080/" 2>&1)
  e2e_expect "after SIGKILL + start of berthd: published port" published-ok "$got"
  e2e_log "ok: names and ports survive a SIGKILL of berthd"

  # ------------------------------------------------------- removal
  berth_cli rm -f alpha >/dev/null 2>"$T/err" || e2e_fail "rm -f alpha: $(cat "$T/err")"
  if resolves beta alpha; then
    e2e_fail "alpha still resolves after rm -f: $(cat "$T/ns.out")"
  fi
  if resolves beta web; then
    e2e_fail "alias web still resolves after rm -f alpha: $(cat "$T/ns.out")"
  fi
  e2e_log "ok: a removed container's names are gone at once"

  # ------------------------------------------------------- network ls|inspect|rm
  berth_cli network ls >"$T/nls.out" 2>"$T/err" || e2e_fail "network ls: $(cat "$T/err")"
  grep -q '^proj ' "$T/nls.out" || e2e_fail "network ls does not list proj: $(cat "$T/nls.out")"
  sub=$(berth_cli network inspect proj 2>"$T/err" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["subnet"])')
  case $sub in 10.89.*/23) ;; *) e2e_fail "network inspect proj: subnet '$sub' ($(cat "$T/err"))" ;; esac
  berth_expect_fail "network rm of a network in use" berth_cli network rm proj
  berth_cli rm -f beta web1 >/dev/null 2>"$T/err" || e2e_fail "rm -f beta web1: $(cat "$T/err")"
  berth_cli network rm proj >/dev/null 2>"$T/err" || e2e_fail "network rm proj: $(cat "$T/err")"
  [ -z "$(berth_cli network ls -q 2>&1)" ] || e2e_fail "network ls after rm: $(berth_cli network ls 2>&1)"
  links=$(berthd_links_left)
  [ -z "$links" ] || e2e_fail "links left after network rm: $links"
  e2e_log "ok: network ls, inspect, rm (refused while in use), no bridge left"
  left=$(berth_cli ps -a -q 2>&1)
  [ -z "$left" ] || e2e_fail "containers left: $left"
  e2e_log "ok: nothing left"
}

berthd_main berth_network body "$@"
