#!/bin/sh
# End-to-end test of the example project (examples/shop, issue 7) as users
# run it: `berth deploy examples/shop`, with its own berthd in a throwaway
# node netns (hack/lib/berthd.sh). The images come from hack/mkimage-example
# (built once, cached; hack/lib/example.sh) and are imported under the names
# the berth.yaml gives. Checks:
#   - the deploy succeeds and names its public address (0.0.0.0:80, nginx)
#   - through the public port, GET / twice: the Redis counter and the MariaDB
#     visit count both go up by one (nginx -> main -> redis, mysql)
#   - /static/style.css is served by nginx from the static volume main wrote
#   - POST /upload lands in the media volume; GET /media/FILE through nginx
#     returns the same bytes
#   - `berth status shop`: the four services running and healthy (each has
#     a healthcheck); PROJECT/SERVICE addressing (exec shop/redis, logs
#     shop/nginx)
#   - an unchanged redeploy changes nothing (same container ids and start
#     times, "up to date") and is fast (< 1 s; the figure is logged)
#   - `berth down shop` keeps the volumes: a new deploy sees the MariaDB
#     visits and the upload of before
#   - `berth down shop --volumes` leaves no container, volume, network,
#     mount, container dir, bridge or veth, and the port no longer answers
# Traffic goes only to the node's loopback (127.0.0.1:80 in the test's own
# network namespace) and the test's containers.
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"
# shellcheck source=hack/lib/example.sh
. "$_berthd_src/hack/lib/example.sh"

PORT=80

# http METHOD PATH [FILE-TO-UPLOAD]: one request to the node's public port;
# prints "STATUS SERVER-HEADER" on the first line, then the body.
http() {
  "$PY" - "$PORT" "$@" <<'EOF'
import os, sys, urllib.request, urllib.error, uuid
port, method, path = sys.argv[1:4]
data, headers = None, {}
if len(sys.argv) > 4:
    name = sys.argv[4].rsplit("/", 1)[-1]
    boundary = uuid.uuid4().hex
    data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() \
        + open(sys.argv[4], "rb").read() + f"\r\n--{boundary}--\r\n".encode()
    headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                             headers=headers)
try:
    r = urllib.request.urlopen(req, timeout=float(os.environ.get("HTTP_TIMEOUT", "40")))
except urllib.error.HTTPError as e:
    r = e
body = r.read()
sys.stdout.write(f"{r.status} {r.headers.get('Server', '-')}\n")
sys.stdout.buffer.write(body)
EOF
}

# body_of FILE: an http reply without its first (status) line, byte-exact.
body_of() { tail -c +"$(($(head -n 1 "$1" | wc -c) + 1))" "$1"; }

# service_logs: every service's state and last log lines (for failures).
service_logs() {
  berth_cli status shop 2>&1
  for _svc in redis mysql main nginx; do
    echo "--- shop/$_svc:"
    berth_cli logs --tail 15 "shop/$_svc" 2>&1
  done
}

# deploy: berth deploy examples/shop (bounded: MariaDB initializes its data
# directory on a first start, ~10-20 s); output in $T/deploy.out.
deploy() {
  BERTH_CLI_SECS=180 berth_cli deploy "$E2E_SRC/examples/shop" >"$T/deploy.out" 2>&1 \
    || e2e_fail "berth deploy examples/shop: $(cat "$T/deploy.out")
$(service_logs)"
}

# wait_answer SECS: until GET /?json answers 200 through nginx.
wait_answer() {
  _start=$(date +%s)
  while [ $(($(date +%s) - _start)) -lt "$1" ]; do
    HTTP_TIMEOUT=5 http GET '/?json' >"$T/r0" 2>"$T/r0.err" && head -n 1 "$T/r0" | grep -q '^200 nginx' \
      && return 0
    sleep 0.3
  done
  e2e_fail "no answer through nginx on :$PORT within $1 s: $(head -c 300 "$T/r0"; tail -n 1 "$T/r0.err")
$(service_logs)"
}

# snapshot: "service id started state" of the project's containers, sorted.
snapshot() { berth_project_snapshot shop; }

# all_healthy: `berth status shop` shows the four services running and healthy.
all_healthy() {
  berth_cli status shop >"$T/status.out" 2>&1 || return 1
  [ "$(awk '$3 == "running" && $4 == "healthy" {print $1}' "$T/status.out" | sort | tr '\n' ' ')" \
    = "main mysql nginx redis " ]
}

ms_now() { echo $(($(date +%s%N) / 1000000)); }

body() {
  berthd_start

  # ---------------------------------------------------------------- images
  started=$(date +%s)
  example_images "$(example_cache "$E2E_BUILD")" "$T/images" 2>"$T/err" || e2e_fail "$(cat "$T/err")"
  example_import "$T/images" berth_cli 2>"$T/err" || e2e_fail "$(cat "$T/err")"
  e2e_log "ok: the example images built (or cached) and imported in $(($(date +%s) - started)) s"

  # ---------------------------------------------------------------- deploy
  t0=$(ms_now)
  deploy
  t1=$(ms_now)
  grep -q '^public address: 0.0.0.0:80$' "$T/deploy.out" \
    || e2e_fail "deploy did not name the public address 0.0.0.0:80: $(cat "$T/deploy.out")"
  wait_answer 60
  e2e_log "ok: berth deploy examples/shop in $((t1 - t0)) ms; answering through nginx $(($(ms_now) - t0)) ms after the start"

  # ------------------------------------------------- every service is used
  http GET '/?json' >"$T/r1" || e2e_fail "GET / (1): $(cat "$T/r1")"
  http GET / >"$T/r2" || e2e_fail "GET / (2): $(cat "$T/r2")"
  head -n 1 "$T/r1" | grep -q '^200 nginx' || e2e_fail "GET / (1): $(head -c 300 "$T/r1")"
  head -n 1 "$T/r2" | grep -q '^200 nginx' || e2e_fail "GET / (2): $(head -c 300 "$T/r2")"
  hits1=$(sed 1d "$T/r1" | berth_json hits) || e2e_fail "GET /?json: no hits: $(cat "$T/r1")"
  visits1=$(sed 1d "$T/r1" | berth_json visits) || e2e_fail "GET /?json: no visits: $(cat "$T/r1")"
  hits2=$(sed -n 's/.*id="hits">\([0-9]*\)<.*/\1/p' "$T/r2")
  visits2=$(sed -n 's/.*id="visits">\([0-9]*\)<.*/\1/p' "$T/r2")
  e2e_expect "Redis counter after one more GET /" "$((hits1 + 1))" "$hits2"
  e2e_expect "MariaDB visits after one more GET /" "$((visits1 + 1))" "$visits2"
  grep -q 'Served by <code>main</code>' "$T/r2" || e2e_fail "the page is not main's: $(cat "$T/r2")"
  e2e_log "ok: GET / through nginx -> main: Redis counter $hits1 -> $hits2, MariaDB visits $visits1 -> $visits2"

  http GET /static/style.css >"$T/css" || e2e_fail "GET /static/style.css: $(cat "$T/css")"
  head -n 1 "$T/css" | grep -q '^200 nginx' || e2e_fail "GET /static/style.css: $(head -c 300 "$T/css")"
  mp=$(berth_cli volume inspect shop_static | berth_json mountpoint) || e2e_fail "volume inspect shop_static"
  body_of "$T/css" | cmp -s - "$mp/style.css" \
    || e2e_fail "/static/style.css differs from the static volume's file ($mp/style.css): $(cat "$T/css")"
  grep -q 'berth example shop' "$T/css" || e2e_fail "style.css content: $(cat "$T/css")"
  e2e_log "ok: /static/style.css is served by nginx from the static volume main wrote"

  upload=$T/scratch/photo-$$.bin
  head -c 70000 /dev/urandom >"$upload"
  http POST /upload "$upload" >"$T/up" || e2e_fail "POST /upload: $(cat "$T/up")"
  head -n 1 "$T/up" | grep -q '^201 ' || e2e_fail "POST /upload: $(head -c 300 "$T/up")"
  http GET "/media/photo-$$.bin" >"$T/media" || e2e_fail "GET /media/photo-$$.bin: $(head -c 300 "$T/media")"
  head -n 1 "$T/media" | grep -q '^200 nginx' || e2e_fail "GET /media/photo-$$.bin: $(head -n 1 "$T/media")"
  body_of "$T/media" | cmp -s - "$upload" || e2e_fail "GET /media/photo-$$.bin: not the uploaded bytes"
  mp=$(berth_cli volume inspect shop_media | berth_json mountpoint) || e2e_fail "volume inspect shop_media"
  cmp -s "$mp/photo-$$.bin" "$upload" || e2e_fail "the upload is not in the media volume ($mp)"
  e2e_log "ok: POST /upload -> media volume -> GET /media/ through nginx, same bytes"

  # ---------------------------------------------------------------- status
  # Healthchecks run every 2-5 s: the first results come within seconds.
  _i=0
  until all_healthy || [ $_i -ge 60 ]; do sleep 0.5; _i=$((_i + 1)); done
  all_healthy || e2e_fail "berth status shop: not all four running and healthy within 30 s:
$(cat "$T/status.out")"
  grep -q '^public address: 0.0.0.0:80$' "$T/status.out" || e2e_fail "status: public address: $(cat "$T/status.out")"
  e2e_log "ok: berth status shop: main, mysql, nginx, redis running and healthy, public address 0.0.0.0:80"
  e2e_expect "berth exec shop/redis redis-cli ping" PONG "$(berth_cli exec shop/redis redis-cli ping 2>&1)"
  berth_cli logs shop/nginx >"$T/nginx.log" 2>&1 || e2e_fail "berth logs shop/nginx: $(cat "$T/nginx.log")"
  grep -q "GET /media/photo-$$.bin" "$T/nginx.log" \
    || e2e_fail "berth logs shop/nginx: no access log line for the upload: $(tail -n 5 "$T/nginx.log")"
  e2e_log "ok: PROJECT/SERVICE addressing: exec shop/redis, logs shop/nginx"

  # ------------------------------------------------- unchanged redeploy
  before=$(snapshot)
  [ "$(echo "$before" | wc -l)" -eq 4 ] || e2e_fail "expected 4 containers: $before"
  times=
  for _ in 1 2 3 4 5; do
    t0=$(ms_now)
    deploy
    times="$times $(($(ms_now) - t0))"
    grep -q '^shop is up to date (4 services unchanged' "$T/deploy.out" \
      || e2e_fail "unchanged redeploy changed something: $(cat "$T/deploy.out")"
  done
  e2e_expect "containers (ids, start times) after 5 unchanged redeploys" "$before" "$(snapshot)"
  median=$(echo "$times" | tr ' ' '\n' | sed '/^$/d' | bench_median)
  awk -v m="$median" 'BEGIN { exit !(m < 1000) }' || e2e_fail "unchanged redeploy took $median ms (median; runs:$times)"
  e2e_log "ok: an unchanged redeploy changes nothing: 'berth deploy' wall time median $median ms (runs:$times ms), berthd's: $(sed -n 's/.*unchanged, \([0-9]*\) ms.*/\1/p' "$T/deploy.out") ms"

  # --------------------------------------- down keeps volumes, redeploy
  http GET '/?json' >"$T/r3" || e2e_fail "GET / (3): $(cat "$T/r3")"
  visits3=$(sed 1d "$T/r3" | berth_json visits) || e2e_fail "GET /?json: no visits: $(cat "$T/r3")"
  berth_cli down shop >"$T/down.out" 2>&1 || e2e_fail "berth down shop: $(cat "$T/down.out")"
  [ -z "$(snapshot)" ] || e2e_fail "containers left after down: $(snapshot)"
  [ "$(berth_cli volume ls -q 2>&1 | sort | tr '\n' ' ')" = "shop_db shop_media shop_redis-data shop_static " ] \
    || e2e_fail "down without --volumes: volumes: $(berth_cli volume ls 2>&1)"
  t0=$(ms_now)
  deploy
  wait_answer 60
  e2e_log "ok: down kept the four volumes; deploy again: answering after $(($(ms_now) - t0)) ms"
  http GET '/?json' >"$T/r4" || e2e_fail "GET / (4): $(cat "$T/r4")"
  visits4=$(sed 1d "$T/r4" | berth_json visits) || e2e_fail "GET /?json: no visits: $(cat "$T/r4")"
  # wait_answer's GET counted one visit: visits3 + 2 (a reset would be 2).
  e2e_expect "MariaDB visits after down and a new deploy" "$((visits3 + 2))" "$visits4"
  http GET "/media/photo-$$.bin" >"$T/media2" || e2e_fail "GET /media/ after redeploy: $(head -c 300 "$T/media2")"
  body_of "$T/media2" | cmp -s - "$upload" || e2e_fail "the upload did not survive down + deploy: $(head -n 1 "$T/media2")"
  e2e_log "ok: MariaDB visits $visits3 -> $visits4 and the upload survive berth down + deploy"

  # ---------------------------------------------------- down --volumes
  berth_cli down shop --volumes >"$T/down.out" 2>&1 || e2e_fail "berth down shop --volumes: $(cat "$T/down.out")"
  [ -z "$(berth_cli ps -a -q 2>&1)" ] || e2e_fail "containers left: $(berth_cli ps -a 2>&1)"
  [ -z "$(berth_cli volume ls -q 2>&1)" ] || e2e_fail "volumes left: $(berth_cli volume ls 2>&1)"
  [ -z "$(berth_cli network ls -q 2>&1)" ] || e2e_fail "networks left: $(berth_cli network ls 2>&1)"
  [ -z "$(berth_cli ls 2>&1 | sed 1d)" ] || e2e_fail "berth ls still lists: $(berth_cli ls 2>&1)"
  left=$(awk -v r="$BERTHD_ROOT/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo)
  [ -z "$left" ] || e2e_fail "mounts left under $BERTHD_ROOT: $left"
  [ -z "$(ls "$BERTHD_ROOT/containers" 2>/dev/null)" ] || e2e_fail "container dirs left: $(ls "$BERTHD_ROOT/containers")"
  links=$(berthd_links_left)
  [ -z "$links" ] || e2e_fail "links left: $links"
  if HTTP_TIMEOUT=3 http GET / >"$T/gone" 2>&1; then e2e_fail "port $PORT still answers after down: $(head -n 1 "$T/gone")"; fi
  e2e_log "ok: down --volumes: no container, volume, network, mount, bridge or veth left; the port is closed"
}

berthd_main example_deploy body "$@"
