#!/usr/bin/env bash
# Checks that two builds of `elt` convert the same inputs into equivalent output: the
# guard for hot-path optimisations (docs/decisions.md #2).
#
# usage: bench/equivalence.sh ELT_A ELT_B [DIR]      e.g. a build of main and a build of a change
# env:   ELT_DUCKDB (path to run.sh; default ../shared/bench/duckdb/run.sh from the repo root)
#
# Inputs (made once in DIR, default /tmp/elt-equivalence): mixed record types with 2% bad inputs
# of every kind, a JSON array, a gzip file, and a file with duplicate event_ids. Both builds
# convert them with small chunks and two workers. Compared: the summaries (counts), the output
# file names, the quarantine lines (without ingested_at), the rows of every silver file (DuckDB
# hashes of every column but ingested_at, in file order), the Parquet schema, and the column
# chunk metadata (types, encodings, compression, value and null counts, min/max, sizes).
set -euo pipefail
A=$(realpath "$1"); B=$(realpath "$2"); d=${3:-/tmp/elt-equivalence}
root=$(cd "$(dirname "$0")/.." && pwd)
duck=${ELT_DUCKDB:-$root/../shared/bench/duckdb/run.sh}
mkdir -p "$d"
[ -s "$d/mix.jsonl" ] || "$A" gen --type all --count 200000 --bad-rate 0.02 --seed 7 --out "$d/mix.jsonl" >/dev/null
[ -s "$d/arr.json" ] || "$A" gen --type all --count 30000 --bad-rate 0.02 --seed 8 --format json --out "$d/arr.json" >/dev/null
[ -s "$d/inv.jsonl.gz" ] || "$A" gen --type invoice_lines,tracking_events --count 50000 --seed 9 --out "$d/inv.jsonl.gz" >/dev/null
[ -s "$d/dup.jsonl" ] || awk 'NR<=12000{print; if (NR%3==0) d[NR]=$0} NR>12000{exit} END{for(k in d) print d[k]}' "$d/mix.jsonl" >"$d/dup.jsonl"
ins=(--in "$d/mix.jsonl" --in "$d/arr.json" --in "$d/inv.jsonl.gz" --in "$d/dup.jsonl")
for x in a b; do
  bin=$A; [ $x = b ] && bin=$B
  rm -rf "$d/out_$x"
  "$bin" transform "${ins[@]}" --out "$d/out_$x" --workers 2 --chunk-bytes 4000000 >"$d/sum_$x.json"
  grep -v -e seconds -e per_sec -e peak "$d/sum_$x.json" >"$d/sum_$x.txt"
  (cd "$d/out_$x" && find . -type f ! -path './.tmp/*' ! -path './_receipts/*' | sort) >"$d/files_$x"
done
diff "$d/sum_a.txt" "$d/sum_b.txt" || { echo "SUMMARIES DIFFER"; exit 1; }
diff "$d/files_a" "$d/files_b" || { echo "FILE NAMES DIFFER"; exit 1; }
for f in $(grep '\.jsonl$' "$d/files_a"); do
  cmp <(sed 's/"ingested_at":"[^"]*"//' "$d/out_a/$f") <(sed 's/"ingested_at":"[^"]*"//' "$d/out_b/$f") || { echo "QUARANTINE DIFFERS: $f"; exit 1; }
done
for x in a b; do
  o=$d/out_$x
  : >"$d/rows_$x"
  for t in shipments tracking_events invoice_lines; do
    ls "$o"/silver/$t/*/*.parquet >/dev/null 2>&1 || continue
    "$duck" query "SELECT replace(filename,'$o/','') f, count(*) n, sum(hash(file_row_number, COLUMNS(* EXCLUDE (ingested_at, filename, file_row_number))) % 1000000007) FROM read_parquet('$o/silver/$t/*/*.parquet', filename=true, file_row_number=true) GROUP BY ALL ORDER BY f" >>"$d/rows_$x"
  done
  "$duck" query "SELECT replace(file_name,'$o/','') f, row_group_id, path_in_schema, type, encodings, compression, num_values, CASE WHEN path_in_schema='ingested_at' THEN '' ELSE stats_min END mi, CASE WHEN path_in_schema='ingested_at' THEN '' ELSE stats_max END ma, stats_null_count, CASE WHEN path_in_schema='ingested_at' THEN 0 ELSE total_compressed_size END sz FROM parquet_metadata('$o/silver/*/*/*.parquet') ORDER BY ALL" >"$d/meta_$x"
  "$duck" query "SELECT name, type, converted_type, logical_type, repetition_type FROM parquet_schema('$o/silver/*/*/*.parquet') GROUP BY ALL ORDER BY ALL" >"$d/schema_$x"
done
diff -q "$d/rows_a" "$d/rows_b" >/dev/null || { echo "ROWS DIFFER (diff $d/rows_a $d/rows_b)"; exit 1; }
diff "$d/schema_a" "$d/schema_b" || { echo "SCHEMA DIFFERS"; exit 1; }
diff -q "$d/meta_a" "$d/meta_b" >/dev/null || { echo "PARQUET METADATA DIFFERS (diff $d/meta_a $d/meta_b)"; exit 1; }
echo "equivalent: $(wc -l <"$d/files_a") files, $(wc -l <"$d/rows_a") silver files' rows, $(wc -l <"$d/meta_a") column chunks, $(grep -h -o '"duplicates": [0-9]*' "$d/sum_a.json")"
