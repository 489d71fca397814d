#!/bin/sh
# The berth demo (`make demo`, after the build). A throwaway network
# namespace plays "the node": berthd runs inside it (with its own data root,
# run dir, socket and cgroup parent under a temp dir, in a private mount
# namespace). The example project's images are built from the host's Debian
# packages (hack/mkimage-example, cached in the build dir) and imported;
# `berth deploy examples/shop` starts it; the demo shows it answering through
# its public port (a page that touches every service, a static file and an
# upload served by nginx from the volumes), `berth status shop`, how to look
# around, and removes it with `berth down shop --volumes`. Every step prints
# the command it runs. Nothing is left behind: the containers, volumes,
# berthd, the namespace, the cgroups and the temp dir are removed on any
# exit. Ends with how to run berth for real. On a terminal it waits for Enter
# before removing the project, so you can look around from another one.
#
# Usage: hack/demo.sh [BUILD_DIR]   (BERTH, BERTHD override the binaries)
set -u

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BERTH_BUILD_DIR:-$src/build}}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
BERTH_SOURCE_DIR=$src
# shellcheck source=hack/lib/example.sh
. "$src/hack/lib/example.sh"
cache=$(example_cache "$build")
BERTH=${BERTH:-$build/agent/berth}
BERTHD=${BERTHD:-$build/agent/berthd}

if [ -t 1 ]; then bold=$(printf '\033[1m'); dim=$(printf '\033[2m'); off=$(printf '\033[0m')
else bold=; dim=; off=; fi
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
show() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; }
die() { echo "demo: $*" >&2; exit 1; }
# b ARGS...: prints "berth ARGS", runs the CLI against the demo's berthd;
# stops the demo when it fails.
b() { show "berth $*"; "$BERTH" "$@" || die "failed: berth $*"; }

[ "$(id -u)" = 0 ] || die "the demo creates namespaces, mounts and cgroups: run it as root"
for bin in "$BERTH" "$BERTHD"; do
  [ -x "$bin" ] || die "$bin not found: build first (make)"
done
for tool in busybox nsenter unshare ip; do
  command -v "$tool" >/dev/null || die "$tool not found (hack/deps.sh installs it)"
done

node=berth-demo-node-$$
cgparent=berth-demo-$$
T=$(mktemp -d "${TMPDIR:-/tmp}/berth-demo.XXXXXX") || die "mktemp"
BERTH_SOCKET=$T/berthd.sock
export BERTH_SOCKET
daemon_pid=

cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    say "Cleaning up: containers, volumes, berthd, the node namespace $node, $T"
    "$BERTH" down shop --volumes >/dev/null 2>&1
    for c in $("$BERTH" ps -a -q 2>/dev/null); do "$BERTH" rm -f "$c" >/dev/null 2>&1; done
    kill "$daemon_pid" 2>/dev/null
    i=0
    while [ $i -lt 50 ] && kill -0 "$daemon_pid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$daemon_pid" 2>/dev/null
  fi
  # The daemon's mount namespace died with it; these are only in case it
  # was killed before it could remove a container.
  for d in /sys/fs/cgroup/*/"$cgparent" /sys/fs/cgroup/"$cgparent"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  [ -e "/run/netns/$node" ] && ip netns del "$node"
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
trap 'trap "" PIPE; exit 1' PIPE

say "berth demo: $BERTH and $BERTHD"


say "Creating 'the node': a throwaway network namespace, so the host network is never touched"
show "ip netns add $node; ip -n $node link set lo up"
ip netns add "$node" && ip -n "$node" link set lo up || die "cannot create the namespace $node"

say "Starting berthd in it (its own data root, run dir and socket under $T)"
show "nsenter --net=/run/netns/$node unshare -m --propagation private berthd --root $T/root --run $T/run --socket \$BERTH_SOCKET --cgroup-parent $cgparent &"
nsenter --net="/run/netns/$node" unshare -m --propagation private "$BERTHD" --root "$T/root" --run "$T/run" \
  --socket "$BERTH_SOCKET" --cgroup-parent "$cgparent" --socket-group "" \
  </dev/null 2>"$T/berthd.log" &
daemon_pid=$!
i=0
while [ $i -lt 100 ] && [ ! -S "$BERTH_SOCKET" ]; do
  kill -0 "$daemon_pid" 2>/dev/null || die "berthd exited: $(cat "$T/berthd.log")"
  sleep 0.1; i=$((i + 1))
done
[ -S "$BERTH_SOCKET" ] || die "berthd did not come up: $(cat "$T/berthd.log")"
sed 's/^/    berthd: /' "$T/berthd.log"
b version

say "Building the example project's images from the host's Debian packages (cached in $cache)"
show "hack/mkimage-example $cache"
started=$(date +%s)
example_images "$cache" "$T/images" || die "building the example images failed"
echo "    $(awk '{print $1}' "$T/images" | tr '\n' ' ')ready in $(($(date +%s) - started)) s"
while read -r name archive _ref; do
  show "berth image import $archive berth-example-$name:latest"
done <"$T/images"
example_import "$T/images" "$BERTH" || die "berth image import failed"
b image ls

say "Deploying examples/shop: nginx (the public entrance, port 80) in front of main (gunicorn), redis and mysql (MariaDB)"
show "berth deploy $src/examples/shop"
"$BERTH" deploy "$src/examples/shop" || die "failed: berth deploy $src/examples/shop"

say "It answers through the public port: nginx -> main -> a counter in redis, a row in mysql"
# Asked from inside the node: the public port is the node's, not the host's
# (busybox's wget: hack/deps.sh installs busybox-static).
get() { nsenter --net="/run/netns/$node" busybox wget -q -O - "$@"; }
i=0
until get http://127.0.0.1/healthz >/dev/null 2>&1 || [ $i -ge 120 ]; do sleep 0.5; i=$((i + 1)); done
show "wget -qO- http://127.0.0.1/        (in the node's network namespace, as every request here)"
get http://127.0.0.1/ || die "no answer through the public port"
show "wget -qO- http://127.0.0.1/static/style.css     (nginx, from the static volume main wrote)"
get http://127.0.0.1/static/style.css || die "no /static/style.css"
echo "hello from the demo, $(date)" >"$T/hello.txt"
show "wget -qO- --post-file hello.txt 'http://127.0.0.1/upload?name=hello.txt'   (main writes the media volume)"
get --post-file "$T/hello.txt" 'http://127.0.0.1/upload?name=hello.txt' || die "upload failed"
show "wget -qO- http://127.0.0.1/media/hello.txt      (nginx, from the media volume)"
get http://127.0.0.1/media/hello.txt || die "no /media/hello.txt"
b status shop

say "Look around"
if [ -t 0 ] && [ -t 1 ]; then
  echo "  The project runs until you press Enter here. From another terminal (the CLI"
  echo "  talks to this demo's berthd through its socket):"
else
  echo "  (On a terminal the demo waits here, so you can.) From another terminal (the"
  echo "  CLI talks to this demo's berthd through its socket):"
fi
cat <<EOF2
    export BERTH_SOCKET=$BERTH_SOCKET
    $BERTH logs shop/nginx      # nginx's access log (berth logs shop: every service)
    $BERTH shell shop/main      # a shell in the main container
    $BERTH status shop          # state, health, addresses, CPU, memory
    ip netns exec $node busybox wget -qO- http://127.0.0.1/
  Removing it: berth down shop --volumes (containers, network, volumes; without
  --volumes the data stays for the next deploy).
EOF2
if [ -t 0 ] && [ -t 1 ]; then
  printf '%sPress Enter to remove the demo.%s ' "$bold" "$off"
  read -r _ || true
fi

say "Removing the project: its containers, network and volumes"
b down shop --volumes
b ls

cleanup
trap - EXIT

say "Running berth for real"
cat <<EOF2
  make install                      # berthd, berth, berth-shim, berth-runtime in /usr/local/bin,
                                    # the systemd unit berthd.service, the group "berth"
  systemctl enable --now berthd     # the node agent (Type=notify; containers survive its restarts)
  usermod -aG berth \$USER           # optional: use berth without root
  berth image pull docker.io/library/nginx:latest
  berth run -d --name web nginx     # then: berth ps, logs -f web, shell web, stats, update, rm -f web
  berth deploy DIR                  # a project: DIR/berth.yaml (examples/shop needs its images:
                                    # hack/mkimage-example OUT, berth image import, see its README);
                                    # then berth ls, status NAME, logs NAME/SERVICE, down NAME
  berth-runtime ...                 # the OCI runtime alone: podman --runtime /usr/local/bin/berth-runtime
EOF2
