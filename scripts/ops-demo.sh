#!/usr/bin/env bash
# The demo behind `make ops-demo`: the operations workflows end to end on a
# fresh embedded data dir, through the same make targets a user types.
#   1. seed: generate three partitions and run them through the hot path
#   2. make ops-start: replay the last 24h of bronze; silver has every
#      replayed record exactly once (DuckDB counts before and after)
#   3. make ge-start: a partition with planted violations fails the gate
#      (GE result, quarantine marker, notification); a clean one passes
#   4. make glue-crawler-start, then glue-job-start: compaction of a
#      partition of many small files with duplicates; the catalog points at
#      the compacted files, which DuckDB reads back
# It fails loudly when a check does not hold.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
DIR=${OPS_DEMO_DIR:-build/ops-demo}
DATA="$DIR/data"
IN="$DIR/in"
ELT=build/elt
SILVER="$DATA/store/silver"
MK=(make -s --no-print-directory "DATA_DIR=$DATA" "ELT=$ELT" TARGET=embedded)
DUCK=${ELT_DUCKDB:-../shared/bench/duckdb/run.sh}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { printf '\n\033[1;31mOPS DEMO FAILED: %s\033[0m\n' "$*" >&2; exit 1; }
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
if command -v node >/dev/null && [ -x "$DUCK" ]; then HAVE_DUCK=1; else HAVE_DUCK=0; fi

# duck_count GLOB: "rows distinct_event_ids" of the Parquet files (DuckDB).
duck_count() {
  "$DUCK" query "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM read_parquet('$1')" | jq -r '"\(.n) \(.d)"'
}
nfiles() { find "$1" -name '*.parquet' 2>/dev/null | wc -l | tr -d ' '; }

say "build"
mkdir -p build
$GO build -o "$ELT" ./cmd/elt
rm -rf "$DIR"
mkdir -p "$IN"
T0=$(date +%s)

# ----------------------------------------------------------------- 1. seed
say "1. seed three partitions through the hot path"
CLEAN_DT=2025-03-01 BAD_DT=2025-03-02 SMALL_DT=2025-03-03
"$ELT" gen --type shipments --count 2000 --seed 11 --start $CLEAN_DT --days 1 --out "$IN/shipments-clean.jsonl" >/dev/null
"$ELT" gen --type shipments --count 2000 --seed 12 --start $BAD_DT --days 1 --violations 0.05 --out "$IN/shipments-violations.jsonl" >/dev/null
# Many small files with overlapping records: 6 files of 500, plus 300
# records sent twice (a producer retry) in their own file.
"$ELT" gen --type tracking_events --count 3000 --seed 13 --start $SMALL_DT --days 1 --out "$IN/tracking.jsonl" >/dev/null
split -l 500 -d --additional-suffix=.jsonl "$IN/tracking.jsonl" "$IN/tracking-part-"
head -n 300 "$IN/tracking.jsonl" > "$IN/tracking-retry.jsonl"
rm "$IN/tracking.jsonl"
"$ELT" bronze add --data-dir "$DATA" --prefix "bronze/shipments/" "$IN/shipments-clean.jsonl" "$IN/shipments-violations.jsonl" >/dev/null
"$ELT" bronze add --data-dir "$DATA" --prefix "bronze/tracking_events/" "$IN"/tracking-*.jsonl >/dev/null
"$ELT" run --until-idle --data-dir "$DATA" --settle 0 --output json > "$DIR/seed.json"
SEED_OBJECTS=$(jq .objects "$DIR/seed.json")
SEED_ROWS=$(jq .silver_rows "$DIR/seed.json")
SEED_QUAR=$(jq .quarantined "$DIR/seed.json")
SEED_RECORDS=$(jq .records "$DIR/seed.json")
SEED_DUPS=$(jq .duplicates "$DIR/seed.json")
echo "$SEED_OBJECTS bronze objects, $SEED_RECORDS records -> $SEED_ROWS silver rows + $SEED_QUAR quarantined + $SEED_DUPS duplicates within a chunk"
[ "$((SEED_ROWS + SEED_QUAR + SEED_DUPS))" -eq "$SEED_RECORDS" ] || die "seed: $SEED_RECORDS records but $SEED_ROWS silver + $SEED_QUAR quarantined + $SEED_DUPS duplicates"
SEED_FILES=$(nfiles "$SILVER/silver")
if [ $HAVE_DUCK = 1 ]; then
  DUCK_BEFORE=$(duck_count "$SILVER/silver/**/*.parquet" | cut -d' ' -f1)
  echo "DuckDB reads $DUCK_BEFORE silver rows in $SEED_FILES files"
  [ "$DUCK_BEFORE" -eq "$SEED_ROWS" ] || die "DuckDB reads $DUCK_BEFORE rows, the pipeline counted $SEED_ROWS"
fi

# ----------------------------------------------------------------- 2. ops replay
say "2. make ops-start: replay the last 24h of bronze through the hot path"
# The window ends at the execution's start second (exclusive, S3's
# LastModified has whole seconds): let the seeded objects' second pass.
sleep 1
"${MK[@]}" ops-start > "$DIR/ops.json" || { cat "$DIR/ops.json"; die "make ops-start failed"; }
OPS_STATUS=$(jq -r .status "$DIR/ops.json")
OPS_NAME=$(jq -r .name "$DIR/ops.json")
OPS_OUT=$(jq -r .output "$DIR/ops.json")
COPIED=$(find "$DATA/store/bronze/bronze/replay/manual/$OPS_NAME" -type f 2>/dev/null | wc -l | tr -d ' ')
EXPECTED=$(printf '%s' "$OPS_OUT" | jq '.poll.Payload.expected_objects // 0')
LANDED=$(printf '%s' "$OPS_OUT" | jq '.poll.Payload.landed_objects // 0')
REPLAY_ROWS=$(printf '%s' "$OPS_OUT" | jq '.poll.Payload.rows // 0')
echo "execution $OPS_NAME: $OPS_STATUS; $COPIED objects replayed, $LANDED landed in silver with $REPLAY_ROWS rows"
[ "$OPS_STATUS" = SUCCEEDED ] || die "ops execution $OPS_STATUS"
[ "$COPIED" -eq "$SEED_OBJECTS" ] || die "$COPIED copies under bronze/replay/manual/$OPS_NAME/, seeded $SEED_OBJECTS objects"
[ "$EXPECTED" -eq "$COPIED" ] && [ "$LANDED" -eq "$COPIED" ] || die "silverpoll expected $EXPECTED and saw $LANDED of $COPIED copies land"
[ "$REPLAY_ROWS" -eq "$SEED_ROWS" ] || die "the replayed copies landed $REPLAY_ROWS rows, the seed $SEED_ROWS"
"${MK[@]}" ops-status > /dev/null || die "make ops-status"
"${MK[@]}" ops-history | tail -n 4
AFTER_FILES=$(nfiles "$SILVER/silver")
echo "silver files: $SEED_FILES before the replay, $AFTER_FILES after"
[ "$AFTER_FILES" -eq "$SEED_FILES" ] || die "the replay added silver files ($SEED_FILES -> $AFTER_FILES)"
if [ $HAVE_DUCK = 1 ]; then
  DUCK_AFTER=$(duck_count "$SILVER/silver/**/*.parquet" | cut -d' ' -f1)
  echo "DuckDB reads $DUCK_AFTER silver rows (before: $DUCK_BEFORE): each replayed record is there exactly once"
  [ "$DUCK_AFTER" -eq "$DUCK_BEFORE" ] || die "silver rows changed with the replay: $DUCK_BEFORE -> $DUCK_AFTER"
fi

# ----------------------------------------------------------------- 3. quality gate
say "3. make ge-start: the partition with planted violations fails the gate"
NOTES_BEFORE=$( [ -f "$DATA/notify/outbox.jsonl" ] && wc -l < "$DATA/notify/outbox.jsonl" || echo 0)
if "${MK[@]}" ge-start GE_RECORD_TYPE=shipments GE_DT=$BAD_DT > "$DIR/ge-bad.json"; then
  cat "$DIR/ge-bad.json"; die "ge-start passed a partition with planted violations"
fi
echo "(make reports the failed gate above: that is the expected verdict)"
jq -r '"execution \(.name): \(.status) \(.error // "")"' "$DIR/ge-bad.json"
BAD_RESULT=$(ls "$SILVER/ge/results/shipments/dt=$BAD_DT/"*.json 2>/dev/null | head -n 1)
[ -n "$BAD_RESULT" ] || die "no GE result under ge/results/shipments/dt=$BAD_DT/"
[ "$(jq .success "$BAD_RESULT")" = false ] || die "GE result $BAD_RESULT says success"
FAILED_EXP=$(jq '[.results[] | select(.success == false)] | length' "$BAD_RESULT")
EVALUATED=$(jq '.statistics.evaluated_expectations' "$BAD_RESULT")
echo "GE result $(basename "$BAD_RESULT"): $FAILED_EXP of $EVALUATED expectations failed:"
jq -r '.results[] | select(.success == false) | "  \(.expectation_config.expectation_type) \(.expectation_config.kwargs.column // "") unexpected \(.result.unexpected_count // "-")"' "$BAD_RESULT"
MARKER="$SILVER/ge/quarantine/shipments/dt=$BAD_DT/marker.json"
[ -f "$MARKER" ] || die "no quarantine marker $MARKER"
echo "quarantine marker: ge/quarantine/shipments/dt=$BAD_DT/marker.json"
NOTES_AFTER=$(wc -l < "$DATA/notify/outbox.jsonl")
[ "$NOTES_AFTER" -gt "$NOTES_BEFORE" ] || die "no notification in $DATA/notify/outbox.jsonl"
echo "notification: $(tail -n 1 "$DATA/notify/outbox.jsonl" | jq -r .subject)"

say "3b. make ge-start: the clean partition passes"
"${MK[@]}" ge-start GE_RECORD_TYPE=shipments GE_DT=$CLEAN_DT > "$DIR/ge-clean.json" || { cat "$DIR/ge-clean.json"; die "ge-start failed a clean partition"; }
GOOD_RESULT=$(ls "$SILVER/ge/results/shipments/dt=$CLEAN_DT/"*.json | head -n 1)
[ "$(jq .success "$GOOD_RESULT")" = true ] || die "clean partition's GE result is not a success"
[ ! -e "$SILVER/ge/quarantine/shipments/dt=$CLEAN_DT/marker.json" ] || die "clean partition quarantined"
echo "clean partition: $(jq .statistics.evaluated_expectations "$GOOD_RESULT") expectations, all met"
"${MK[@]}" ge-status > /dev/null || die "make ge-status"

# ----------------------------------------------------------------- 4. crawler + compaction
say "4. make glue-crawler-start, then glue-job-start on the partition of small files"
"${MK[@]}" glue-crawler-start > "$DIR/crawl.json" || { cat "$DIR/crawl.json"; die "crawler failed"; }
jq -r '.output | "catalog \(.database): \(.tables_added) tables, \(.partitions_added) partitions added"' "$DIR/crawl.json"
PART="$DATA/catalog/elt/tracking_events/partitions/p=$SMALL_DT.json"
[ -f "$PART" ] || die "crawler did not catalog tracking_events dt=$SMALL_DT"
echo "tracking_events dt=$SMALL_DT at $(jq -r .location "$PART")"
SMALL_FILES=$(nfiles "$SILVER/silver/tracking_events/dt=$SMALL_DT")
"${MK[@]}" glue-job-start GLUE_RECORD_TYPE=tracking_events GLUE_DT=$SMALL_DT > "$DIR/compact.json" || { cat "$DIR/compact.json"; die "glue-job-start failed"; }
"${MK[@]}" glue-job-status > /dev/null || die "make glue-job-status"
LOC=$(jq -r .location "$PART")
echo "catalog now: $LOC"
case "$LOC" in s3://silver/silver_compacted/tracking_events/dt=$SMALL_DT/*) ;; *) die "catalog still points at $LOC";; esac
CDIR="$SILVER/${LOC#s3://silver/}"
MANIFEST="$CDIR/_manifest.json"
[ -f "$MANIFEST" ] || MANIFEST=$(ls "$CDIR"/*manifest*.json | head -n 1)
IN_FILES=$(jq '.inputs | length' "$MANIFEST")
IN_ROWS=$(jq '[.inputs[].rows] | add' "$MANIFEST")
OUT_FILES=$(jq '.outputs | length' "$MANIFEST")
OUT_ROWS=$(jq '[.outputs[].rows] | add' "$MANIFEST")
DUPS=$((IN_ROWS - OUT_ROWS))
echo "compaction: $IN_FILES files / $IN_ROWS rows -> $OUT_FILES files / $OUT_ROWS rows ($DUPS duplicate event_ids dropped)"
[ "$IN_FILES" -eq "$SMALL_FILES" ] || die "manifest lists $IN_FILES inputs, silver had $SMALL_FILES files"
[ "$OUT_FILES" -lt "$IN_FILES" ] || die "compaction did not reduce the files"
[ "$OUT_ROWS" -eq 3000 ] || die "compacted rows $OUT_ROWS, want the 3000 distinct records generated"
if [ $HAVE_DUCK = 1 ]; then
  read -r CN CD < <(duck_count "$CDIR/*.parquet")
  echo "DuckDB reads the compacted files: $CN rows, $CD distinct event_ids"
  [ "$CN" -eq "$OUT_ROWS" ] && [ "$CD" -eq "$CN" ] || die "DuckDB: $CN rows / $CD distinct, manifest says $OUT_ROWS"
fi

# ----------------------------------------------------------------- summary
say "summary ($(( $(date +%s) - T0 ))s)"
cat <<EOF
seed        $SEED_RECORDS records in $SEED_OBJECTS bronze objects = $SEED_ROWS silver rows + $SEED_QUAR quarantined
ops replay  $COPIED objects replayed ($OPS_NAME, $OPS_STATUS); silver rows ${DUCK_BEFORE:-$SEED_ROWS} before = ${DUCK_AFTER:-$SEED_ROWS} after, files $SEED_FILES = $AFTER_FILES
ge gate     shipments dt=$BAD_DT FAILED ($FAILED_EXP/$EVALUATED expectations failed, marker + notification); dt=$CLEAN_DT passed
compaction  tracking_events dt=$SMALL_DT: $IN_FILES files / $IN_ROWS rows = $OUT_FILES files / $OUT_ROWS rows + $DUPS duplicates dropped
EOF
[ $HAVE_DUCK = 1 ] || echo "(DuckDB checks skipped: node or $DUCK not available)"
echo "OK"
