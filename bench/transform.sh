#!/usr/bin/env bash
# Transform throughput: `elt transform` on generated JSONL beside DuckDB's
# one-thread conversion of the same file (the reference), at two sizes to
# show that memory stays flat as the file grows.
#
# usage: bench/transform.sh            (from the repo root; `make bench`)
# env:   BENCH_DIR (scratch, default /tmp/elt-bench), BENCH_SIZES ("250000 1000000 2000000"),
#        BENCH_TYPE (shipments), ELT_DUCKDB (path to run.sh), GO (go)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-/tmp/elt-bench}
sizes=${BENCH_SIZES:-"250000 1000000 2000000"}
typ=${BENCH_TYPE:-shipments}
go=${GO:-go}
duck=${ELT_DUCKDB:-$root/../shared/bench/duckdb/run.sh}
mkdir -p "$dir"
"$go" build -o "$dir/elt" "$root/cmd/elt"

# field NAME < JSON: a number field of a flat JSON document.
field() { grep -o "\"$1\": *[0-9.e+-]*" | head -1 | sed 's/.*: *//'; }
# rss_kb CMD...: runs CMD, prints its stdout to fd 3 and its peak RSS (KiB) on stdout.
have_time=0; [ -x /usr/bin/time ] && have_time=1
run_measured() { # out_file rss_file cmd...
  local out=$1 rss=$2; shift 2
  if [ $have_time = 1 ]; then
    /usr/bin/time -f '%M %e %U %S' -o "$rss" "$@" >"$out"
  else
    local s=$(date +%s.%N); "$@" >"$out"; echo "0 $(echo "$(date +%s.%N) - $s" | bc) 0 0" >"$rss"
  fi
}

# The machine may be shared: say how busy it was, since wall times depend on it.
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown), $(nproc) cores"
printf '%-9s %-28s %9s %12s %8s %10s %9s\n' records tool seconds records/s MB/s peak_RSS cpu_s
for n in $sizes; do
  in="$dir/$typ-$n.jsonl"
  [ -s "$in" ] || "$dir/elt" gen --type "$typ" --count "$n" --seed 1 --out "$in" >/dev/null
  bytes=$(stat -L -c %s "$in")
  for workers in 1 "$(nproc)"; do
    rm -rf "$dir/out"
    run_measured "$dir/elt.json" "$dir/elt.rss" "$dir/elt" transform --in "$in" --out "$dir/out" --workers "$workers"
    secs=$(field seconds <"$dir/elt.json"); rows=$(field rows <"$dir/elt.json")
    read -r rss _ usr sys <"$dir/elt.rss"
    [ "$rows" = "$n" ] || { echo "elt transform wrote $rows rows, want $n" >&2; exit 1; }
    printf '%-9s %-28s %9.2f %12.0f %8.1f %8.0fMB %9.2f\n' "$n" "elt transform --workers $workers" "$secs" \
      "$(echo "$n / $secs" | bc -l)" "$(echo "$bytes / 1000000 / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$(echo "$usr + $sys" | bc -l)"
  done
  if command -v node >/dev/null && [ -x "$duck" ]; then
    rm -f "$dir/duck.parquet"
    run_measured "$dir/duck.json" "$dir/duck.rss" "$duck" convert "$in" "$dir/duck.parquet" 1
    secs=$(field seconds <"$dir/duck.json"); rows=$(field rows <"$dir/duck.json")
    read -r rss _ usr sys <"$dir/duck.rss"
    [ "$rows" = "$n" ] || { echo "duckdb wrote $rows rows, want $n" >&2; exit 1; }
    printf '%-9s %-28s %9.2f %12.0f %8.1f %8.0fMB %9.2f\n' "$n" "duckdb convert, 1 thread" "$secs" \
      "$(echo "$n / $secs" | bc -l)" "$(echo "$bytes / 1000000 / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$(echo "$usr + $sys" | bc -l)"
  else
    echo "(node or $duck missing: DuckDB reference skipped)"
  fi
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo "seconds: elt = its own wall clock from reading to the last file written; duckdb = the COPY statement only (node start-up excluded)."
echo "peak_RSS and cpu_s (user+sys) are of the whole process, from /usr/bin/time."
