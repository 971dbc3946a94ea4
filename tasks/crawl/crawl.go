// Package crawl is the catalog crawler ("Glue crawler"): it refreshes the
// table catalog from silver. Each registered record type is one external
// Parquet table over s3://<bucket>/<silver prefix><type>/ with the columns
// silver writes (internal/silver.Columns, Glue types) and the partition key
// dt; each dt=YYYY-MM-DD/ prefix holding a Parquet file is one partition.
//
// Unlike a Glue crawler it does not infer anything: the schema comes from
// the record type's Go definition, the same one the transform writes with,
// so the catalog can never drift from the files.
//
// What it never does:
//   - catalogue quarantine/, _receipts/, ge/, ops/ or silver_compacted/ as
//     data: it only lists <silver prefix><type>/ for registered types, and
//     refuses a silver prefix (or a type name) inside one of those;
//   - move a partition that compaction switched to another location: a
//     partition located under silver_compacted/ (Config.CompactedPrefixes)
//     or beside a compaction manifest (_manifest.json) is kept as it is
//     (counted in partitions_kept); any other location is refreshed to the
//     silver prefix;
//   - delete tables or partitions (a partition whose silver files were
//     cleaned up after compaction lives on in its compacted location).
//
// A kept partition whose silver prefix holds files its compaction manifest
// does not list (late data written after the compaction) is reported in
// stale_partitions: catalog readers miss those rows until the partition is
// compacted again.
package crawl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/internal/silver"
)

// Error names of the crawl task.
const (
	ErrInvalidInput     = "Crawl.InvalidInput"
	ErrStoreUnavailable = "Crawl.StoreUnavailable"
)

// Error is a crawl failure with its ASL error name.
type Error struct {
	Name string
	Err  error
}

func (e *Error) Error() string     { return e.Err.Error() }
func (e *Error) Unwrap() error     { return e.Err }
func (e *Error) ErrorName() string { return e.Name }

func invalid(format string, args ...any) error {
	return &Error{Name: ErrInvalidInput, Err: fmt.Errorf(format, args...)}
}

func backend(op string, err error) error {
	name := ErrStoreUnavailable
	if fault.CodeOf(err) == fault.InvalidArgument {
		name = ErrInvalidInput
	}
	return &Error{Name: name, Err: fmt.Errorf("%s: %w", op, err)}
}

// ExcludedPrefixes are the silver bucket's non-data prefixes (SESSION2
// contract): never catalogued as tables.
var ExcludedPrefixes = []string{"quarantine/", "_receipts/", "ge/", "ops/", "silver_compacted/"}

// DefaultSilverPrefix is the silver prefix when the input gives none.
const DefaultSilverPrefix = "silver/"

// DefaultDatabase is the catalog database when the config names none.
const DefaultDatabase = "elt"

// NormPrefix makes a prefix "" or "a/b/" (no leading slash, one trailing).
func NormPrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

// Excluded reports whether key (or prefix) lies under a non-data prefix.
func Excluded(key string) bool {
	for _, p := range ExcludedPrefixes {
		if strings.HasPrefix(key, p) || key+"/" == p {
			return true
		}
	}
	return false
}

// GlueType is the Glue/Hive type of a record field kind.
func GlueType(k records.Kind) string {
	switch k {
	case records.Float:
		return "double"
	case records.Int:
		return "bigint"
	case records.Time:
		return "timestamp"
	default:
		return "string"
	}
}

// Columns are a record type's table columns, in silver file order
// (silver.Columns), with Glue types.
func Columns(t *records.Type) []catalog.Column {
	names := silver.Columns(t)
	cols := make([]catalog.Column, 0, len(names))
	for _, n := range names {
		typ := "string"
		if i, ok := t.FieldIndex(n); ok {
			typ = GlueType(t.Fields[i].Kind)
		} else {
			switch n {
			case "event_time", silver.ColIngestedAt:
				typ = "timestamp"
			case silver.ColSourceOffset, silver.ColSourceIndex:
				typ = "bigint"
			}
		}
		cols = append(cols, catalog.Column{Name: n, Type: typ})
	}
	return cols
}

// PartitionKeys are the partition columns of every silver table.
func PartitionKeys() []catalog.Column { return []catalog.Column{{Name: "dt", Type: "string"}} }

// Location is the s3:// URI of a prefix.
func Location(bucket, prefix string) string { return "s3://" + bucket + "/" + prefix }

// ParseLocation splits s3://bucket/prefix/ into bucket and prefix (with
// its trailing slash).
func ParseLocation(loc string) (bucket, prefix string, ok bool) {
	rest, found := strings.CutPrefix(loc, "s3://")
	if !found {
		return "", "", false
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", false
	}
	return bucket, NormPrefix(prefix), true
}

// TablePrefix is the prefix of a record type's silver table.
func TablePrefix(silverPrefix, recordType string) string {
	return NormPrefix(silverPrefix) + recordType + "/"
}

// PartitionPrefix is the silver prefix of one partition.
func PartitionPrefix(silverPrefix, recordType, dt string) string {
	return TablePrefix(silverPrefix, recordType) + "dt=" + dt + "/"
}

// TableFor is the catalog table of a record type's silver data.
func TableFor(t *records.Type, database, bucket, silverPrefix string) catalog.Table {
	return catalog.Table{
		Database:      database,
		Name:          t.Name,
		Location:      Location(bucket, TablePrefix(silverPrefix, t.Name)),
		Columns:       Columns(t),
		PartitionKeys: PartitionKeys(),
	}
}

var dtRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// ValidDt reports whether dt is a calendar date YYYY-MM-DD.
func ValidDt(dt string) bool {
	if !dtRe.MatchString(dt) {
		return false
	}
	_, err := records.ParseTime(dt + "T00:00:00Z")
	return err == nil
}

// ListPartitions lists the dt values (sorted, distinct) of the partitions
// of a record type under silverPrefix that hold at least one .parquet
// file, limited to [from, to] when they are non-empty (inclusive).
func ListPartitions(ctx context.Context, store objstore.Store, bucket, silverPrefix, recordType, from, to string) ([]string, error) {
	var dts []string
	err := scanPartitions(ctx, store, bucket, silverPrefix, recordType, from, to, func(dt string, _ objstore.ObjectInfo) {
		if len(dts) == 0 || dts[len(dts)-1] != dt {
			dts = append(dts, dt)
		}
	})
	return dts, err
}

// scanPartitions calls fn with every .parquet file directly under a
// dt=YYYY-MM-DD/ prefix of the record type's table, in key order (so by
// dt), within [from, to] when they are non-empty.
func scanPartitions(ctx context.Context, store objstore.Store, bucket, silverPrefix, recordType, from, to string, fn func(dt string, o objstore.ObjectInfo)) error {
	table := TablePrefix(silverPrefix, recordType)
	opts := objstore.ListOptions{Prefix: table}
	if from != "" {
		// Keys sort bytewise and "dt=<from>" sorts before "dt=<from>/...",
		// so the listing starts at the first partition >= from.
		opts.StartAfter = table + "dt=" + from
	}
	for {
		page, err := store.List(ctx, bucket, opts)
		if err != nil {
			return backend(fmt.Sprintf("list s3://%s/%s", bucket, table), err)
		}
		for _, o := range page.Objects {
			rest := strings.TrimPrefix(o.Key, table)
			seg, file, ok := strings.Cut(rest, "/")
			dt, isDt := strings.CutPrefix(seg, "dt=")
			if !ok || !isDt || !ValidDt(dt) || strings.Contains(file, "/") || !strings.HasSuffix(file, ".parquet") {
				continue
			}
			if to != "" && dt > to {
				return nil
			}
			fn(dt, o)
		}
		if page.NextContinuationToken == "" {
			return nil
		}
		opts.ContinuationToken = page.NextContinuationToken
	}
}

// Input is the crawl request.
type Input struct {
	SilverBucket string `json:"silver_bucket"`
	// SilverPrefix defaults to "silver/".
	SilverPrefix string `json:"silver_prefix,omitempty"`
	// RecordTypes limits the crawl (default: every registered type).
	RecordTypes []string `json:"record_types,omitempty"`
}

// TableResult is what the crawl did to one table.
type TableResult struct {
	Name       string `json:"name"`
	Action     string `json:"action"` // "added", "updated" or "unchanged"
	Partitions int    `json:"partitions"`
}

// Output counts tables and partitions added or updated.
type Output struct {
	Database            string `json:"database"`
	TablesAdded         int    `json:"tables_added"`
	TablesUpdated       int    `json:"tables_updated"`
	TablesUnchanged     int    `json:"tables_unchanged"`
	PartitionsAdded     int    `json:"partitions_added"`
	PartitionsUpdated   int    `json:"partitions_updated"`
	PartitionsUnchanged int    `json:"partitions_unchanged"`
	// PartitionsKept are partitions left at another location (compacted).
	PartitionsKept int `json:"partitions_kept"`
	// Stale are kept (compacted) partitions whose silver prefix has files
	// the compacted location does not hold (written after the compaction):
	// readers of the catalog miss those rows until the partition is
	// compacted again.
	Stale  []StalePartition `json:"stale_partitions"`
	Tables []TableResult    `json:"tables"`
}

// StalePartition is a compacted partition with newer silver files.
type StalePartition struct {
	RecordType string `json:"record_type"`
	Dt         string `json:"dt"`
	Location   string `json:"location"`
	NewFiles   int    `json:"new_files"`
}

// Deps are the crawler's backends.
type Deps struct {
	Store   objstore.Store
	Catalog catalog.Catalog
	Logger  *slog.Logger
}

// Config is the deployment's side.
type Config struct {
	// Database is the catalog database (default "elt").
	Database string
	// Registry has the record types (default records.Default()).
	Registry *records.Registry
	// CompactedPrefixes are where compaction writes (default
	// "silver_compacted/"): a partition located under one is kept.
	CompactedPrefixes []string
}

// Task is the crawl task.
type Task struct {
	deps Deps
	cfg  Config
}

// New returns the crawl task.
func New(deps Deps, cfg Config) (*Task, error) {
	if deps.Store == nil || deps.Catalog == nil {
		return nil, errors.New("crawl: Store and Catalog are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	if cfg.Registry == nil {
		cfg.Registry = records.Default()
	}
	if len(cfg.CompactedPrefixes) == 0 {
		cfg.CompactedPrefixes = []string{CompactedPrefix}
	}
	return &Task{deps: deps, cfg: cfg}, nil
}

// Handle refreshes the catalog from silver.
func (t *Task) Handle(ctx context.Context, in Input) (Output, error) {
	if in.SilverBucket == "" {
		return Output{}, invalid("silver_bucket is required")
	}
	if in.SilverPrefix == "" {
		in.SilverPrefix = DefaultSilverPrefix
	}
	prefix := NormPrefix(in.SilverPrefix)
	if Excluded(prefix) {
		return Output{}, invalid("silver_prefix %q is a non-data prefix (%s)", in.SilverPrefix, strings.Join(ExcludedPrefixes, ", "))
	}
	names := in.RecordTypes
	if len(names) == 0 {
		names = t.cfg.Registry.Names()
	}
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	out := Output{Database: t.cfg.Database, Stale: []StalePartition{}}
	for _, name := range names {
		typ, ok := t.cfg.Registry.Lookup(name)
		if !ok {
			return out, invalid("unknown record type %q", name)
		}
		if Excluded(TablePrefix(prefix, name)) {
			return out, invalid("record type %q would catalogue the non-data prefix %s", name, TablePrefix(prefix, name))
		}
		tr, err := t.crawlTable(ctx, &out, typ, in.SilverBucket, prefix)
		if err != nil {
			return out, err
		}
		out.Tables = append(out.Tables, tr)
	}
	t.deps.Logger.InfoContext(ctx, "crawl.done", "database", out.Database, "tables_added", out.TablesAdded,
		"tables_updated", out.TablesUpdated, "partitions_added", out.PartitionsAdded,
		"partitions_updated", out.PartitionsUpdated, "partitions_kept", out.PartitionsKept)
	return out, nil
}

func tableEqual(a, b catalog.Table) bool {
	return a.Database == b.Database && a.Name == b.Name && a.Location == b.Location &&
		slices.Equal(a.Columns, b.Columns) && slices.Equal(a.PartitionKeys, b.PartitionKeys)
}

func (t *Task) crawlTable(ctx context.Context, out *Output, typ *records.Type, bucket, prefix string) (TableResult, error) {
	db := t.cfg.Database
	tr := TableResult{Name: typ.Name}
	var dts []string
	files := map[string][]objstore.ObjectInfo{}
	err := scanPartitions(ctx, t.deps.Store, bucket, prefix, typ.Name, "", "", func(dt string, o objstore.ObjectInfo) {
		if len(dts) == 0 || dts[len(dts)-1] != dt {
			dts = append(dts, dt)
		}
		files[dt] = append(files[dt], o)
	})
	if err != nil {
		return tr, err
	}
	want := TableFor(typ, db, bucket, prefix)
	have, err := t.deps.Catalog.GetTable(ctx, db, typ.Name)
	switch {
	case fault.Is(err, fault.NotFound):
		if len(dts) == 0 {
			// No data yet: no table, so an empty record type does not
			// appear as an empty table (as a Glue crawler would do).
			tr.Action = "absent"
			return tr, nil
		}
		tr.Action = "added"
		out.TablesAdded++
	case err != nil:
		return tr, backend("get table "+db+"."+typ.Name, err)
	case tableEqual(have, want):
		tr.Action = "unchanged"
		out.TablesUnchanged++
	default:
		tr.Action = "updated"
		out.TablesUpdated++
	}
	if tr.Action != "unchanged" {
		if err := t.deps.Catalog.UpsertTable(ctx, want); err != nil {
			return tr, backend("upsert table "+db+"."+typ.Name, err)
		}
	}
	existing := map[string]catalog.Partition{}
	if tr.Action != "added" {
		ps, err := t.deps.Catalog.ListPartitions(ctx, db, typ.Name)
		if err != nil {
			return tr, backend("list partitions of "+db+"."+typ.Name, err)
		}
		for _, p := range ps {
			if len(p.Values) == 1 {
				existing[p.Values[0]] = p
			}
		}
	}
	for _, dt := range dts {
		loc := Location(bucket, PartitionPrefix(prefix, typ.Name, dt))
		p, found := existing[dt]
		switch {
		case found && p.Location == loc:
			out.PartitionsUnchanged++
			continue
		case found:
			// Kept when compaction put it there: under a compacted
			// prefix, or wherever a compaction manifest sits beside the
			// files (a backfill with another output_prefix).
			n, hasManifest, err := t.uncovered(ctx, bucket, p.Location, files[dt])
			if err != nil {
				return tr, err
			}
			if hasManifest || t.isCompacted(p.Location, bucket) {
				out.PartitionsKept++
				if n > 0 {
					out.Stale = append(out.Stale, StalePartition{RecordType: typ.Name, Dt: dt, Location: p.Location, NewFiles: n})
				}
				continue
			}
			out.PartitionsUpdated++
		default:
			out.PartitionsAdded++
		}
		np := catalog.Partition{Database: db, Table: typ.Name, Values: []string{dt}, Location: loc}
		if err := t.deps.Catalog.UpsertPartition(ctx, np); err != nil {
			return tr, backend(fmt.Sprintf("upsert partition %s.%s dt=%s", db, typ.Name, dt), err)
		}
	}
	tr.Partitions = len(dts)
	return tr, nil
}

// ManifestName is the compaction manifest's name in a compacted
// location (tasks/compact writes it).
const ManifestName = "_manifest.json"

// uncovered counts the silver files that the compaction manifest at loc
// does not list with the same ETag (all of them if it has no readable
// manifest) and says whether loc has a manifest at all.
func (t *Task) uncovered(ctx context.Context, bucket, loc string, silverFiles []objstore.ObjectInfo) (int, bool, error) {
	b, prefix, ok := ParseLocation(loc)
	if !ok || b != bucket {
		return len(silverFiles), false, nil // another bucket: not ours to judge
	}
	key := prefix + ManifestName
	var m struct {
		Inputs []struct {
			Key  string `json:"key"`
			ETag string `json:"etag"`
		} `json:"inputs"`
	}
	rc, _, err := t.deps.Store.Get(ctx, bucket, key, nil)
	switch {
	case fault.Is(err, fault.NotFound):
		return len(silverFiles), false, nil
	case err != nil:
		return 0, false, backend(fmt.Sprintf("get s3://%s/%s", bucket, key), err)
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(&m); err != nil {
		return len(silverFiles), true, nil // unreadable manifest: nothing is known to be covered
	}
	covered := make(map[string]string, len(m.Inputs))
	for _, in := range m.Inputs {
		covered[in.Key] = in.ETag
	}
	n := 0
	for _, f := range silverFiles {
		if etag, ok := covered[f.Key]; !ok || etag != f.ETag {
			n++
		}
	}
	return n, true, nil
}

// CompactedPrefix is where compaction writes (tasks/compact's default).
const CompactedPrefix = "silver_compacted/"

// isCompacted reports whether a partition location is a compaction output
// in the silver bucket: such a partition is kept, never moved back.
func (t *Task) isCompacted(loc, bucket string) bool {
	b, p, ok := ParseLocation(loc)
	if !ok || b != bucket {
		return false
	}
	for _, c := range t.cfg.CompactedPrefixes {
		if strings.HasPrefix(p, NormPrefix(c)) {
			return true
		}
	}
	return false
}
