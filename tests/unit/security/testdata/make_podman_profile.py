#!/usr/bin/env python3
"""Regenerates podman_default_seccomp.json: podman's default seccomp profile
(/usr/share/containers/seccomp.json, containers-common format) resolved the way
podman resolves it for an amd64 container with podman's default capabilities,
i.e. the linux.seccomp object podman writes into config.json."""
import json
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/containers/seccomp.json"
ARCH = "amd64"
CAPS = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
        "CAP_SETUID", "CAP_SYS_CHROOT"}

profile = json.load(open(SRC))
out = {"defaultAction": profile["defaultAction"], "architectures": [], "syscalls": []}
if "defaultErrnoRet" in profile:
    out["defaultErrnoRet"] = profile["defaultErrnoRet"]
for entry in profile["archMap"]:
    if entry["architecture"] == "SCMP_ARCH_X86_64":
        out["architectures"] = [entry["architecture"]] + entry["subArchitectures"]
for call in profile["syscalls"]:
    inc, exc = call.get("includes") or {}, call.get("excludes") or {}
    if inc.get("arches") and ARCH not in inc["arches"]:
        continue
    if inc.get("caps") and not set(inc["caps"]) <= CAPS:
        continue
    if exc.get("arches") and ARCH in exc["arches"]:
        continue
    if exc.get("caps") and set(exc["caps"]) & CAPS:
        continue
    rule = {"names": call["names"], "action": call["action"]}
    if call.get("args"):
        rule["args"] = [{k: a[k] for k in ("index", "value", "valueTwo", "op")} for a in call["args"]]
    if call.get("errnoRet") is not None:
        rule["errnoRet"] = call["errnoRet"]
    out["syscalls"].append(rule)
json.dump(out, sys.stdout, indent=1)
print()
