#!/usr/bin/env python3
"""Derives a test image from an OCI image layout directory, in place.

The e2e tests need images that differ from the busybox one in a detail (an
entrypoint, a HEALTHCHECK, a layer with odd owners or hostile symlinks).
This rewrites the layout's first manifest: the image config's "config"
object updated with --config JSON (keys replaced; "EnvAppend" entries are
added to Env), uncompressed layer tars appended with --layer, and the
manifest named --name. Blobs are content-addressed as the spec says, so the
result imports like any OCI layout.

Usage: oci-edit.py DIR --name NAME [--config JSON] [--layer TAR]...
"""
import argparse
import hashlib
import json
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--name", required=True)
    ap.add_argument("--config", default="{}")
    ap.add_argument("--layer", action="append", default=[])
    args = ap.parse_args()
    blobs = os.path.join(args.dir, "blobs", "sha256")

    def read(digest):
        with open(os.path.join(blobs, digest.split(":")[1]), "rb") as f:
            return f.read()

    def write(data):
        h = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, h), "wb") as f:
            f.write(data)
        return "sha256:" + h, len(data)

    index_path = os.path.join(args.dir, "index.json")
    with open(index_path) as f:
        index = json.load(f)
    manifest = json.loads(read(index["manifests"][0]["digest"]))
    config = json.loads(read(manifest["config"]["digest"]))

    changes = json.loads(args.config)
    env_append = changes.pop("EnvAppend", [])
    config.setdefault("config", {}).update(changes)
    if env_append:
        config["config"]["Env"] = config["config"].get("Env", []) + env_append
    for tar in args.layer:
        with open(tar, "rb") as f:
            digest, size = write(f.read())
        config["rootfs"]["diff_ids"].append(digest)
        manifest["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                   "digest": digest, "size": size})

    digest, size = write(json.dumps(config).encode())
    manifest["config"].update({"digest": digest, "size": size})
    digest, size = write(json.dumps(manifest).encode())
    index["manifests"][0].update({"digest": digest, "size": size})
    index["manifests"][0]["annotations"] = {"org.opencontainers.image.ref.name": args.name}
    with open(index_path, "w") as f:
        json.dump(index, f)


if __name__ == "__main__":
    main()
