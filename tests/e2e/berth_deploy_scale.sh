#!/bin/sh
# End-to-end test of a project at its size limit (issue 7): a generated
# berth.yaml with main + 255 services (the parser's limit: 255 services
# besides main, 256 containers), all busybox sleepers, deployed through
# berthd + berth with its own berthd in a throwaway node
# (hack/lib/berthd.sh). Checks and prints:
#   - the deploy succeeds (its wall time is printed) and every service runs
#     exactly once (by label), 256 containers, one veth each; main (httpd)
#     answers through the public port;
#   - 6 sampled containers each resolve 8 other services' names (and main
#     and the project's name) to exactly the address `berth status` shows,
#     and an unknown name does not resolve;
#   - an unchanged redeploy changes nothing and takes < 1 s (printed);
#   - berthd's RSS (VmRSS) while it runs the 256 containers (printed);
#   - `berth down` leaves no container, container dir, bridge, veth or
#     project chain in `table inet berth`.
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

PROJ=e2escale
PORT=18094
N=255  # services besides main (agent/project/project_file.h: kMaxServices)

write_project() {
  mkdir -p "$P"
  {
    cat <<EOT
name: $PROJ
main:
  image: $BERTH_IMAGE
  port: 8080
  command: [sh, -c, "mkdir -p /www && echo scale-ok >/www/index.html && exec httpd -f -p 8080 -h /www"]
  stop_grace_period: 1s
publish: $PORT
services:
EOT
    _i=1
    while [ $_i -le $N ]; do
      printf '  s%d:\n    image: %s\n    command: [sleep, "100000"]\n    stop_grace_period: 1s\n' \
        "$_i" "$BERTH_IMAGE"
      _i=$((_i + 1))
    done
  } >"$P/berth.yaml"
}

# counts: "service count state" per container of the project (by label).
services_of() {
  berth_cli ps -a --format json 2>/dev/null | "$PY" -c '
import json, sys
text = sys.stdin.read().strip()
docs = json.loads(text) if text.startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
for c in docs:
    labels = c.get("labels") or {}
    state = str(c.get("state", "")).lower().removeprefix("state_")
    print(labels.get("berth.project", "-"), labels.get("berth.service", "-"), state, c["id"], c.get("started"))
' | sort
}

# check_names FROM NAME...: FROM's nslookup of each NAME (one exec for all)
# answers exactly the address in $T/addr ("service address" lines; the
# project's name is main's). A name starting with "none-" must not resolve.
check_names() {
  _from=$1; shift
  BERTH_CLI_SECS=60 berth_cli exec "$PROJ/$_from" sh -c \
    'for n in "$@"; do echo "=== $n"; timeout 5 nslookup "$n" 2>&1; echo "=== rc $?"; done' \
    sh "$@" >"$T/ns.out" 2>&1 || e2e_fail "exec nslookup in $_from: $(tail -n 5 "$T/ns.out")"
  "$PY" - "$T/addr" "$T/ns.out" "$PROJ" >"$T/ns.err" 2>&1 <<'EOF' \
    || e2e_fail "names resolved from $_from: $(cat "$T/ns.err")"
import re, sys
want = dict(l.split() for l in open(sys.argv[1]))
want[sys.argv[3]] = want["main"]
blocks = re.split(r"^=== (\S+)\n", open(sys.argv[2]).read(), flags=re.M)[1:]
bad = []
for name, text in zip(blocks[::2], blocks[1::2]):
    got = set()
    for part in text.split("Name:")[1:]:
        got |= set(re.findall(r"^Address:\s*([0-9.]+)\s*$", part, flags=re.M))
    if name.startswith("none-"):
        if got: bad.append(f"{name}: resolved to {sorted(got)}, expected no answer")
        continue
    if got != {want[name]}:
        bad.append(f"{name}: got {sorted(got) or 'no answer'}, status says {want[name]}"
                   f" (nslookup said: {' | '.join(text.strip().splitlines())})")
if bad: sys.exit("\n  ".join(bad))
EOF
}

body() {
  berthd_up
  P=$T/proj
  write_project

  # ------------------------------------------------------- deploy
  t0=$(date +%s%N)
  BERTH_CLI_SECS=150 berth_cli deploy -q "$P" >"$T/deploy.out" 2>"$T/deploy.err" \
    || e2e_fail "deploy of main + $N services: $(tail -c 2000 "$T/deploy.err") $(tail -5 "$T/deploy.out")"
  deploy_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  e2e_log "ok: deploy of main + $N services (256 containers): $deploy_ms ms wall ($(head -1 "$T/deploy.out" | cut -c1-120))"

  services_of >"$T/svc"
  total=$(wc -l <"$T/svc")
  [ "$total" -eq $((N + 1)) ] || e2e_fail "$total containers after the deploy, expected $((N + 1))"
  others=$(awk -v p="$PROJ" '$1 != p' "$T/svc")
  [ -z "$others" ] || e2e_fail "containers outside the project: $others"
  dups=$(awk '{print $2}' "$T/svc" | sort | uniq -d)
  [ -z "$dups" ] || e2e_fail "services with more than one container: $dups"
  notrun=$(awk '$3 != "running"' "$T/svc")
  [ -z "$notrun" ] || e2e_fail "containers not running: $(echo "$notrun" | head -5)"
  for s in main s1 s128 s$N; do
    grep -q " $s running " "$T/svc" || e2e_fail "service $s has no running container"
  done
  veths=$(ip -o link show 2>/dev/null | grep -c ': bveth')
  e2e_expect "veths for 256 containers" $((N + 1)) "$veths"
  page=$(timeout 5 busybox wget -q -O - "http://127.0.0.1:$PORT/" 2>&1)
  e2e_expect "main through the public port $PORT" scale-ok "$page"
  e2e_log "ok: every service runs exactly once ($total containers, $veths veths)"

  # ------------------------------------------------------- names
  BERTH_CLI_SECS=120 berth_cli status "$PROJ" >"$T/status.out" 2>"$T/status.err" \
    || e2e_fail "status $PROJ: $(cat "$T/status.err")"
  awk 'NR > 1 && $1 != "public" && $6 ~ /^[0-9.]+$/ {print $1, $6}' "$T/status.out" >"$T/addr"
  [ "$(wc -l <"$T/addr")" -eq $((N + 1)) ] \
    || e2e_fail "status shows $(wc -l <"$T/addr") addresses for $((N + 1)) containers: $(head -5 "$T/status.out")"
  [ -z "$(awk '{print $2}' "$T/addr" | sort | uniq -d)" ] || e2e_fail "status shows an address twice"
  k=0
  for from in main s1 s$((N / 3)) s$((N / 2)) s$((N * 4 / 5)) s$N; do
    k=$((k + 1))
    check_names "$from" main "$PROJ" s1 "s$N" "s$(((k * 37) % N + 1))" "s$(((k * 91 + 13) % N + 1))" \
      "s$(((k * 53 + 7) % N + 1))" "s$(((k * 131 + 29) % N + 1))" none-s$((N + 1000))
  done
  e2e_log "ok: 6 containers x 8 service names (+ main, $PROJ) resolve to the addresses status shows"

  # ------------------------------------------------------- unchanged redeploy, RSS
  t0=$(date +%s%N)
  BERTH_CLI_SECS=60 berth_cli deploy "$P" >"$T/deploy.out" 2>"$T/deploy.err" \
    || e2e_fail "unchanged redeploy: $(tail -c 2000 "$T/deploy.err")"
  redeploy_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  grep -q "up to date" "$T/deploy.out" || e2e_fail "unchanged redeploy says: $(tail -3 "$T/deploy.out")"
  e2e_expect "unchanged redeploy: containers (ids, start times)" "$(cat "$T/svc")" "$(services_of)"
  [ "$redeploy_ms" -lt 1000 ] || e2e_fail "unchanged redeploy of 256 containers took $redeploy_ms ms (>= 1 s)"
  e2e_log "ok: unchanged redeploy in $redeploy_ms ms wall ($(grep -o '[0-9]* ms' "$T/deploy.out") in berthd)"
  rss=$(awk '/^VmRSS:/ {print $2 " " $3}' "/proc/$BERTHD_PID/status")
  e2e_log "berthd RSS with 256 project containers: $rss (VmHWM $(awk '/^VmHWM:/ {print $2 " " $3}' "/proc/$BERTHD_PID/status"))"

  # ------------------------------------------------------- down
  t0=$(date +%s%N)
  BERTH_CLI_SECS=150 berth_cli down "$PROJ" >"$T/down.out" 2>"$T/down.err" \
    || e2e_fail "down: $(tail -c 2000 "$T/down.err")"
  down_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  left=$(berth_cli ps -a -q 2>&1)
  [ -z "$left" ] || e2e_fail "containers left after down: $(echo "$left" | wc -l)"
  dirs=$(find "$BERTHD_ROOT/containers" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  [ "$dirs" -eq 0 ] || e2e_fail "$dirs container dirs left after down"
  links=$(berthd_links_left)
  [ -z "$links" ] || e2e_fail "links left after down: $(echo "$links" | head -3)"
  if command -v nft >/dev/null 2>&1; then
    nft list table inet berth >"$T/nft" 2>&1
    grep -q 'proj-' "$T/nft" && e2e_fail "project chains or rules left: $(grep 'proj-' "$T/nft" | head -3)"
  fi
  e2e_log "ok: down in $down_ms ms leaves no container, dir, bridge, veth or project chain"
  e2e_log "figures: deploy $deploy_ms ms, unchanged redeploy $redeploy_ms ms, down $down_ms ms, berthd RSS $rss"
}

berthd_main berth_deploy_scale body "$@"
