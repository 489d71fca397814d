#!/bin/sh
# Project deploy benchmark (issue 7), three parts in one throwaway node
# (hack/lib/berthd.sh: its own network, PID and mount namespaces; traffic only
# to its loopback and the containers it starts):
#   1. the example project (examples/shop: nginx -> main -> redis, mariadb)
#      from images already present, timed from the command's start until
#      GET /?json through the public port answers 200 from nginx with the
#      Redis counter and the MariaDB visit count (every service touched):
#      `berth deploy examples/shop` against podman doing the same by a script
#      (podman_deploy: network, volumes, `podman run -d` with the same images,
#      env, volumes, nginx.conf, resources and restart policies, started in
#      berth's order: redis and mysql in parallel, waiting for both to be
#      healthy, then main, then nginx). Podman 4.3 runs healthchecks from
#      systemd timers, which the node has not; the script runs
#      `podman healthcheck run` itself on the berth.yaml's schedule (first
#      check one interval after the start, then every interval), as the timer
#      would. Debian packages podman-compose 1.0.3, which ignores depends_on
#      conditions (no health waits) and is not installed by hack/deps.sh;
#      `podman play kube` has no start ordering at all: the script is the
#      peer that does what berth does. Each run starts from images only
#      (`berth down shop --volumes` / podman's teardown between runs: MariaDB
#      initializes its data each time, for both). Target: berth <= 0.5x.
#   2. an unchanged redeploy (`berth deploy` of the same file, "up to date"),
#      BENCH_REDEPLOYS times, timed by hack/bench/timeit. Target < 100 ms.
#   3. a BENCH_SCALE-container project (busybox `sleep`: main and
#      BENCH_SCALE-1 services): deploy wall time, berthd's VmRSS idle (after
#      a restart) and with the containers running, the shims' total RSS;
#      podman starting as many containers (`podman run -d` in a loop on one
#      network) for comparison, with conmon's total RSS.
# The same images for both: the example archives (hack/mkimage-example,
# cached) imported into berthd and into podman's own storage.
#
# Usage: hack/bench/berth-deploy.sh [BUILD_DIR]
# Env:   BENCH_RUNS (5), BENCH_REDEPLOYS (20), BENCH_SCALE (256; 0 skips
#        part 3), BENCH_PODMAN_RUNTIME (crun), BERTH, BERTHD
set -u

[ -n "${1:-}" ] && [ "$1" != --inner ] && { BERTH_BUILD_DIR=$1; export BERTH_BUILD_DIR; shift; }
. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"
# shellcheck source=hack/lib/example.sh
. "$_berthd_src/hack/lib/example.sh"

BERTH_PORT=80     # the shop's public entrance (berth.yaml: nginx's port 80)
PODMAN_PORT=8080  # podman's nginx: another port, so neither sees the other's leftovers
HEALTH_INTERVAL=2 # the berth.yaml's healthcheck interval (s), for podman's checks

ms_now() { echo $(($(date +%s%N) / 1000000)); }

# wait_answer PORT SECS: until GET /?json through 127.0.0.1:PORT answers 200
# from nginx with integer "hits" (Redis) and "visits" (MariaDB); polls every
# 50 ms. Exit 1 (the last error on stderr) after SECS.
wait_answer() {
  "$PY" - "$1" "$2" <<'EOF'
import json, sys, time, urllib.request
port, secs = sys.argv[1], float(sys.argv[2])
deadline, last = time.monotonic() + secs, "no attempt"
while time.monotonic() < deadline:
    try:
        r = urllib.request.urlopen(f"http://127.0.0.1:{port}/?json", timeout=10)
        doc = json.loads(r.read())
        if r.status == 200 and r.headers.get("Server", "").startswith("nginx") \
                and isinstance(doc.get("hits"), int) and isinstance(doc.get("visits"), int):
            sys.exit(0)
        last = f"{r.status} {doc}"
    except Exception as e:  # refused, reset, 502 while main starts...
        last = repr(e)
    time.sleep(0.05)
sys.exit(f"no answer on :{port} within {secs:.0f} s: {last}")
EOF
}

# ------------------------------------------------------------------ podman

# podman_import LIST: the example archives into podman's storage, under the
# names berth uses (localhost/berth-example-NAME:latest).
podman_import() {
  while read -r _name _archive _ref; do
    _id=$(pm pull -q "oci-archive:$_archive" 2>"$T/pm.out") \
      || e2e_fail "podman pull oci-archive:$_archive: $(cat "$T/pm.out")"
    pm tag "$_id" "localhost/berth-example-$_name:latest" >"$T/pm.out" 2>&1 \
      || e2e_fail "podman tag $_id: $(cat "$T/pm.out")"
  done <"$1"
}

# pm_run NAME ALIAS ARGS...: podman run -d of one shop service on the shop
# network, reachable as ALIAS (as berth's service names).
pm_run() {
  _n=$1 _alias=$2
  shift 2
  pm run -d -q --name "shop-$_n" --network shop --network-alias "$_alias" \
    --cgroup-parent "$PODMAN_CGROUP_PARENT" --health-interval disable "$@" >/dev/null
}

# pm_healthy NAME RETRIES: healthy by `podman healthcheck run`, first one
# HEALTH_INTERVAL after the start, then every HEALTH_INTERVAL, at most
# RETRIES failures. (Health commands are given in shell form: podman 4.3
# takes a JSON array given to --health-cmd as one word.)
pm_healthy() {
  _left=$2
  while [ "$_left" -gt 0 ]; do
    sleep "$HEALTH_INTERVAL"
    timeout -k 2 10 podman healthcheck run "shop-$1" >"$T/health-$1.out" 2>&1 && return 0
    _left=$((_left - 1))
  done
  echo "shop-$1 not healthy after $2 checks: $(tail -n 2 "$T/health-$1.out" | tr '\n' ' ')" >&2
  return 1
}

# podman_deploy MODE: the shop of examples/shop/berth.yaml. MODE "same":
# as berth deploys it (deployer.h: each level waits until its containers are
# "up", healthy when they have a healthcheck: redis + mysql, then main, then
# nginx, each healthy); MODE "asked": health waits only where depends_on asks
# for service_healthy (redis + mysql before main), as Compose would.
podman_deploy() {
  _mode=$1 _img=localhost/berth-example
  pm network create shop >/dev/null || return 1
  for _v in static media db redis-data; do pm volume create "shop_$_v" >/dev/null || return 1; done
  pm_run redis redis -v shop_redis-data:/data --restart unless-stopped \
    --memory 128m --cpus 0.5 --pids-limit 64 \
    --health-cmd 'redis-cli ping' --health-timeout 3s --health-retries 15 \
    "$_img-redis:latest" &
  _r=$!
  pm_run mysql mysql -v shop_db:/var/lib/mysql --restart unless-stopped \
    --memory 512m --cpus 1 --pids-limit 256 \
    -e MARIADB_DATABASE=shop -e MARIADB_USER=shop -e MARIADB_PASSWORD=shop-secret \
    -e MARIADB_ROOT_PASSWORD=root-secret \
    --health-cmd /usr/local/bin/healthcheck.sh --health-timeout 5s --health-retries 30 \
    "$_img-mariadb:latest" &
  _m=$!
  wait $_r || return 1
  wait $_m || return 1
  pm_healthy redis 15 &
  _r=$!
  pm_healthy mysql 30 &
  _m=$!
  wait $_r || return 1
  wait $_m || return 1
  pm_run main main --network-alias shop -v shop_static:/app_data/static -v shop_media:/app_data/media \
    --memory 256m --cpus 1 --pids-limit 128 \
    -e REDIS_HOST=redis -e MYSQL_HOST=mysql -e MYSQL_DATABASE=shop -e MYSQL_USER=shop \
    -e MYSQL_PASSWORD=shop-secret \
    --health-cmd 'wget -q -O /dev/null http://127.0.0.1:5000/healthz' \
    --health-timeout 3s --health-retries 5 \
    "$_img-app:latest" || return 1
  if [ "$_mode" = same ]; then pm_healthy main 5 || return 1; fi
  pm_run nginx nginx -p "$PODMAN_PORT:80" -v shop_static:/srv/static:ro -v shop_media:/srv/media:ro \
    -v "$E2E_SRC/examples/shop/deploy/nginx.conf:/etc/nginx/nginx.conf:ro" \
    --memory 64m --cpus 0.5 --pids-limit 64 \
    --health-cmd 'wget -q -O /dev/null http://127.0.0.1/static/style.css' \
    --health-timeout 3s --health-retries 5 \
    "$_img-nginx:latest" || return 1
  if [ "$_mode" = same ]; then pm_healthy nginx 5 || return 1; fi
  return 0
}

# podman_state: the shop's containers and their last log lines (failures).
podman_state() {
  pm ps -a --format '{{.Names}} {{.Status}}'
  for _n in redis mysql main nginx; do
    echo "--- shop-$_n: $(pm logs --tail 3 "shop-$_n" 2>&1 | tr '\n' ' ')"
  done
}

# podman_down: everything podman_deploy made (quiet; bounded).
podman_down() {
  timeout -k 5 120 podman rm -f -t 0 shop-nginx shop-main shop-mysql shop-redis >/dev/null 2>&1
  timeout -k 5 60 podman volume rm -f shop_static shop_media shop_db shop_redis-data >/dev/null 2>&1
  timeout -k 5 60 podman network rm -f shop >/dev/null 2>&1
  return 0
}

# ------------------------------------------------------------------ part 1

# deploy_one TOOL TAG: one deploy from images only, then teardown. TOOL:
# berth, podman-same or podman-asked (podman_deploy's modes). The answer is
# polled from the command's start, concurrently, so the time is when the shop
# answers, whenever the command returns; appends "ANSWER_MS COMMAND_MS" to
# $T/TAG-TOOL.ms, or the failure to $T/TOOL.err.
deploy_one() {
  rm -f "$T/cmd.rc" "$T/cmd.t1"
  _port=$BERTH_PORT
  case $1 in podman-*) _port=$PODMAN_PORT ;; esac
  _t0=$(ms_now)
  (
    if [ "$1" = berth ]; then
      BERTH_CLI_SECS=180 berth_cli deploy -q "$E2E_SRC/examples/shop"
    else
      podman_deploy "${1#podman-}"
    fi
    _rc=$?
    ms_now >"$T/cmd.t1"
    echo $_rc >"$T/cmd.rc"
  ) >"$T/cmd.out" 2>&1 &
  _pid=$!
  wait_answer "$_port" 120 >"$T/answer.out" 2>&1
  _arc=$? _ta=$(ms_now)
  wait $_pid
  if [ $_arc -eq 0 ] && [ "$(cat "$T/cmd.rc")" = 0 ]; then
    echo "$((_ta - _t0)) $(($(cat "$T/cmd.t1") - _t0))" >>"$T/$2-$1.ms"
  else
    case $1 in podman-*) podman_state >>"$T/cmd.out" 2>&1 ;; esac
    echo "$2: $(cat "$T/answer.out") $(tail -n 8 "$T/cmd.out" | tr '\n' ' ')" >>"$T/$1.err"
  fi
  if [ "$1" = berth ]; then
    BERTH_CLI_SECS=120 berth_cli down shop --volumes >"$T/down.out" 2>&1 \
      || e2e_fail "berth down shop --volumes: $(cat "$T/down.out")"
  else
    podman_down
  fi
}

# col_median FILE COLUMN: the median of a column ("-" when none).
col_median() { [ -s "$1" ] && awk -v c="$2" '{print $c}' "$1" | bench_median || echo -; }

TOOLS="berth podman-same podman-asked"

# tool_label TOOL: its row in the table.
tool_label() {
  case $1 in
    berth) echo "berth deploy examples/shop" ;;
    podman-same) echo "podman script, berth's waits" ;;
    podman-asked) echo "podman script, depends_on waits" ;;
  esac
}

part_example() {
  runs=$1
  for tool in $TOOLS; do
    deploy_one "$tool" warm
    [ -s "$T/warm-$tool.ms" ] || e2e_fail "$tool: the warm-up deploy failed: $(cat "$T/$tool.err")"
  done
  i=1
  while [ $i -le "$runs" ]; do
    # shellcheck disable=SC2086 # TOOLS is a list of words
    for tool in $(printf '%s\n' $TOOLS | shuf); do deploy_one "$tool" run; done
    i=$((i + 1))
  done
  echo "1. deploy examples/shop from images until GET /?json through nginx answers (Redis + MariaDB),"
  echo "   polled every 50 ms from the command's start; $runs runs each, random order"
  printf '   %-34s %10s %12s %6s %9s\n' "" "answer ms" "command ms" runs failures
  for tool in $TOOLS; do
    printf '   %-34s %10s %12s %6s %9s\n' "$(tool_label "$tool")" "$(col_median "$T/run-$tool.ms" 1)" \
      "$(col_median "$T/run-$tool.ms" 2)" "$(wc -l <"$T/run-$tool.ms" 2>/dev/null || echo 0)" \
      "$(grep -c '^run:' "$T/$tool.err" 2>/dev/null || echo 0)"
  done
  for tool in $TOOLS; do
    echo "   answer ms, $tool:$(awk '{printf " %s", $1}' "$T/run-$tool.ms" 2>/dev/null)"
  done
  b=$(col_median "$T/run-berth.ms" 1)
  for peer in podman-same podman-asked; do
    ratio=$(bench_ratio "$b" "$(col_median "$T/run-$peer.ms" 1)")
    echo "   ratio berth/$peer (answer): ${ratio}x (target <= 0.50x)"
    if [ "$ratio" = - ] || awk -v r="$ratio" 'BEGIN {exit !(r > 0.5)}'; then
      echo "   target berth <= 0.5x $peer NOT met"
    fi
  done
  for tool in $TOOLS; do
    [ -s "$T/$tool.err" ] && echo "   $tool failures: $(head -n 3 "$T/$tool.err")"
  done
  return 0
}

# ------------------------------------------------------------------ part 2

part_redeploy() {
  n=$1
  BERTH_CLI_SECS=180 berth_cli deploy -q "$E2E_SRC/examples/shop" >"$T/cmd.out" 2>&1 \
    || e2e_fail "berth deploy examples/shop: $(cat "$T/cmd.out")"
  wait_answer "$BERTH_PORT" 60 || e2e_fail "the shop does not answer before the redeploys"
  i=0
  while [ $i -lt "$n" ]; do
    "$TIMEIT" "$T/redeploy.dat" "$BERTH" --socket "$BERTH_SOCKET" deploy -q "$E2E_SRC/examples/shop" \
      >"$T/redeploy.out" 2>&1
    grep -q 'up to date' "$T/redeploy.out" || head -n 1 "$T/redeploy.out" >>"$T/redeploy.err"
    i=$((i + 1))
  done
  # shellcheck disable=SC2046
  set -- $(bench_stats "$T/redeploy.dat")
  echo "2. unchanged redeploy: berth deploy examples/shop, $n runs: median $1 ms, p90 $2 ms, $3 failed (target < 100 ms)"
  echo "   berthd's own: $(sed -n 's/.*unchanged, \([0-9]*\) ms.*/\1 ms/p' "$T/redeploy.out" | head -n 1)"
  [ -s "$T/redeploy.err" ] && echo "   NOT up to date: $(sort "$T/redeploy.err" | uniq -c | head -n 3)"
  awk -v m="$1" 'BEGIN {exit !(m == "-" || m >= 100)}' && echo "   target < 100 ms NOT met"
  BERTH_CLI_SECS=120 berth_cli down shop --volumes >"$T/down.out" 2>&1 \
    || e2e_fail "berth down shop --volumes: $(cat "$T/down.out")"
}

# ------------------------------------------------------------------ part 3

# scale_project DIR N: a berth.yaml of main and N-1 busybox `sleep` services.
scale_project() {
  mkdir -p "$1"
  {
    echo "name: scale"
    echo "main:"
    echo "  image: $BERTH_IMAGE"
    echo "  port: 8080"
    echo "  command: [sleep, \"1000000\"]"
    echo "  stop_grace_period: 1s"
    echo "publish: 18090"
    echo "services:"
    _i=1
    while [ $_i -lt "$2" ]; do
      printf '  s%d:\n    image: %s\n    command: [sleep, "1000000"]\n    stop_grace_period: 1s\n' \
        "$_i" "$BERTH_IMAGE"
      _i=$((_i + 1))
    done
  } >"$1/berth.yaml"
}

# rss_of NAME: the summed VmRSS (KiB) of the processes whose comm is NAME,
# and their count: "KIB COUNT".
rss_of() {
  for _s in /proc/[0-9]*/status; do
    awk -v n="$1" '$1 == "Name:" && $2 == n {m = 1} $1 == "VmRSS:" && m {print $2}' "$_s" 2>/dev/null
  done | awk '{s += $1; c++} END {print s + 0, c + 0}'
}

vmrss() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }
vmhwm() { awk '$1 == "VmHWM:" {print $2}' "/proc/$1/status"; }

part_scale() {
  n=$1
  scale_project "$T/scale" "$n"
  # A fresh berthd: its RSS is this project's, not the earlier parts'.
  berthd_restart
  idle=$(vmrss "$BERTHD_PID")
  t0=$(ms_now)
  BERTH_CLI_SECS=900 berth_cli deploy -q "$T/scale" >"$T/scale.out" 2>&1 \
    || e2e_fail "berth deploy of $n containers: $(tail -n 5 "$T/scale.out")"
  bt=$(($(ms_now) - t0))
  running=$(berth_cli ps -q 2>/dev/null | wc -l)
  sleep 2
  busy=$(vmrss "$BERTHD_PID") hwm=$(vmhwm "$BERTHD_PID")
  # shellcheck disable=SC2046
  set -- $(rss_of berth-shim)
  shims="$1 KiB in $2 shims"
  BERTH_CLI_SECS=900 berth_cli down scale >"$T/down.out" 2>&1 \
    || e2e_fail "berth down scale: $(tail -n 5 "$T/down.out")"

  # A /16: podman's default /24 holds 253 containers.
  pm network create --subnet 10.90.0.0/16 scale >/dev/null || e2e_fail "podman network create scale"
  t0=$(ms_now)
  i=0
  while [ $i -lt "$n" ]; do
    pm run -d -q --name "scale-$i" --network scale --cgroup-parent "$PODMAN_CGROUP_PARENT" \
      "$PODMAN_IMAGE" sleep 1000000 >/dev/null 2>>"$T/pm-scale.err"
    i=$((i + 1))
  done
  pt=$(($(ms_now) - t0))
  prunning=$(pm ps -q | wc -l)
  # shellcheck disable=SC2046
  set -- $(rss_of conmon)
  conmons="$1 KiB in $2 conmons"
  timeout -k 5 600 podman rm -a -f -t 0 >/dev/null 2>&1
  timeout -k 5 60 podman network rm -f scale >/dev/null 2>&1

  echo "3. $n containers (busybox sleep): berth deploy of a project with main + $((n - 1)) services vs podman run -d x $n on one network"
  echo "   berth:  $bt ms ($running running); berthd VmRSS idle $idle KiB, with them running $busy KiB (VmHWM $hwm KiB); $shims"
  echo "   podman: $pt ms ($prunning running); $conmons"
  echo "   ratio berth/podman (wall time): $(bench_ratio "$bt" "$pt")x"
  # podman prints a syslog warning on each start in the node: not a failure.
  grep -v 'failed to connect to syslog' "$T/pm-scale.err" >"$T/pm-scale.fail"
  [ -s "$T/pm-scale.fail" ] && echo "   podman failures: $(sort "$T/pm-scale.fail" | uniq -c | head -n 3)"
  return 0
}

# ------------------------------------------------------------------ main

bench() {
  runs=${BENCH_RUNS:-5} redeploys=${BENCH_REDEPLOYS:-20} scale=${BENCH_SCALE:-256}
  for _v in "$runs" "$redeploys"; do
    case $_v in ''|*[!0-9]*|0) e2e_fail "BENCH_RUNS and BENCH_REDEPLOYS must be positive numbers" ;; esac
  done
  case $scale in ''|*[!0-9]*) e2e_fail "BENCH_SCALE must be a number (0 skips part 3)" ;; esac
  # shellcheck disable=SC2034 # read by berthd_cleanup
  BERTHD_CLEANUP_HOOK=bench_cleanup
  berthd_timeit
  berthd_up
  berthd_podman_setup "${BENCH_PODMAN_RUNTIME:-crun}"
  example_images "$(example_cache "$E2E_BUILD")" "$T/images" 2>"$T/err" || e2e_fail "$(cat "$T/err")"
  example_import "$T/images" berth_cli 2>"$T/err" || e2e_fail "$(cat "$T/err")"
  podman_import "$T/images"

  echo "berth deploy benchmark: berth $("$BERTH" --version 2>/dev/null | head -n 1); podman $(podman --version) (${BENCH_PODMAN_RUNTIME:-crun}, netavark)"
  echo "  kernel $(uname -r), $(nproc) CPUs"
  part_example "$runs"
  part_redeploy "$redeploys"
  [ "$scale" -gt 0 ] && part_scale "$scale"
  return 0
}

# bench_cleanup: podman's containers, volumes and networks (berthd's go
# through berthd_cleanup; the PID namespace takes what is left).
bench_cleanup() {
  [ -n "${P:-}" ] || return 0
  timeout -k 5 600 podman rm -a -f -t 0 >/dev/null 2>&1
  timeout -k 5 60 podman volume prune -f >/dev/null 2>&1
  timeout -k 5 60 podman network prune -f >/dev/null 2>&1
  return 0
}

BERTH_E2E_NO_UNIFIED=${BERTH_E2E_NO_UNIFIED:-1}
BERTHD_QUIET=1
BERTHD_SANDBOX_SECS=${BERTHD_SANDBOX_SECS:-3600}
export BERTH_E2E_NO_UNIFIED BERTHD_QUIET BERTHD_SANDBOX_SECS
berthd_main berth-deploy bench "$@"
