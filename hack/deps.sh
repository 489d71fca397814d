#!/bin/sh
# Installs every Debian package berth's build, tests and benchmarks need.
# Idempotent: packages already present are skipped, so `make` can call it cheaply.
set -eu

BUILD_PKGS="build-essential cmake pkg-config clang clang-format clang-tidy lld
  libclang-rt-14-dev libgtest-dev libgmock-dev nlohmann-json3-dev
  libseccomp-dev libcap-dev libnl-3-dev libnl-route-3-dev libarchive-dev
  libprotobuf-dev protobuf-compiler libyaml-cpp-dev libssl-dev
  libcurl4-openssl-dev libnftables-dev libzstd-dev libdeflate-dev libisal-dev
  liblz4-dev libacl1-dev libbz2-dev liblzma-dev libxml2-dev nettle-dev zlib1g-dev"
TEST_PKGS="busybox-static iproute2 util-linux procps tmux crun runc podman conmon
  catatonit containerd netavark aardvark-dns iptables uidmap skopeo umoci
  docker-registry openssl apache2-utils dnsperf hyperfine time dnsmasq-base nftables
  nginx redis-server mariadb-server gunicorn python3-redis python3-pymysql e2fsprogs"

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
  # dpkg-query prints "install ok installed" only for fully installed packages.
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "hack/deps.sh: missing packages:$missing" >&2
  echo "hack/deps.sh: run as root (or: sudo hack/deps.sh) to install them" >&2
  exit 1
fi

echo "hack/deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
# Debian's docker-registry, containerd and the example project's servers
# start system services on install; berth's tests start their own instances
# (in throwaway namespaces, or inside containers), never the system ones.
for svc in docker-registry containerd nginx redis-server mariadb; do
  systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
