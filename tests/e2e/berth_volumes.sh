#!/bin/sh
# End-to-end test of volumes, bind mounts, config files and disk limits
# through berthd + berth (issue 6). Its own berthd in a throwaway node
# (hack/lib/berthd.sh). Checks:
#   - a named volume written by one container is read by another at another
#     path, survives the writer's removal and a berthd restart; :ro refuses writes
#   - first-use copy-up from the image keeps owners and modes (an image made
#     here with /srv/owned 999:998 0750 and a 0640 file in it)
#   - bind mounts: a missing host path is refused, made with "create"
#   - --config: the file at its path with its mode and owner, read-only; a
#     hostile image (symlinks at the target and at a parent pointing at host
#     paths) cannot make it land outside the rootfs
#   - --disk 64M: dd past it gets "No space left" inside, a container without
#     a limit writes more; update --disk grows a stopped container's disk
#   - volume export/import round trip (same tar listing: names, owners,
#     modes, sizes, times), import into a non-empty volume refused
#   - volume rm refused while a (stopped) container uses it, also with -f;
#     prune; ls/inspect show sizes and users; inspect shows mounts and disk
#   - at the end: no mount, no loop device, no directory left behind
# Exit 0 = pass, 1 = fail, 77 = skipped (not root).
# shellcheck disable=SC2016 # $VARS in single quotes are for the shell in the container
set -u

. "$(cd "$(dirname "$0")/../.." && pwd)/hack/lib/berthd.sh"

# make_volume_image DIR ESCAPE: an OCI layout with the busybox layer and one
# more: /srv/owned (999:998, 0750) with f (0640, "image-file"), and hostile
# symlinks /etc/evil-dir -> ESCAPE, /etc/evil.conf -> ESCAPE/target.conf.
make_volume_image() {
  "$PY" - "$T/vol-layer.tar" "$2" <<'EOF' || e2e_fail "making the volume image's layer"
import io, sys, tarfile, time
out, escape = sys.argv[1], sys.argv[2]
with tarfile.open(out, mode="w", format=tarfile.PAX_FORMAT) as t:
    def add(name, kind, mode, uid=0, gid=0, data=b"", link=""):
        ti = tarfile.TarInfo(name); ti.type = kind; ti.mode = mode
        ti.uid, ti.gid, ti.mtime = uid, gid, int(time.time()); ti.linkname = link
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data) if data else None)
    add("srv", tarfile.DIRTYPE, 0o755)
    add("srv/owned", tarfile.DIRTYPE, 0o750, 999, 998)
    add("srv/owned/f", tarfile.REGTYPE, 0o640, 999, 998, b"image-file\n")
    add("etc/evil-dir", tarfile.SYMTYPE, 0o777, link=escape)
    add("etc/evil.conf", tarfile.SYMTYPE, 0o777, link=escape + "/target.conf")
EOF
  berth_test_image "$1" vol --layer "$T/vol-layer.tar"
}

# run_out WHAT ARGS...: berth run --rm ARGS; prints its stdout; fails the test when it fails.
# Mostly called in $(...): the failure is also recorded for the end of the test.
run_out() {
  _what=$1; shift
  berth_cli run --rm "$@" 2>"$T/run.err" && return 0
  berth_fail_later "$_what: berth run --rm $* exited $?: $(cat "$T/run.err")"
  exit 1
}

check_sharing() {
  img=$1
  berth_cli run --name writer -v appdata:/app_data/static "$img" \
    sh -c 'echo shared-data >/app_data/static/f && mkdir -p /app_data/static/d' >/dev/null 2>"$T/err" \
    || e2e_fail "writer: $(cat "$T/err")"
  e2e_expect "a volume written at /app_data/static is read at /srv/static" shared-data \
    "$(run_out reader -v appdata:/srv/static:ro "$img" cat /srv/static/f)"
  berth_cli run --rm -v appdata:/srv/static:ro "$img" sh -c 'echo x >/srv/static/g' >/dev/null 2>"$T/err" \
    && e2e_fail ":ro: a write into the volume succeeded"
  grep -q "Read-only file system" "$T/err" || e2e_fail ":ro: expected 'Read-only file system', got: $(cat "$T/err")"
  e2e_log "ok: :ro refuses writes (Read-only file system)"
  berth_cli rm writer >/dev/null 2>"$T/err" || e2e_fail "rm writer: $(cat "$T/err")"
  e2e_expect "the volume outlives its writer" shared-data \
    "$(run_out "after rm" -v appdata:/data "$img" cat /data/f)"
  berthd_restart
  e2e_expect "the volume survives a berthd restart" shared-data \
    "$(run_out "after restart" -v appdata:/data "$img" cat /data/f)"
}

check_copy_up() {
  vimg=$1
  out=$(run_out copy-up -v owned:/srv/owned "$vimg" sh -c \
    'stat -c "%u:%g %a" /srv/owned /srv/owned/f; cat /srv/owned/f')
  e2e_expect "first-use copy-up keeps owners, modes and content" \
    "$(printf '999:998 750\n999:998 640\nimage-file')" "$out"
  mp=$(berth_cli volume inspect owned | berth_json mountpoint) || e2e_fail "volume inspect owned"
  e2e_expect "copy-up on the host side too" "999:998 640" "$(stat -c '%u:%g %a' "$mp/f")"
  # Emptied by the user, it stays empty (Docker: copy-up happens once).
  run_out "empty it" -v owned:/srv/owned "$vimg" rm -f /srv/owned/f >/dev/null
  e2e_expect "an emptied volume is not filled again" "" \
    "$(run_out "again" -v owned:/srv/owned "$vimg" ls /srv/owned)"
  e2e_expect "nocopy: a new volume stays empty" "" \
    "$(run_out nocopy -v nocopyvol:/srv/owned:nocopy "$vimg" ls /srv/owned)"
}

check_binds() {
  img=$1
  mkdir -p "$T/scratch/hostdir" && echo from-host >"$T/scratch/hostdir/h"
  e2e_expect "bind mount of a host dir" from-host \
    "$(run_out bind -v "$T/scratch/hostdir:/mnt/h:ro" "$img" cat /mnt/h/h)"
  berth_expect_fail "bind of a missing host path" \
    berth_cli run --rm -v "$T/scratch/missing:/mnt" "$img" true
  grep -q "does not exist" "$T/fail.err" || e2e_fail "missing bind source: $(cat "$T/fail.err")"
  run_out "bind create" -v "$T/scratch/made:/mnt:rw,create" "$img" sh -c 'echo in >/mnt/x' >/dev/null
  e2e_expect "bind with create: made on the host, written through" in "$(cat "$T/scratch/made/x")"
}

check_configs() {
  img=$1; vimg=$2; escape=$3
  printf 'key=value\n' >"$T/scratch/app.conf"
  out=$(run_out config --config "$T/scratch/app.conf:/etc/app/app.conf:0440" "$img" sh -c \
    'stat -c "%a %u" /etc/app/app.conf; cat /etc/app/app.conf; echo x >>/etc/app/app.conf && echo WRITABLE; true')
  e2e_expect "config file: mode, owner (root), content, read-only" \
    "$(printf '440 0\nkey=value')" "$out"
  out=$(run_out config-owner -u 65534 --config "$T/scratch/app.conf:/app.conf" \
    --config "$T/scratch/app.conf:/etc/o.conf:0400:1000:1001" "$img" sh -c \
    'stat -c "%a %u:%g" /app.conf /etc/o.conf')
  e2e_expect "config file: default 0444 owned by the container's user; explicit owner" \
    "$(printf '444 65534:65534\n400 1000:1001')" "$out"
  # The hostile image: its symlinks name host paths; the configs must land
  # inside the container's rootfs, never in $escape.
  mkdir -p "$escape" && echo HOST >"$escape/target.conf"
  out=$(run_out hostile --config "$T/scratch/app.conf:/etc/evil-dir/x.conf" \
    --config "$T/scratch/app.conf:/etc/evil.conf" "$vimg" sh -c 'cat /etc/evil-dir/x.conf /etc/evil.conf')
  e2e_expect "hostile image: the configs are visible inside" "$(printf 'key=value\nkey=value')" "$out"
  [ -e "$escape/x.conf" ] && e2e_fail "hostile image: a config file was created on the host at $escape/x.conf"
  e2e_expect "hostile image: the host file is untouched" HOST "$(cat "$escape/target.conf")"
  grep -q "$escape" /proc/self/mountinfo && e2e_fail "hostile image: something is mounted on $escape"
  e2e_log "ok: hostile image: nothing landed outside the rootfs"
}

check_disk() {
  img=$1
  # What the container cost the host: the blocks its disk image holds once
  # it is full (the image is sparse). At most its 64M and the filesystem's
  # overhead, not the 100M it tried to write. (Measuring the host's free
  # space would race with the other tests writing beside this one.)
  out=$(berth_cli run --name full --disk 64M "$img" sh -c \
    'dd if=/dev/zero of=/big bs=1M count=100 2>&1; echo rc=$?' 2>"$T/err") || e2e_fail "run --disk 64M: $(cat "$T/err")"
  echo "$out" | grep -q "No space left" || e2e_fail "--disk 64M: dd 100M did not hit ENOSPC: $out"
  echo "$out" | grep -q "rc=1" || e2e_fail "--disk 64M: dd did not fail: $out"
  full_id=$(berth_inspect full id)
  image="$BERTHD_ROOT/containers/$full_id/disk.img"
  [ -f "$image" ] || e2e_fail "--disk 64M: no disk image at $image"
  used=$(du -k "$image" | cut -f1)
  [ "$used" -gt 50000 ] && [ "$used" -lt 70000 ] \
    || e2e_fail "--disk 64M: its disk image holds ${used} KiB of the host's space"
  berth_cli rm -f full >/dev/null 2>&1
  [ -e "$image" ] && e2e_fail "rm -f left the disk image $image"
  e2e_log "ok: --disk 64M: writing 100M gets 'No space left on device'; it holds ${used} KiB of the host"
  out=$(run_out "no limit" "$img" sh -c 'dd if=/dev/zero of=/big bs=1M count=100 2>&1 && echo rc=$?')
  echo "$out" | grep -q "rc=0" || e2e_fail "without --disk: dd 100M failed: $out"
  e2e_log "ok: a container without a limit writes 100M"

  berth_cli create --name disky --disk 64M "$img" sh -c 'df -k / | tail -n 1' >/dev/null 2>"$T/err" \
    || e2e_fail "create --disk: $(cat "$T/err")"
  e2e_expect "inspect: disk limit" 67108864 "$(berth_inspect disky disk.limit)"
  berth_expect_fail "update --disk to a smaller size" berth_cli update --disk 32M disky
  berth_cli update --disk 256M disky >/dev/null 2>"$T/err" || e2e_fail "update --disk 256M: $(cat "$T/err")"
  e2e_expect "inspect after update: disk limit" 268435456 "$(berth_inspect disky disk.limit)"
  size=$(berth_cli start -a disky 2>"$T/err" | awk '{print $2}')
  [ -n "$size" ] && [ "$size" -gt 150000 ] || e2e_fail "after update --disk 256M: df says $size KiB: $(cat "$T/err")"
  e2e_log "ok: update --disk grew a stopped container's disk (df: $size KiB)"
  berth_cli rm disky >/dev/null 2>&1 || e2e_fail "rm disky"
}

import_into() { berth_cli volume import "$1" <"$2"; }

check_export_import() {
  img=$1
  run_out "fill src" -v src:/v "$img" sh -c \
    'mkdir -p /v/dir && echo one >/v/dir/a && chown 1234:5678 /v/dir/a && chmod 0604 /v/dir/a &&
     ln -s dir/a /v/link && chmod 0711 /v/dir && dd if=/dev/urandom of=/v/blob bs=1k count=300 2>/dev/null' >/dev/null
  mp_src=$(berth_cli volume inspect src | berth_json mountpoint) || e2e_fail "volume inspect src"
  xattr_ok=0
  "$PY" -c 'import os, sys; os.setxattr(sys.argv[1] + "/dir/a", "user.berth", b"kept")' "$mp_src" \
    2>/dev/null && xattr_ok=1
  berth_cli volume export src >"$T/src.tar" 2>"$T/err" || e2e_fail "volume export: $(cat "$T/err")"
  berth_cli volume import dst <"$T/src.tar" 2>"$T/err" || e2e_fail "volume import: $(cat "$T/err")"
  berth_cli volume export dst >"$T/dst.tar" 2>"$T/err" || e2e_fail "volume export dst: $(cat "$T/err")"
  tar --numeric-owner -tvf "$T/src.tar" 2>/dev/null | sort >"$T/src.list"
  tar --numeric-owner -tvf "$T/dst.tar" 2>/dev/null | sort >"$T/dst.list"
  [ "$(sha256sum <"$T/src.list")" = "$(sha256sum <"$T/dst.list")" ] \
    || e2e_fail "export/import: listings differ: $(diff "$T/src.list" "$T/dst.list" | head)"
  grep -q "1234/5678.*dir/a" "$T/dst.list" || e2e_fail "export: owner 1234:5678 of dir/a lost"
  out=$(run_out "read dst" -v src:/s:ro -v dst:/d:ro "$img" sh -c \
    'cd /s && find . -exec stat -c "%n %u:%g %a %s" {} + | sort | md5sum; cd /d && find . -exec stat -c "%n %u:%g %a %s" {} + | sort | md5sum; md5sum </s/blob; md5sum </d/blob')
  [ "$(echo "$out" | sed -n 1p)" = "$(echo "$out" | sed -n 2p)" ] || e2e_fail "export/import: trees differ: $out"
  [ "$(echo "$out" | sed -n 3p)" = "$(echo "$out" | sed -n 4p)" ] || e2e_fail "export/import: contents differ: $out"
  e2e_log "ok: volume export | import round trip (listing sha256 equal, owners kept)"
  if [ $xattr_ok = 1 ]; then
    mp_dst=$(berth_cli volume inspect dst | berth_json mountpoint) || e2e_fail "volume inspect dst"
    e2e_expect "export/import keeps xattrs" kept \
      "$("$PY" -c 'import os, sys; print(os.getxattr(sys.argv[1] + "/dir/a", "user.berth").decode())' "$mp_dst" 2>&1)"
  else
    e2e_log "skip: user xattrs not supported under $mp_src"
  fi
  # As docker: no tar on a terminal.
  out=$(script -qec "'$BERTH' --socket '$BERTH_SOCKET' volume export src" /dev/null 2>&1) \
    && e2e_fail "volume export to a terminal succeeded"
  echo "$out" | grep -q "terminal" || e2e_fail "volume export to a terminal: $out"
  e2e_log "ok: volume export to a terminal is refused"
  berth_expect_fail "import into a non-empty volume" import_into dst "$T/src.tar"
  grep -q "empty" "$T/fail.err" || e2e_fail "import into a non-empty volume: $(cat "$T/fail.err")"
  e2e_expect "export of a missing volume fails" 1 "$(berth_cli volume export nosuch >/dev/null 2>&1; echo $?)"
}

check_volume_commands() {
  img=$1
  berth_cli volume create --label team=web --size 32M limited >/dev/null 2>"$T/err" \
    || e2e_fail "volume create --size: $(cat "$T/err")"
  out=$(berth_cli run --rm -v limited:/l "$img" sh -c 'dd if=/dev/zero of=/l/big bs=1M count=64 2>&1; echo rc=$?' 2>&1)
  echo "$out" | grep -q "No space left" || e2e_fail "volume --size 32M: dd 64M did not hit ENOSPC: $out"
  e2e_log "ok: a volume with --size 32M gets ENOSPC"
  berth_cli volume create limited >/dev/null 2>&1 && e2e_fail "volume create of an existing name succeeded"
  berth_expect_fail "volume create with a bad name" berth_cli volume create ../etc

  berth_cli create --name user1 -v src:/x -v src:/y:ro "$img" true >/dev/null 2>"$T/err" || e2e_fail "create user1: $(cat "$T/err")"
  berth_expect_fail "volume rm of a volume used by a stopped container" berth_cli volume rm src
  grep -q user1 "$T/fail.err" || e2e_fail "volume rm: the error does not name user1: $(cat "$T/fail.err")"
  berth_expect_fail "volume rm -f of a used volume" berth_cli volume rm -f src
  e2e_expect "volume inspect: users" user1 "$(berth_cli volume inspect src | berth_json users)"
  e2e_expect "volume inspect: labels" web "$(berth_cli volume inspect limited | berth_json labels.team)"
  e2e_expect "volume inspect: size limit" 33554432 "$(berth_cli volume inspect limited | berth_json size_limit)"
  usage=$(berth_cli volume inspect src | berth_json usage)
  [ "$usage" -gt 300000 ] || e2e_fail "volume inspect src: usage $usage, expected > 300 KB"
  berth_cli volume ls >"$T/ls" 2>&1 || e2e_fail "volume ls: $(cat "$T/ls")"
  head -n 1 "$T/ls" | grep -q "NAME.*SIZE.*LIMIT.*CREATED" || e2e_fail "volume ls header: $(head -n 1 "$T/ls")"
  grep -q "^limited .*32MiB" "$T/ls" || e2e_fail "volume ls: no 32MiB limit for 'limited': $(cat "$T/ls")"
  grep -q "^src .*kB" "$T/ls" || e2e_fail "volume ls: no size for src: $(cat "$T/ls")"
  e2e_log "ok: volume ls shows sizes and limits"
  berth_cli inspect user1 >"$T/user1.json" || e2e_fail "inspect user1"
  "$PY" - "$T/user1.json" <<'EOF' || e2e_fail "inspect user1: mounts: $(cat "$T/user1.json")"
import json, sys
m = json.load(open(sys.argv[1]))[0]["mounts"]
assert [(x["type"], x["name"], x["destination"], x["read_only"]) for x in m] == \
    [("volume", "src", "/x", False), ("volume", "src", "/y", True)], m
EOF
  e2e_log "ok: inspect shows the mounts"
  berth_cli rm user1 >/dev/null 2>&1 || e2e_fail "rm user1"
  berth_cli volume rm src >/dev/null 2>"$T/err" || e2e_fail "volume rm src once unused: $(cat "$T/err")"
  berth_cli volume rm src >/dev/null 2>&1 && e2e_fail "volume rm of a removed volume succeeded"
  berth_cli volume rm -f src >/dev/null 2>&1 || e2e_fail "volume rm -f of a missing volume failed"
  berth_cli volume prune >"$T/prune" 2>&1 || e2e_fail "volume prune: $(cat "$T/prune")"
  grep -q "^dst$" "$T/prune" && grep -q "Total reclaimed space" "$T/prune" \
    || e2e_fail "volume prune output: $(cat "$T/prune")"
  e2e_log "ok: volume prune removed the unused volumes"
  [ -z "$(berth_cli volume ls -q)" ] || e2e_fail "volumes left after prune: $(berth_cli volume ls -q)"
}

body() {
  berthd_up
  img=$BERTH_IMAGE
  escape=$T/scratch/escape
  make_volume_image "$T/volimg" "$escape"
  berth_cli image import "$T/volimg" localhost/vol:e2e >"$T/out" 2>&1 \
    || e2e_fail "berth image import of the volume image: $(cat "$T/out")"
  vimg=localhost/vol:e2e

  check_sharing "$img"
  check_copy_up "$vimg"
  check_binds "$img"
  check_configs "$img" "$vimg" "$escape"
  check_disk "$img"
  check_export_import "$img"
  check_volume_commands "$img"

  # ------------------------------------------------------------ nothing left
  for c in $(berth_cli ps -a -q); do berth_cli rm -f "$c" >/dev/null 2>&1; done
  berth_cli volume prune >/dev/null 2>&1
  left=$(awk -v r="$BERTHD_ROOT/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo)
  [ -z "$left" ] || e2e_fail "mounts left under $BERTHD_ROOT: $left"
  loops=$(losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -F "$T/" || true)
  [ -z "$loops" ] || e2e_fail "loop devices left backed by the test dir: $loops"
  [ -z "$(ls "$BERTHD_ROOT/containers" 2>/dev/null)" ] || e2e_fail "container dirs left: $(ls "$BERTHD_ROOT/containers")"
  [ -z "$(ls "$BERTHD_ROOT/volumes" 2>/dev/null)" ] || e2e_fail "volume dirs left: $(ls "$BERTHD_ROOT/volumes")"
  e2e_log "ok: no mount, loop device or directory left"
}

berthd_main berth_volumes body "$@"
