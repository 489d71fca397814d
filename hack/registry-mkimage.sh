#!/bin/sh
# Builds the OCI image layouts the registry tests and the pull benchmark push
# with skopeo. Deterministic: a layer is made from its seed alone (a file of
# pseudo-random bytes from AES-CTR keyed by the seed, tar with mtime 0 and
# root owner, gzip -n), so two images built with a common seed share that
# layer's digest, which is how the "nothing downloaded twice" test makes an
# image overlapping one already pulled.
#
# Usage:
#   hack/registry-mkimage.sh layers OUT KIB SEED...
#       an OCI layout in OUT, tag "latest", one layer of KIB KiB per seed,
#       for the host's architecture
#   hack/registry-mkimage.sh index OUT
#       an OCI layout in OUT whose "latest" is an image index with two
#       images, linux/amd64 and linux/arm64 (config.architecture says which,
#       and each has its own layer); push it with `skopeo copy --all`
# Prints the layout path.
set -eu

die() { echo "registry-mkimage: $*" >&2; exit 1; }

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

host_arch() {
  case $(uname -m) in
    x86_64) echo amd64 ;; aarch64) echo arm64 ;; *) uname -m ;;
  esac
}

# make_layer BLOBS SEED KIB -> sets layer_digest, layer_size, diff_id
make_layer() {
  blobs=$1; seed=$2; kib=$3
  tmp=$(mktemp -d)
  mkdir -p "$tmp/root/data"
  openssl enc -aes-128-ctr -nosalt -pass "pass:$seed" -pbkdf2 < /dev/zero 2>/dev/null \
    | head -c $((kib * 1024)) > "$tmp/root/data/$seed.bin"
  echo "$seed" > "$tmp/root/data/$seed.txt"
  tar -C "$tmp/root" --format=gnu --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 \
    -cf "$tmp/layer.tar" data
  diff_id=$(sha "$tmp/layer.tar")
  gzip -n -1 -c "$tmp/layer.tar" > "$tmp/layer.tar.gz"
  layer_digest=$(sha "$tmp/layer.tar.gz")
  layer_size=$(size "$tmp/layer.tar.gz")
  mv "$tmp/layer.tar.gz" "$blobs/$layer_digest"
  rm -rf "$tmp"
}

# make_image BLOBS ARCH KIB SEED... -> sets manifest_digest, manifest_size
make_image() {
  blobs=$1; arch=$2; kib=$3; shift 3
  layers=; diff_ids=
  for seed in "$@"; do
    make_layer "$blobs" "$seed" "$kib"
    layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$layer_digest\",\"size\":$layer_size}"
    diff_ids="$diff_ids${diff_ids:+,}\"sha256:$diff_id\""
  done
  cfg=$(mktemp)
  printf '%s' "{\"architecture\":\"$arch\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diff_ids]}}" > "$cfg"
  config_digest=$(sha "$cfg"); config_size=$(size "$cfg")
  mv "$cfg" "$blobs/$config_digest"
  man=$(mktemp)
  printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config_digest\",\"size\":$config_size},\"layers\":[$layers]}" > "$man"
  manifest_digest=$(sha "$man"); manifest_size=$(size "$man")
  mv "$man" "$blobs/$manifest_digest"
}

write_layout() {
  out=$1; media=$2; digest=$3; sz=$4
  printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
  printf '%s' "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"$media\",\"digest\":\"sha256:$digest\",\"size\":$sz,\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}" > "$out/index.json"
}

[ $# -ge 2 ] || die "usage: registry-mkimage.sh layers OUT KIB SEED... | index OUT"
cmd=$1; out=$2; shift 2
rm -rf "$out"
mkdir -p "$out/blobs/sha256"
blobs=$out/blobs/sha256
case $cmd in
  layers)
    [ $# -ge 2 ] || die "layers needs KIB and at least one SEED"
    make_image "$blobs" "$(host_arch)" "$@"
    write_layout "$out" application/vnd.oci.image.manifest.v1+json "$manifest_digest" "$manifest_size"
    ;;
  index)
    make_image "$blobs" amd64 16 amd64-layer
    amd64_digest=$manifest_digest; amd64_size=$manifest_size
    make_image "$blobs" arm64 16 arm64-layer
    idx=$(mktemp)
    printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$amd64_digest\",\"size\":$amd64_size,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$manifest_digest\",\"size\":$manifest_size,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}]}" > "$idx"
    idx_digest=$(sha "$idx"); idx_size=$(size "$idx")
    mv "$idx" "$blobs/$idx_digest"
    write_layout "$out" application/vnd.oci.image.index.v1+json "$idx_digest" "$idx_size"
    ;;
  *) die "unknown command $cmd" ;;
esac
echo "$out"
