#!/bin/sh
# A real registry on loopback for the registry tests and the pull benchmark:
# Debian's docker-registry (docker/distribution 2.8) with its own config in
# DIR, storage in DIR/storage, listening on 127.0.0.1 on a port the kernel
# picks (addr :0; the registry logs the address it got). Optionally TLS with
# a throwaway CA made here with openssl (DIR/ca.crt; server cert for
# 127.0.0.1 and localhost), htpasswd auth (bcrypt, apache2-utils), or token
# auth against a token server the caller runs.
#
# Usage:
#   hack/registry-fixture.sh start DIR [--tls] [--htpasswd USER:PASS]
#                                      [--token REALM_URL SERVICE ISSUER CERT_PEM]
#       starts it, waits until /v2/ answers (10 s at most) and prints
#       127.0.0.1:PORT; DIR/addr, DIR/pid, DIR/registry.log (access log).
#   hack/registry-fixture.sh stop DIR      kills the registry started in DIR
#   hack/registry-fixture.sh push DIR SRC NAME:TAG [--all] [--creds USER:PASS]
#       skopeo copy SRC (e.g. oci:LAYOUT:tag, oci-archive:FILE) to the registry
#       in DIR (TLS verified against DIR/ca.crt when TLS is on).
set -eu

die() { echo "registry-fixture: $*" >&2; exit 1; }

start() {
  dir=$1; shift
  tls=0; htpasswd=; token=
  while [ $# -gt 0 ]; do
    case $1 in
      --tls) tls=1 ;;
      --htpasswd) htpasswd=$2; shift ;;
      --token) token="$2 $3 $4 $5"; shift 4 ;;
      *) die "unknown option $1" ;;
    esac
    shift
  done
  command -v docker-registry >/dev/null || die "docker-registry missing (Debian: docker-registry)"
  mkdir -p "$dir/storage"
  dir=$(cd "$dir" && pwd)
  {
    echo "version: 0.1"
    echo "log: {level: info, accesslog: {disabled: false}}"
    echo "storage: {filesystem: {rootdirectory: $dir/storage}, delete: {enabled: true}}"
    echo "http:"
    echo "  addr: 127.0.0.1:0"
    echo "  secret: berth-test-secret"
  } > "$dir/config.yml"
  scheme=http
  if [ $tls = 1 ]; then
    scheme=https
    make_certs "$dir"
    echo "  tls: {certificate: $dir/server.crt, key: $dir/server.key}" >> "$dir/config.yml"
  fi
  if [ -n "$htpasswd" ]; then
    command -v htpasswd >/dev/null || die "htpasswd missing (Debian: apache2-utils)"
    htpasswd -Bbn "${htpasswd%%:*}" "${htpasswd#*:}" > "$dir/htpasswd"
    echo "auth: {htpasswd: {realm: berth-test, path: $dir/htpasswd}}" >> "$dir/config.yml"
  fi
  if [ -n "$token" ]; then
    set -- $token
    echo "auth: {token: {realm: \"$1\", service: \"$2\", issuer: \"$3\", rootcertbundle: $4}}" \
      >> "$dir/config.yml"
  fi

  : > "$dir/registry.log"
  # setsid: the registry leaves the caller's process group, so a test's
  # terminal signals do not reach it; stop() kills it by pid.
  setsid docker-registry serve "$dir/config.yml" >> "$dir/registry.log" 2>&1 < /dev/null &
  echo $! > "$dir/pid"
  i=0
  addr=
  while [ $i -lt 100 ]; do
    addr=$(sed -n 's/.*msg="listening on \(127\.0\.0\.1:[0-9]*\).*/\1/p' "$dir/registry.log" | head -n1)
    if [ -n "$addr" ]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$dir/ca.crt" \
             "$scheme://$addr/v2/" 2>/dev/null || true)
      case $code in 200|401) break ;; esac
    fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { cat "$dir/registry.log" >&2; die "registry exited"; }
    sleep 0.1
    i=$((i + 1))
  done
  [ $i -lt 100 ] || { stop "$dir"; die "registry did not answer within 10 s"; }
  echo "$addr" > "$dir/addr"
  echo "$addr"
}

make_certs() {
  d=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth test CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' > "$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
}

stop() {
  dir=$1
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

push() {
  dir=$1; src=$2; dest=$3; shift 3
  all=; creds=
  while [ $# -gt 0 ]; do
    case $1 in
      --all) all=--all ;;
      --creds) creds=$2; shift ;;
      *) die "unknown option $1" ;;
    esac
    shift
  done
  addr=$(cat "$dir/addr")
  if [ -f "$dir/ca.crt" ]; then
    mkdir -p "$dir/certs.d/$addr"
    cp "$dir/ca.crt" "$dir/certs.d/$addr/ca.crt"
    tlsopt="--dest-cert-dir $dir/certs.d/$addr"
  else
    tlsopt=--dest-tls-verify=false
  fi
  # --insecure-policy: the host's policy.json is not ours to rely on.
  # shellcheck disable=SC2086
  timeout 120 skopeo --insecure-policy copy -q $all $tlsopt ${creds:+--dest-creds "$creds"} \
    "$src" "docker://$addr/$dest" >&2
}

[ $# -ge 2 ] || die "usage: registry-fixture.sh start|stop|push DIR ..."
cmd=$1; shift
case $cmd in
  start) start "$@" ;;
  stop) stop "$@" ;;
  push) push "$@" ;;
  *) die "unknown command $cmd" ;;
esac
