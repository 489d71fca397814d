#!/bin/sh
# Runs one libFuzzer target for a short, bounded time over its seed corpus.
# Usage: hack/run-fuzz.sh FUZZER SEED_DIR [SECONDS]
set -eu
fuzzer=$1 seeds=$2 secs=${3:-${BERTH_FUZZ_SECONDS:-20}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Scratch files of the targets go here too, so nothing outlives the run.
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"
mkdir -p "$work/corpus"
# New inputs go to a scratch corpus; the checked-in seeds stay untouched.
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$work/corpus" "$seeds"
