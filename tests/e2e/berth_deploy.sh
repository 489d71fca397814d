#!/bin/sh
# End-to-end test of projects through berthd + berth (issue 7): `berth
# deploy` of a busybox project made here (main: httpd on 8080 published on
# 18081; init: a one-shot that seeds a volume; db: a sleeper; worker: a
# sleeper that depends on db). Its own berthd in a throwaway node
# (hack/lib/berthd.sh). Checks:
#   - deploy answers through the public port; depends_on order holds (init,
#     service_completed_successfully, ran before main: main serves its seed)
#   - status/ls show the project and its public address; PROJECT/SERVICE
#     addressing (exec, logs)
#   - an unchanged redeploy touches nothing (ids and start times equal) and
#     takes < 1 s; changing worker's env recreates only worker
#   - a failed deploy (main exits 3) names main, its exit and its last log
#     lines, and the running main keeps serving
#   - removing worker from the file removes it and its DNS name
#   - a malformed file changes nothing and prints FILE:LINE:COL (exit 125)
#   - a killed main process is restarted and the project answers again
#   - down keeps the volume (a new deploy sees the seed); down --volumes removes it
#   - logs PROJECT: every service, prefixed "service | ", in time order; -f
#     follows them all (a line written later shows up prefixed)
#   - status: per container state, health, restarts, address, CPU, memory,
#     uptime, and the public address
#   - update PROJECT/SERVICE --memory says "updated live"; an unchanged
#     redeploy keeps the updated value; --disk grows live or says how to
#   - main without port: the image's lowest exposed TCP port is published
#     (answers on publish:); an image exposing none fails naming main
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

PORT=18081

# write_project DIR WORKER_ENV MAIN_CMD [no-worker]: the project file.
write_project() {
  mkdir -p "$1"
  {
    cat <<EOT
name: e2eshop
main:
  image: $BERTH_IMAGE
  port: 8080
  command: [sh, -c, "$3"]
  volumes: [data:/data]
  depends_on:
    db: {condition: service_started}
    init: {condition: service_completed_successfully}
  stop_grace_period: 1s
publish: $PORT
services:
  init:
    image: $BERTH_IMAGE
    command: [sh, -c, "[ -f /data/seed ] || echo seed-\$(cat /proc/sys/kernel/random/uuid) >/data/seed; cat /data/seed"]
    volumes: [data:/data]
    restart: "no"
  db:
    image: $BERTH_IMAGE
    command: [sleep, "100000"]
    stop_grace_period: 1s
EOT
    if [ "${4:-}" != no-worker ]; then
      cat <<EOT
  worker:
    image: $BERTH_IMAGE
    command: [sleep, "100000"]
    environment: {WORKER: "$2"}
    depends_on: [db]
    stop_grace_period: 1s
EOT
    fi
    echo "volumes: [data]"
  } >"$1/berth.yaml"
}

MAIN_OK='mkdir -p /www && { echo main-ok; cat /data/seed; } >/www/index.html && exec httpd -f -p 8080 -h /www'

# fetch: the page through the public port ("" when it does not answer in 10 s).
fetch() { berth_fetch "$PORT" 50; }

# snapshot: "service id started" of every container, sorted.
snapshot() { berth_project_snapshot e2eshop; }

deploy() {
  berth_cli deploy "$@" >"$T/deploy.out" 2>"$T/deploy.err"
}

# check_status: every column of berth status filled for the running services.
check_status() {
  head -1 "$T/status.out" | grep -q 'SERVICE .*STATE .*HEALTH .*RESTARTS .*ADDRESS .*CPU .*MEMORY .*UPTIME' \
    || e2e_fail "status header: $(cat "$T/status.out")"
  # db: running, no check (-), 0 restarts, an address, CPU %, memory, uptime.
  grep -Eq '^db +e2eshop-db +running +- +0 +[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ +[0-9.]+% +[0-9.]+ ?[KMG]?i?B +[0-9A-Za-z]' "$T/status.out" \
    || e2e_fail "status: db's row incomplete: $(cat "$T/status.out")"
  e2e_log "ok: status shows state, health, restarts, address, CPU, memory, uptime, public address"
}

# check_project_logs: logs PROJECT merges every service with its prefix; -f
# follows them and shows a line written afterwards.
check_project_logs() {
  berth_cli logs e2eshop >"$T/plogs.out" 2>"$T/plogs.err" || e2e_fail "logs e2eshop: $(cat "$T/plogs.err")"
  grep -Eq "^init +\| $seed\$" "$T/plogs.out" || e2e_fail "logs e2eshop: no prefixed init line: $(cat "$T/plogs.out")"
  if grep -qv ' | ' "$T/plogs.out"; then e2e_fail "logs e2eshop: a line without prefix: $(cat "$T/plogs.out")"; fi
  berth_cli logs -f e2eshop >"$T/follow.out" 2>"$T/follow.err" &
  fpid=$!
  sleep 0.5
  berth_cli exec e2eshop/db sh -c 'echo late-line-from-db >/proc/1/fd/1' >/dev/null 2>&1 \
    || e2e_fail "could not write to db's stdout"
  i=0
  while [ $i -lt 30 ] && ! grep -q late-line "$T/follow.out"; do sleep 0.1; i=$((i + 1)); done
  kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null
  grep -Eq "^init +\| $seed\$" "$T/follow.out" || e2e_fail "logs -f: no history: $(cat "$T/follow.out" "$T/follow.err")"
  grep -Eq '^db +\| late-line-from-db$' "$T/follow.out" || e2e_fail "logs -f: the later db line: $(cat "$T/follow.out" "$T/follow.err")"
  e2e_log "ok: logs PROJECT prefixed and merged; -f follows every service"
}

# check_update_survives_redeploy: a live update, then an unchanged deploy
# keeps both the container and the new limit.
check_update_survives_redeploy() {
  out=$(berth_cli update --memory 96m e2eshop/db 2>&1) || e2e_fail "update e2eshop/db: $out"
  e2e_expect "update says live" "e2eshop/db: updated live" "$out"
  before=$(snapshot)
  deploy "$P" || e2e_fail "redeploy after update: $(cat "$T/deploy.err")"
  grep -q "up to date" "$T/deploy.out" || e2e_fail "redeploy after update: $(cat "$T/deploy.out")"
  e2e_expect "redeploy after update: containers" "$before" "$(snapshot)"
  e2e_expect "redeploy after update: db's memory" 100663296 "$(berth_inspect e2eshop-db memory_bytes)"
  e2e_log "ok: update PROJECT/SERVICE is live; an unchanged redeploy keeps it"
}

# check_port_from_image: main without port: gets the image's lowest exposed
# TCP port, published on publish:; with a disk, --disk grows it live or says
# how; an image exposing nothing fails naming main and creates nothing.
check_port_from_image() {
  berth_test_image "$T/exposed-image" exposed --config '{"ExposedPorts": {"9999/tcp": {}, "9090/tcp": {}, "53/udp": {}}}'
  (cd "$T/exposed-image" && tar -cf "$T/exposed.tar" .) || e2e_fail "tar the image"
  berth_cli image import "$T/exposed.tar" localhost/exposed:e2e >"$T/import.out" 2>&1 \
    || e2e_fail "import: $(cat "$T/import.out")"
  mkdir -p "$T/port"
  cat >"$T/port/berth.yaml" <<EOT
name: e2eport
main:
  image: localhost/exposed:e2e
  command: [sh, -c, "mkdir -p /www && echo port-ok >/www/index.html && exec httpd -f -p 9090 -h /www"]
  resources: {disk: 32m}
  stop_grace_period: 1s
publish: $PORT
EOT
  deploy "$T/port" || e2e_fail "deploy of main without port: $(cat "$T/deploy.err") $(cat "$T/deploy.out")"
  grep -q "port 9090 (from the image)" "$T/deploy.out" || e2e_fail "deploy does not say the port: $(cat "$T/deploy.out")"
  e2e_expect "main's port from the image: page" port-ok "$(fetch)"
  berth_cli status e2eport 2>&1 | grep -q "public address: 0.0.0.0:$PORT" || e2e_fail "status e2eport: $(berth_cli status e2eport 2>&1)"
  if out=$(berth_cli update --disk 64m e2eport/main 2>&1); then
    :
  else
    e2e_fail "update --disk 64m e2eport/main: $out"
  fi
  case $out in
    *"updated live"*|*"restarted to grow its disk"*) ;;
    *) e2e_fail "update --disk of a service says neither live nor restarted: $out" ;;
  esac
  e2e_expect "disk limit after update --disk" 67108864 "$(berth_inspect e2eport-main disk.limit)"
  e2e_expect "main answers after update --disk" port-ok "$(fetch)"
  e2e_log "ok: main's port from the image published on $PORT; update --disk: $(echo "$out" | tail -1)"
  berth_cli down e2eport >/dev/null 2>&1 || e2e_fail "down e2eport"
  mkdir -p "$T/noport"
  printf 'name: e2enoport\nmain:\n  image: %s\n  command: [sleep, "100"]\n' "$BERTH_IMAGE" >"$T/noport/berth.yaml"
  if deploy "$T/noport"; then e2e_fail "main without any port deployed"; fi
  grep -q "noport/berth.yaml: main: no port" "$T/deploy.err" || e2e_fail "no-port error: $(cat "$T/deploy.err")"
  berth_cli ls 2>&1 | grep -q e2enoport && e2e_fail "a failed no-port deploy left containers"
  e2e_log "ok: main without a port anywhere: $(head -1 "$T/deploy.err")"
}

body() {
  berthd_up
  P=$T/proj
  write_project "$P" one "$MAIN_OK"

  # ------------------------------------------------------- first deploy
  deploy "$P" || e2e_fail "deploy: $(cat "$T/deploy.err") $(cat "$T/deploy.out")"
  e2e_log "first deploy: $(tail -2 "$T/deploy.out" | tr '\n' ' ')"
  page=$(fetch) || e2e_fail "no answer on port $PORT after deploy: $(cat "$T/deploy.out")"
  seed=$(berth_cli exec e2eshop/db cat /data/seed 2>/dev/null || true)
  [ -z "$seed" ] && seed=$(berth_cli logs e2eshop/init 2>/dev/null | tail -1)
  case $page in
    main-ok*seed-*) ;;
    *) e2e_fail "page through the public port: '$page'" ;;
  esac
  e2e_expect "main served init's seed (init ran first)" "$seed" "$(echo "$page" | sed -n 2p)"
  e2e_expect "init completed" exited "$(snapshot | awk '$1 == "init" {print $4}')"
  berth_cli status e2eshop >"$T/status.out" 2>&1 || e2e_fail "status: $(cat "$T/status.out")"
  grep -q "public address: 0.0.0.0:$PORT" "$T/status.out" || e2e_fail "status: no public address: $(cat "$T/status.out")"
  grep -q '^worker .*running' "$T/status.out" || e2e_fail "status: worker not running: $(cat "$T/status.out")"
  berth_cli ls >"$T/ls.out" 2>&1 || e2e_fail "ls: $(cat "$T/ls.out")"
  grep -q "^e2eshop .*3/4 running .*0.0.0.0:$PORT" "$T/ls.out" || e2e_fail "ls: $(cat "$T/ls.out")"
  berth_cli exec e2eshop/main nslookup worker >"$T/ns.out" 2>&1 || e2e_fail "main cannot resolve worker: $(cat "$T/ns.out")"
  e2e_log "ok: deploy answers on $PORT, init ran first, status/ls/PROJECT/SERVICE work"
  check_status
  check_project_logs

  # ------------------------------------------------------- unchanged redeploy
  before=$(snapshot)
  t0=$(date +%s%N)
  deploy "$P" || e2e_fail "unchanged redeploy: $(cat "$T/deploy.err")"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  e2e_expect "unchanged redeploy: containers (ids, start times)" "$before" "$(snapshot)"
  grep -q "up to date" "$T/deploy.out" || e2e_fail "unchanged redeploy says: $(cat "$T/deploy.out")"
  [ "$ms" -lt 1000 ] || e2e_fail "unchanged redeploy took $ms ms"
  e2e_log "ok: unchanged redeploy in $ms ms (CLI wall time; $(grep -o '[0-9]* ms' "$T/deploy.out") in berthd)"
  check_update_survives_redeploy

  # ------------------------------------------------------- one env changed
  write_project "$P" two "$MAIN_OK"
  deploy "$P" || e2e_fail "redeploy with worker's env changed: $(cat "$T/deploy.err")"
  after=$(snapshot)
  for s in main db init; do
    e2e_expect "env of worker changed: $s untouched" "$(echo "$before" | grep "^$s ")" "$(echo "$after" | grep "^$s ")"
  done
  old=$(echo "$before" | awk '$1 == "worker" {print $2}')
  new=$(echo "$after" | awk '$1 == "worker" {print $2}')
  [ -n "$new" ] && [ "$old" != "$new" ] || e2e_fail "worker not recreated: $before / $after"
  e2e_expect "worker's new env" two "$(berth_cli exec e2eshop/worker sh -c 'echo $WORKER' 2>&1)"
  e2e_expect "one worker container" 1 "$(echo "$after" | grep -c '^worker ')"
  e2e_log "ok: changing worker's env recreated only worker"

  # ------------------------------------------------------- failed deploy keeps serving
  write_project "$P" two 'echo boom-before-exit; exit 3'
  before=$(snapshot)
  if deploy "$P"; then e2e_fail "a deploy whose main exits 3 succeeded"; fi
  grep -q "main: exited with code 3" "$T/deploy.err" || e2e_fail "failed deploy: $(cat "$T/deploy.err")"
  grep -q "boom-before-exit" "$T/deploy.err" || e2e_fail "failed deploy without main's log: $(cat "$T/deploy.err")"
  page=$(fetch) || e2e_fail "after a failed deploy the project does not answer"
  e2e_expect "after a failed deploy: the old main serves" main-ok "$(echo "$page" | head -1)"
  e2e_expect "after a failed deploy: containers" "$(echo "$before" | cut -d' ' -f1,2)" "$(snapshot | cut -d' ' -f1,2)"
  e2e_log "ok: a failed deploy names main, shows its log, the old main serves"

  # ------------------------------------------------------- service removed
  write_project "$P" two "$MAIN_OK" no-worker
  deploy "$P" || e2e_fail "deploy without worker: $(cat "$T/deploy.err")"
  e2e_expect "worker removed" 0 "$(snapshot | grep -c '^worker ')"
  if berth_cli exec e2eshop/main nslookup worker >"$T/ns.out" 2>&1; then
    e2e_fail "worker still resolves after its removal: $(cat "$T/ns.out")"
  fi
  e2e_log "ok: removing worker from the file removed it and its DNS name"

  # ------------------------------------------------------- malformed file
  before=$(snapshot)
  cp "$P/berth.yaml" "$T/good.yaml"
  sed -i 's/^services:/servces:/' "$P/berth.yaml"
  deploy "$P"
  rc=$?
  e2e_expect "malformed file: exit code" 125 "$rc"
  grep -q "berth.yaml:[0-9]*:[0-9]*: " "$T/deploy.err" || e2e_fail "malformed file: $(cat "$T/deploy.err")"
  e2e_expect "malformed file: nothing changed" "$before" "$(snapshot)"
  cp "$T/good.yaml" "$P/berth.yaml"
  e2e_log "ok: malformed file: $(head -1 "$T/deploy.err")"

  # ------------------------------------------------------- killed main restarts
  pid=$(berth_inspect e2eshop-main pid 2>/dev/null || true)
  [ -n "$pid" ] && [ "$pid" -gt 0 ] 2>/dev/null || pid=$(berth_cli inspect "$(berth_cli ps -q --filter label=berth.service=main 2>/dev/null | head -1)" 2>/dev/null | berth_json pid)
  [ -n "$pid" ] && [ "$pid" -gt 0 ] || e2e_fail "no pid for main"
  kill -KILL "$pid"
  i=0
  while [ $i -lt 100 ]; do
    n=$(berth_cli ps -a --format json 2>/dev/null | grep -c '"restart_count": *[1-9]\|"restartCount": *[1-9]' || true)
    [ "$n" -gt 0 ] && break
    sleep 0.1; i=$((i + 1))
  done
  page=$(fetch) || e2e_fail "the project does not answer after main was killed"
  e2e_expect "after kill -9 of main: page" main-ok "$(echo "$page" | head -1)"
  e2e_log "ok: a killed main process is restarted and the project answers"

  # ------------------------------------------------------- down keeps volumes
  berth_cli down e2eshop >"$T/down.out" 2>&1 || e2e_fail "down: $(cat "$T/down.out")"
  e2e_expect "after down: containers" "" "$(snapshot)"
  berth_cli volume inspect e2eshop_data >/dev/null 2>&1 || e2e_fail "down removed the volume"
  deploy "$P" || e2e_fail "deploy after down: $(cat "$T/deploy.err")"
  page=$(fetch) || e2e_fail "no answer after down + deploy"
  e2e_expect "after down + deploy: the volume's seed" "$seed" "$(echo "$page" | sed -n 2p)"
  berth_cli down --volumes e2eshop >"$T/down.out" 2>&1 || e2e_fail "down --volumes: $(cat "$T/down.out")"
  if berth_cli volume inspect e2eshop_data >/dev/null 2>&1; then e2e_fail "down --volumes left the volume"; fi
  e2e_expect "after down --volumes: containers" "" "$(snapshot)"
  e2e_log "ok: down keeps the volume, down --volumes removes it"
  check_port_from_image
}

berthd_main deploy body "$@"
