#!/bin/sh
# End-to-end test: Debian's containerd (runc v2 shim) drives the runtime under
# test ($BERTH_RUNTIME, default $BERTH_BUILD_DIR/runtime/berth-runtime, passed
# as ctr's --runc-binary). containerd runs with its own config, root, state
# and socket in a temp dir, inside a throwaway network namespace and PID
# namespace (see hack/lib/e2e.sh), so a system containerd is never touched.
# Checks: image import (OCI archive from hack/mkimage), run + output, a
# detached task's exec, kill (exit status reported), task rm, container rm.
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/e2e.sh"

# ---------------------------------------------------------------- inner part
inner() {
  T=$1
  e2e_private_host_dirs "$T"
  sock=$T/containerd.sock
  ns=berth-e2e-$E2E_RUN
  id=berth-e2e-ctr-$E2E_RUN
  # Everything this run creates in cgroups lives under one parent of its own.
  cg=/berth-e2e-containerd-$E2E_RUN

  c() { timeout -k 10 60 ctr -a "$sock" -n "$ns" "$@"; }

  containerd --config "$T/config.toml" > "$T/containerd.log" 2>&1 &
  daemon=$!
  stop_daemon() {
    c task kill -s SIGKILL "$id" >/dev/null 2>&1
    c task rm -f "$id" >/dev/null 2>&1
    c container rm "$id" >/dev/null 2>&1
    kill -TERM "$daemon" 2>/dev/null
    e2e_wait 10 sh -c "! kill -0 $daemon" || kill -KILL "$daemon" 2>/dev/null
  }
  trap 'rc=$?; stop_daemon
        [ $rc -eq 0 ] || { echo "--- containerd log, last 20 lines:"; tail -n 20 "$T/containerd.log"; } >&2' EXIT
  e2e_wait 30 ctr -a "$sock" version \
    || e2e_fail "containerd did not come up in 30 s: $(tail -n 20 "$T/containerd.log")"
  e2e_log "ok: containerd up on $sock"

  out=$(c images import "$E2E_OCI_TAR" 2>"$T/err") || e2e_fail "ctr images import: $(cat "$T/err")"
  c images ls -q | grep -qx "$E2E_OCI_REF" \
    || e2e_fail "ctr images import: $E2E_OCI_REF not listed: $(c images ls -q)"
  e2e_log "ok: ctr images import $E2E_OCI_TAR ($E2E_OCI_REF)"

  out=$(c run --rm --runc-binary "$BERTH_RUNTIME" --cgroup "$cg/$id-a" \
        "$E2E_OCI_REF" "$id-a" echo hello 2>"$T/err") || e2e_fail "ctr run echo hello: $(cat "$T/err")"
  e2e_expect "ctr run --rm IMG ID echo hello" "hello" "$out"

  # containerd's default spec gives the task new PID and network namespaces.
  out=$(c run --rm --runc-binary "$BERTH_RUNTIME" --cgroup "$cg/$id-b" "$E2E_OCI_REF" "$id-b" \
        sh -c 'echo $$; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "' 2>"$T/err") \
    || e2e_fail "ctr run sh: $(cat "$T/err")"
  e2e_expect "ctr run: the process is pid 1 and sees only lo" "1
lo" "$out"

  out=$(c run -d --runc-binary "$BERTH_RUNTIME" --cgroup "$cg/$id" \
        "$E2E_OCI_REF" "$id" sleep 300 2>"$T/err") || e2e_fail "ctr run -d sleep 300: $(cat "$T/err")"
  status=$(c task ls 2>&1 | awk -v id="$id" '$1 == id {print $3}')
  e2e_expect "detached task status" "RUNNING" "$status"

  out=$(c task exec --exec-id e1 "$id" echo inside 2>"$T/err") || e2e_fail "ctr task exec: $(cat "$T/err")"
  e2e_expect "ctr task exec --exec-id e1 ID echo inside" "inside" "$out"

  # sleep is PID 1 in its namespace: SIGTERM from outside is ignored (no
  # handler), so the kill that must stop it is SIGKILL.
  out=$(c task kill -s SIGKILL "$id" 2>"$T/err") || e2e_fail "ctr task kill: $(cat "$T/err")"
  e2e_wait 20 sh -c "timeout -k 5 10 ctr -a '$sock' -n '$ns' task ls | awk '\$1 == \"$id\" {print \$3}' | grep -qx STOPPED" \
    || e2e_fail "task $id did not stop within 20 s after SIGKILL: $(c task ls 2>&1)"
  e2e_log "ok: ctr task kill -s SIGKILL: task stopped"

  out=$(c task rm "$id" 2>&1) || e2e_fail "ctr task rm: $out"
  # ctr reports the exit status the shim got from the runtime: 128 + SIGKILL.
  echo "$out" | grep -q "exit code 137" \
    || e2e_fail "ctr task rm: expected exit code 137 to be reported, got: $out"
  c task ls -q | grep -qx "$id" && e2e_fail "ctr task rm: task $id still listed"
  e2e_log "ok: ctr task rm (exit code 137 reported)"
  out=$(c container rm "$id" 2>"$T/err") || e2e_fail "ctr container rm: $(cat "$T/err")"
  c container ls -q | grep -qx "$id" && e2e_fail "ctr container rm: $id still listed"
  e2e_log "ok: ctr container rm"

  out=$(c container ls -q 2>&1)
  [ -z "$out" ] || e2e_fail "containers left after the test: $out"
}

# ---------------------------------------------------------------- outer part
write_config() {
  T=$1
  mkdir -p "$T/root" "$T/state" "$T/tmp"
  # Plugins this test does not use are off: startup is faster and nothing
  # looks at /opt/containerd, zfs, btrfs or devmapper, or starts the CRI.
  cat > "$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
temp = "$T/tmp"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "$T/containerd.sock"

[ttrpc]
  address = "$T/containerd.sock.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""
EOF
}

main() {
  e2e_init containerd
  e2e_need containerd ctr containerd-shim-runc-v2 timeout unshare nsenter ip
  e2e_image

  E2E_RUN=$$
  export E2E_RUN E2E_OCI_TAR E2E_OCI_REF
  netns=berth-e2e-containerd-$E2E_RUN
  T=$(mktemp -d "${TMPDIR:-/tmp}/berth-e2e-ctrd.XXXXXX") || e2e_fail "mktemp"
  trap 'e2e_sandbox_stop; e2e_netns_del "$netns"; e2e_cgroup_del "berth-e2e-containerd-$E2E_RUN"; rm -rf "$T"' EXIT
  trap 'exit 1' INT TERM HUP

  write_config "$T"
  e2e_netns_add "$netns"
  e2e_log "runtime $BERTH_RUNTIME, netns $netns, dir $T"
  e2e_sandbox_run 300 "$netns" "$0" --inner "$T"
  rc=$?
  [ $rc -eq 124 ] && e2e_fail "timed out after 300 s"
  [ $rc -eq 0 ] || exit 1
  e2e_log "PASS"
}

if [ "${1:-}" = --inner ]; then
  e2e_init containerd
  inner "$2"
else
  main
fi
