#!/bin/sh
# Runs every benchmark in hack/bench/ (`make bench`): each executable *.sh
# here except this one, with the build dir as its argument. Stops at none:
# a failing benchmark is reported and the exit code says how many failed.
#
# Usage: hack/bench/run-all.sh [BUILD_DIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-${BERTH_BUILD_DIR:-$(dirname "$(dirname "$here")")/build}}
failed=0
for bench in "$here"/*.sh; do
  [ "$(basename "$bench")" = run-all.sh ] && continue
  [ -x "$bench" ] || continue
  # berthd/berth benchmarks (berth-*.sh, issue 4): they drive the agent's
  # binaries, which a partial build may lack; say so instead of failing.
  case $(basename "$bench") in
    berth-*.sh)
      if [ ! -x "${BERTHD:-$build/agent/berthd}" ] || [ ! -x "${BERTH:-$build/agent/berth}" ]; then
        echo "=== $(basename "$bench") skipped: $build/agent/berthd or berth not built"
        echo
        continue
      fi ;;
  esac
  echo "=== $(basename "$bench")"
  if ! "$bench" "$build"; then
    echo "=== $(basename "$bench") FAILED" >&2
    failed=$((failed + 1))
  fi
  echo
done
exit $failed
