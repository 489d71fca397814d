#!/bin/sh
# End-to-end test of the example project (examples/shop, issue 7) through
# berthd + berth with today's CLI (`berth run`, until `berth deploy` exists),
# with its own berthd in a throwaway node netns (hack/lib/berthd.sh):
#   - hack/mkimage-example builds (or reuses) the four images from the host's
#     Debian packages; berth image import loads them
#   - redis, mysql (MariaDB), main (gunicorn) and nginx run on network shop,
#     as examples/shop/berth.yaml describes them: volumes static, media, db,
#     redis-data; nginx.conf mounted as a config file; its memory, cpu and
#     pids limits; port 18080 -> nginx:80
#   - the images' healthchecks answer (redis-cli ping, healthcheck.sh)
#   - GET / through nginx twice: the Redis counter and the MariaDB visit
#     count both go up by one; the page names both
#   - /static/style.css is served by nginx, from the static volume main wrote
#   - a POST /upload lands in the media volume, GET /media/FILE through nginx
#     returns the same bytes
#   - everything removed: no container, volume, network, mount or container
#     directory left
# Traffic goes only to the node's loopback and the test's own containers.
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

PORT=18080

# http METHOD PATH [FILE-TO-UPLOAD]: one request to the node's published
# port; prints "STATUS SERVER-HEADER" on the first line, then the body.
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

# run_service NAME ARGS...: berth run -d --name NAME --network shop ARGS...
run_service() {
  _svc=$1; shift
  berth_cli run -d --name "$_svc" --network shop "$@" >/dev/null 2>"$T/err" \
    || e2e_fail "berth run $_svc: $(cat "$T/err")"
}

# service_logs: the last lines of every service (for a failure message).
service_logs() {
  for _svc in redis mysql main nginx; do
    echo "--- $_svc ($(berth_state "$_svc")):"
    berth_cli logs --tail 15 "$_svc" 2>&1
  done
}

body() {
  berthd_start

  # ---------------------------------------------------------------- images
  cache=${BERTH_E2E_CACHE:-$E2E_BUILD/e2e-cache}/example-images
  started=$(date +%s)
  "$E2E_SRC/hack/mkimage-example" "$cache" >"$T/images" 2>"$T/err" \
    || e2e_fail "hack/mkimage-example $cache: $(cat "$T/err")"
  e2e_log "ok: example images ready in $(($(date +%s) - started)) s"
  while read -r name archive _ref; do
    berth_cli image import "$archive" "localhost/berth-example-$name:e2e" >"$T/out" 2>&1 \
      || e2e_fail "berth image import $archive: $(cat "$T/out")"
  done <"$T/images"
  [ "$(wc -l <"$T/images")" -eq 4 ] || e2e_fail "mkimage-example printed: $(cat "$T/images")"
  img() { echo "localhost/berth-example-$1:e2e"; }

  # ---------------------------------------------------------------- services
  # As examples/shop/berth.yaml (its resources too): dependencies first.
  run_service redis -m 128m --cpus 0.5 --pids-limit 64 -v redis-data:/data "$(img redis)"
  run_service mysql -m 512m --cpus 1 --pids-limit 256 -v db:/var/lib/mysql -e MARIADB_DATABASE=shop -e MARIADB_USER=shop \
    -e MARIADB_PASSWORD=shop-secret -e MARIADB_ROOT_PASSWORD=root-secret "$(img mariadb)"
  run_service main -m 256m --cpus 1 --pids-limit 128 --alias shop -e REDIS_HOST=redis -e MYSQL_HOST=mysql \
    -e MYSQL_DATABASE=shop -e MYSQL_USER=shop -e MYSQL_PASSWORD=shop-secret \
    -v static:/app_data/static -v media:/app_data/media "$(img app)"
  run_service nginx -m 64m --cpus 0.5 --pids-limit 64 -v static:/srv/static:ro -v media:/srv/media:ro \
    --config "$E2E_SRC/examples/shop/deploy/nginx.conf:/etc/nginx/nginx.conf" \
    -p "$PORT:80" "$(img nginx)"

  # Ready: the page answers through nginx (bounded; MariaDB initializes its
  # data directory on this first start).
  started=$(date +%s)
  ok=0
  while [ $(($(date +%s) - started)) -lt 90 ]; do
    if HTTP_TIMEOUT=5 http GET '/?json' >"$T/r0" 2>"$T/r0.err" \
       && head -n 1 "$T/r0" | grep -q '^200 nginx'; then
      ok=1; break
    fi
    sleep 0.5
  done
  [ $ok = 1 ] || e2e_fail "no answer through nginx on :$PORT within 90 s: $(head -c 300 "$T/r0"; tail -n 1 "$T/r0.err")
$(service_logs)"
  e2e_log "ok: the shop answers through nginx after $(($(date +%s) - started)) s"

  out=$(berth_cli exec redis redis-cli ping 2>&1)
  e2e_expect "redis healthcheck (redis-cli ping)" PONG "$out"
  berth_cli exec mysql /usr/local/bin/healthcheck.sh >"$T/hc" 2>&1 \
    || e2e_fail "mariadb healthcheck.sh: $(cat "$T/hc")"
  e2e_log "ok: the healthchecks of examples/shop/berth.yaml pass"

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
  if ! grep -q 'Redis counter' "$T/r2" || ! grep -q 'MariaDB visits' "$T/r2"; then
    e2e_fail "the page does not name both values: $(cat "$T/r2")"
  fi
  e2e_log "ok: GET / through nginx -> main: Redis counter $hits1 -> $hits2, MariaDB visits $visits1 -> $visits2"

  # ---------------------------------------------------- static from the volume
  http GET /static/style.css >"$T/css" || e2e_fail "GET /static/style.css: $(cat "$T/css")"
  head -n 1 "$T/css" | grep -q '^200 nginx' || e2e_fail "GET /static/style.css: $(head -c 300 "$T/css")"
  grep -q 'berth example shop' "$T/css" || e2e_fail "style.css content: $(cat "$T/css")"
  mp=$(berth_cli volume inspect static | berth_json mountpoint) || e2e_fail "volume inspect static"
  sed 1d "$T/css" | cmp -s - "$mp/style.css" \
    || e2e_fail "/static/style.css differs from the static volume's file ($mp/style.css)"
  e2e_log "ok: /static/style.css is served by nginx from the static volume main wrote"

  # ---------------------------------------------------- upload, then /media/
  head -c 70000 /dev/urandom >"$T/scratch/photo-$$.bin"
  http POST /upload "$T/scratch/photo-$$.bin" >"$T/up" || e2e_fail "POST /upload: $(cat "$T/up")"
  head -n 1 "$T/up" | grep -q '^201 ' || e2e_fail "POST /upload: $(head -c 300 "$T/up")"
  http GET "/media/photo-$$.bin" >"$T/media" || e2e_fail "GET /media/photo-$$.bin: $(head -c 300 "$T/media")"
  head -n 1 "$T/media" | grep -q '^200 nginx' || e2e_fail "GET /media/photo-$$.bin: $(head -n 1 "$T/media")"
  # The first line of the response was ours: the body is everything after it.
  tail -c +"$(($(head -n 1 "$T/media" | wc -c) + 1))" "$T/media" | cmp -s - "$T/scratch/photo-$$.bin" \
    || e2e_fail "GET /media/photo-$$.bin: not the uploaded bytes"
  mp=$(berth_cli volume inspect media | berth_json mountpoint) || e2e_fail "volume inspect media"
  cmp -s "$mp/photo-$$.bin" "$T/scratch/photo-$$.bin" || e2e_fail "the upload is not in the media volume ($mp)"
  e2e_log "ok: POST /upload -> media volume -> GET /media/ through nginx, same bytes"

  # ---------------------------------------------------------- nothing left
  berth_cli rm -f nginx main mysql redis >/dev/null 2>"$T/err" || e2e_fail "rm -f: $(cat "$T/err")"
  berth_cli volume rm static media db redis-data >/dev/null 2>"$T/err" \
    || e2e_fail "volume rm: $(cat "$T/err")"
  berth_cli network rm shop >/dev/null 2>"$T/err" || e2e_fail "network rm shop: $(cat "$T/err")"
  [ -z "$(berth_cli ps -a -q 2>&1)" ] || e2e_fail "containers left: $(berth_cli ps -a 2>&1)"
  [ -z "$(berth_cli volume ls -q 2>&1)" ] || e2e_fail "volumes left: $(berth_cli volume ls 2>&1)"
  [ -z "$(berth_cli network ls -q 2>&1)" ] || e2e_fail "networks left: $(berth_cli network ls 2>&1)"
  left=$(awk -v r="$BERTHD_ROOT/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo)
  [ -z "$left" ] || e2e_fail "mounts left under $BERTHD_ROOT: $left"
  [ -z "$(ls "$BERTHD_ROOT/containers" 2>/dev/null)" ] || e2e_fail "container dirs left: $(ls "$BERTHD_ROOT/containers")"
  ip -o link show type bridge 2>/dev/null | grep -q berth- \
    && e2e_fail "a berth bridge is left: $(ip -o link show type bridge)"
  if http GET / >"$T/gone" 2>&1; then e2e_fail "port $PORT still answers after rm: $(head -n 1 "$T/gone")"; fi
  e2e_log "ok: containers, volumes, network, mounts, bridge and port all gone"
}

berthd_main example_services body "$@"
