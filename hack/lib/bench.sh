# Shared pieces of the benchmarks in hack/bench/ (sourced, POSIX sh).

# bench_build_timeit SRC BUILD FALLBACK_DIR: builds hack/bench/timeit.c once
# per build dir (into FALLBACK_DIR when BUILD is read-only), rebuilding it
# when the source is newer; prints the binary's path. Fails loudly.
bench_build_timeit() {
  _bt=$2/bench/timeit
  if [ ! -x "$_bt" ] || [ -n "$(find "$1/hack/bench/timeit.c" -newer "$_bt")" ]; then
    mkdir -p "$2/bench" 2>/dev/null || _bt=$3/timeit
    cc -O2 -Wall -Wextra -Werror -o "$_bt.tmp.$$" "$1/hack/bench/timeit.c" || return 1
    mv "$_bt.tmp.$$" "$_bt" || return 1
  fi
  echo "$_bt"
}

# bench_time_stats FILE: "median_ms p90_ms" of the successful runs in a
# timeit data file (lines: "ns rss_kib status"), "- -" when none succeeded.
bench_time_stats() {
  awk '$3 == 0 {print $1}' "$1" | sort -n | awk '{v[NR] = $1}
    END { if (NR == 0) { print "- -"; exit }
          m = int((NR + 1) / 2); p = int(NR * 0.9 + 0.999999); if (p < 1) p = 1
          printf "%.2f %.2f\n", v[m] / 1e6, v[p] / 1e6 }'
}

# bench_failures FILE: how many runs failed.
bench_failures() { awk '$3 != 0 {n++} END {print n + 0}' "$1"; }
