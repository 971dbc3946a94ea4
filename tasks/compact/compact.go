// Package compact is "Glue compaction" for one silver partition
// (record_type, dt), plus the two tasks around it in the backfill workflow:
// list_partitions (Lister) and compact_cleanup (Cleanup).
//
// Compaction reads the partition's current files, merges them into files
// of about a target size, keeps one row per event_id, sorts by event_time
// and writes
//
//	<output prefix><type>/dt=<dt>/<run id>/part-NNNNN.parquet
//	<output prefix><type>/dt=<dt>/<run id>/_manifest.json
//
// (same schema, lineage columns and codec as silver). It reads every output
// back (row counts and SHA-256 must match what it wrote) and only then
// switches the catalog partition's location to the new prefix. Nothing is
// deleted: Cleanup removes the superseded inputs later, on request.
//
// Which files are "current": the catalog partition's location when it is a
// compaction output, plus the files in the silver partition prefix that
// location's manifest does not list with the same ETag (late data written
// after the last compaction); otherwise the silver partition prefix.
//
// Idempotent and crash-safe: output names depend only on the run id and the
// rows (fully ordered), so re-running a run id rewrites the same files;
// stale parts of an earlier attempt are removed before the switch; a crash
// before the switch leaves the catalog on the old files; a re-run after the
// switch finds the catalog on its own outputs and returns them.
//
// Memory: inputs are downloaded to temp files one at a time and outputs
// are built one file at a time on disk (the writer holds at most one row
// group), so I/O buffers are bounded. The rows are not: dedupe and the
// global sort hold every row of the partition in memory (about 24 bytes a
// column value plus the distinct strings; low-cardinality strings are
// shared). That is one partition, never more: size the function's memory
// for the largest partition (roughly 1 GiB per 2-3 million rows of the
// default types).
package compact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/tasks/crawl"
)

// Defaults.
const (
	DefaultTargetFileBytes = 128 << 20
	DefaultOutputPrefix    = "silver_compacted/"
	// MaxTargetFileBytes is S3's single PUT limit (5 GiB).
	MaxTargetFileBytes = 5 << 30
)

// Input names one partition and the run.
type Input struct {
	SilverBucket string `json:"silver_bucket"`
	// SilverPrefix defaults to "silver/".
	SilverPrefix string `json:"silver_prefix,omitempty"`
	// OutputPrefix defaults to "silver_compacted/".
	OutputPrefix string `json:"output_prefix,omitempty"`
	RecordType   string `json:"record_type"`
	Dt           string `json:"dt"`
	// RunID names the output prefix (the workflow passes its execution
	// name): letters, digits, '.', '_', '-'; at most 80.
	RunID string `json:"run_id"`
	// TargetFileBytes is the output file size aimed at (default 128 MiB).
	TargetFileBytes int64 `json:"target_file_bytes,omitempty"`
}

// Status values of Output.
const (
	StatusCompacted      = "compacted"       // outputs written, verified, catalog switched
	StatusEmpty          = "empty"           // the partition has no files
	StatusUpToDate       = "up_to_date"      // already compacted, no file since
	StatusAlreadyCurrent = "already_current" // this run id already switched the catalog
)

// Output summarises the run (small: it travels through the state machine).
type Output struct {
	Status      string `json:"status"`
	RecordType  string `json:"record_type"`
	Dt          string `json:"dt"`
	RunID       string `json:"run_id"`
	Bucket      string `json:"bucket"`
	ManifestKey string `json:"manifest_key"` // "" when there is none (empty partition)
	// Location is the partition location after the run.
	Location          string `json:"location"`
	PreviousLocation  string `json:"previous_location,omitempty"`
	Switched          bool   `json:"switched"`
	InputFiles        int    `json:"input_files"`
	InputRows         int64  `json:"input_rows"`
	DuplicatesRemoved int64  `json:"duplicates_removed"`
	OutputFiles       int    `json:"output_files"`
	OutputRows        int64  `json:"output_rows"`
	OutputBytes       int64  `json:"output_bytes"`
}

// Deps are the backends.
type Deps struct {
	Store   objstore.Store
	Catalog catalog.Catalog
	Now     func() time.Time
	Logger  *slog.Logger
}

// Config is the deployment's side.
type Config struct {
	// Database is the catalog database (default "elt").
	Database string
	// Registry has the record types (default records.Default()).
	Registry *records.Registry
	// TempDir holds downloaded inputs and outputs being built.
	TempDir string
	// TargetFileBytes is the default target size (default 128 MiB).
	TargetFileBytes int64
}

func (c *Config) defaults() {
	if c.Database == "" {
		c.Database = crawl.DefaultDatabase
	}
	if c.Registry == nil {
		c.Registry = records.Default()
	}
	if c.TargetFileBytes <= 0 {
		c.TargetFileBytes = DefaultTargetFileBytes
	}
}

func (d *Deps) defaults() error {
	if d.Store == nil || d.Catalog == nil {
		return errors.New("compact: Store and Catalog are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Task compacts one partition.
type Task struct {
	deps Deps
	cfg  Config
}

// New returns the compact task.
func New(deps Deps, cfg Config) (*Task, error) {
	if err := deps.defaults(); err != nil {
		return nil, err
	}
	cfg.defaults()
	return &Task{deps: deps, cfg: cfg}, nil
}

var runIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,80}$`)

// partition is a checked Input.
type partition struct {
	typ                  *records.Type
	bucket               string
	silverPrefix         string // silver/<type>/dt=<dt>/
	outPrefix            string // silver_compacted/<type>/dt=<dt>/<run>/
	outputBase           string // silver_compacted/
	dt, runID            string
	target               int64
	silverRoot, database string
}

func (t *Task) check(in Input) (*partition, error) {
	if in.SilverBucket == "" {
		return nil, errorf(ErrInvalidInput, "silver_bucket is required")
	}
	typ, ok := t.cfg.Registry.Lookup(in.RecordType)
	if !ok {
		return nil, errorf(ErrInvalidInput, "unknown record type %q", in.RecordType)
	}
	if !crawl.ValidDt(in.Dt) {
		return nil, errorf(ErrInvalidInput, "dt %q is not a date YYYY-MM-DD", in.Dt)
	}
	if in.RunID == "." || in.RunID == ".." || !runIDRe.MatchString(in.RunID) {
		return nil, errorf(ErrInvalidInput, "run_id %q: want 1-80 of [A-Za-z0-9._-]", in.RunID)
	}
	if in.TargetFileBytes < 0 || in.TargetFileBytes > MaxTargetFileBytes {
		return nil, errorf(ErrInvalidInput, "target_file_bytes %d outside [0, %d]", in.TargetFileBytes, MaxTargetFileBytes)
	}
	if in.SilverPrefix == "" {
		in.SilverPrefix = crawl.DefaultSilverPrefix
	}
	if in.OutputPrefix == "" {
		in.OutputPrefix = DefaultOutputPrefix
	}
	silverRoot, outRoot := crawl.NormPrefix(in.SilverPrefix), crawl.NormPrefix(in.OutputPrefix)
	if outRoot == "" || strings.HasPrefix(outRoot, silverRoot) || strings.HasPrefix(silverRoot, outRoot) {
		return nil, errorf(ErrInvalidInput, "output_prefix %q must be a separate prefix from silver_prefix %q", in.OutputPrefix, in.SilverPrefix)
	}
	p := &partition{
		typ: typ, bucket: in.SilverBucket, dt: in.Dt, runID: in.RunID,
		silverRoot:   silverRoot,
		silverPrefix: crawl.PartitionPrefix(silverRoot, typ.Name, in.Dt),
		outputBase:   outRoot,
		outPrefix:    outRoot + typ.Name + "/dt=" + in.Dt + "/" + in.RunID + "/",
		target:       in.TargetFileBytes,
		database:     t.cfg.Database,
	}
	if p.target == 0 {
		p.target = t.cfg.TargetFileBytes
	}
	return p, nil
}

// Handle compacts the partition.
func (t *Task) Handle(ctx context.Context, in Input) (Output, error) {
	p, err := t.check(in)
	if err != nil {
		return Output{}, err
	}
	out := Output{RecordType: p.typ.Name, Dt: p.dt, RunID: p.runID, Bucket: p.bucket}
	log := t.deps.Logger.With("record_type", p.typ.Name, "dt", p.dt, "run_id", p.runID)

	if err := t.ensureTable(ctx, p); err != nil {
		return out, err
	}
	cur, err := t.deps.Catalog.GetPartition(ctx, p.database, p.typ.Name, []string{p.dt})
	switch {
	case fault.Is(err, fault.NotFound):
		cur = catalog.Partition{}
	case err != nil:
		return out, backendError(fmt.Sprintf("get partition %s.%s dt=%s", p.database, p.typ.Name, p.dt), err)
	}
	out.Location, out.PreviousLocation = cur.Location, cur.Location
	myLoc := crawl.Location(p.bucket, p.outPrefix)

	// Where the catalog points now, when it is a compaction output in
	// this bucket (a manifest beside the files says so).
	var prev *Manifest
	prevPrefix := ""
	if b, pre, ok := crawl.ParseLocation(cur.Location); ok && b == p.bucket && pre != p.silverPrefix {
		if prev, err = ReadManifest(ctx, t.deps.Store, p.bucket, pre+ManifestName); err != nil {
			return out, err
		}
		prevPrefix = pre
	}
	if cur.Location == myLoc && prev != nil {
		// A re-run after this run id's switch: nothing to do.
		fill(&out, prev, p.outPrefix+ManifestName)
		out.Status, out.Location, out.PreviousLocation = StatusAlreadyCurrent, myLoc, prev.PreviousLocation
		log.InfoContext(ctx, "compact.already_current", "location", myLoc)
		return out, nil
	}

	inputs, fresh, err := t.inputs(ctx, p, prevPrefix, prev)
	if err != nil {
		return out, err
	}
	switch {
	case len(inputs) == 0:
		out.Status = StatusEmpty
		log.InfoContext(ctx, "compact.empty")
		return out, nil
	case prev != nil && fresh == 0:
		out.Status = StatusUpToDate
		out.ManifestKey = prevPrefix + ManifestName
		log.InfoContext(ctx, "compact.up_to_date", "location", cur.Location)
		return out, nil
	}

	m, err := t.compact(ctx, p, inputs, cur.Location)
	if err != nil {
		return out, err
	}
	if err := t.deps.Catalog.UpsertPartition(ctx, catalog.Partition{
		Database: p.database, Table: p.typ.Name, Values: []string{p.dt}, Location: myLoc,
	}); err != nil {
		return out, backendError(fmt.Sprintf("switch partition %s.%s dt=%s", p.database, p.typ.Name, p.dt), err)
	}
	fill(&out, m, p.outPrefix+ManifestName)
	out.Status, out.Switched, out.Location = StatusCompacted, true, myLoc
	log.InfoContext(ctx, "compact.switched", "location", myLoc, "previous", cur.Location,
		"input_files", out.InputFiles, "output_files", out.OutputFiles, "rows", out.OutputRows,
		"duplicates_removed", out.DuplicatesRemoved)
	return out, nil
}

func fill(out *Output, m *Manifest, key string) {
	out.ManifestKey = key
	out.InputFiles, out.InputRows = len(m.Inputs), m.InputRows
	out.DuplicatesRemoved = m.DuplicatesRemoved
	out.OutputFiles, out.OutputRows = len(m.Outputs), m.OutputRows
	for _, o := range m.Outputs {
		out.OutputBytes += o.Bytes
	}
}

// ensureTable creates the record type's table if the crawler has not yet.
func (t *Task) ensureTable(ctx context.Context, p *partition) error {
	_, err := t.deps.Catalog.GetTable(ctx, p.database, p.typ.Name)
	if err == nil {
		return nil
	}
	if !fault.Is(err, fault.NotFound) {
		return backendError("get table "+p.database+"."+p.typ.Name, err)
	}
	if err := t.deps.Catalog.UpsertTable(ctx, crawl.TableFor(p.typ, p.database, p.bucket, p.silverRoot)); err != nil {
		return backendError("create table "+p.database+"."+p.typ.Name, err)
	}
	return nil
}

// listParquet lists the .parquet files directly under prefix.
func listParquet(ctx context.Context, store objstore.Store, bucket, prefix string) ([]objstore.ObjectInfo, error) {
	all, err := listAll(ctx, store, bucket, prefix)
	if err != nil {
		return nil, err
	}
	var out []objstore.ObjectInfo
	for _, o := range all {
		rest := strings.TrimPrefix(o.Key, prefix)
		if strings.HasSuffix(rest, ".parquet") && !strings.Contains(rest, "/") {
			out = append(out, o)
		}
	}
	return out, nil
}

// inputs are the partition's current files (see the package comment);
// fresh counts those not covered by the previous compaction.
func (t *Task) inputs(ctx context.Context, p *partition, prevPrefix string, prev *Manifest) ([]objstore.ObjectInfo, int, error) {
	var inputs []objstore.ObjectInfo
	covered := map[string]string{}
	if prevPrefix != "" {
		files, err := listParquet(ctx, t.deps.Store, p.bucket, prevPrefix)
		if err != nil {
			return nil, 0, err
		}
		inputs = append(inputs, files...)
		if prev != nil {
			for _, in := range prev.Inputs {
				covered[in.Key] = in.ETag
			}
		}
	}
	files, err := listParquet(ctx, t.deps.Store, p.bucket, p.silverPrefix)
	if err != nil {
		return nil, 0, err
	}
	fresh := 0
	for _, f := range files {
		if etag, ok := covered[f.Key]; ok && etag == f.ETag {
			continue
		}
		inputs = append(inputs, f)
		fresh++
	}
	if prev == nil {
		fresh = len(inputs)
	}
	slices.SortFunc(inputs, func(a, b objstore.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return inputs, fresh, nil
}

// download copies an object (at the listed ETag) to a temp file.
func (t *Task) download(ctx context.Context, bucket string, o objstore.ObjectInfo) (*os.File, int64, error) {
	rc, _, err := t.deps.Store.Get(ctx, bucket, o.Key, &objstore.GetOptions{IfMatch: o.ETag})
	if err != nil {
		return nil, 0, storeError(fmt.Sprintf("get s3://%s/%s@%s", bucket, o.Key, o.ETag), err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(t.cfg.TempDir, "elt-compact-in-*.parquet")
	if err != nil {
		return nil, 0, fmt.Errorf("create temp file: %w", err)
	}
	n, err := io.Copy(f, rc)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, storeError(fmt.Sprintf("read s3://%s/%s", bucket, o.Key), err)
	}
	return f, n, nil
}

func removeTemp(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// compact reads, dedupes, sorts, writes and verifies; it returns the
// manifest it wrote.
func (t *Task) compact(ctx context.Context, p *partition, inputs []objstore.ObjectInfo, prevLoc string) (*Manifest, error) {
	l := newLayout(p.typ)
	m := &Manifest{
		Version: ManifestVersion, RunID: p.runID, RecordType: p.typ.Name, Dt: p.dt, Bucket: p.bucket,
		Location: crawl.Location(p.bucket, p.outPrefix), PreviousLocation: prevLoc,
		CreatedAt: t.deps.Now().UTC(), TargetFileBytes: p.target,
	}
	var rows []parquet.Row
	var inBytes int64
	in := interner{}
	for _, o := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, backendError("compact", err)
		}
		f, size, err := t.download(ctx, p.bucket, o)
		if err != nil {
			return nil, err
		}
		var n int64
		rows, n, err = l.readRows(f, size, in, rows)
		removeTemp(f)
		if err != nil {
			return nil, errorf(ErrCorruptInput, "s3://%s/%s: %w", p.bucket, o.Key, err)
		}
		inBytes += size
		m.Inputs = append(m.Inputs, ManifestInput{Key: o.Key, ETag: o.ETag, Size: size, Rows: n})
		m.InputRows += n
	}
	rows, m.DuplicatesRemoved, m.RowsWithoutEventID = l.dedupe(rows)

	// Files of about the target size: the inputs' bytes per row predict
	// the outputs' (same schema and codec); rows are spread evenly so the
	// last file is not a runt. Deterministic given the inputs.
	perFile := int64(len(rows))
	if inBytes > 0 && m.InputRows > 0 {
		perFile = max(1, int64(float64(p.target)*float64(m.InputRows)/float64(inBytes)))
	}
	nFiles := max(1, (int64(len(rows))+perFile-1)/perFile)
	if len(rows) == 0 {
		nFiles = 0 // only empty inputs: no output file (the partition becomes empty)
	}
	written := map[string]bool{p.outPrefix + ManifestName: true}
	for i := int64(0); i < nFiles; i++ {
		lo, hi := int64(len(rows))*i/nFiles, int64(len(rows))*(i+1)/nFiles
		key := fmt.Sprintf("%spart-%05d.parquet", p.outPrefix, i)
		f, size, sum, err := l.writeFile(t.cfg.TempDir, rows[lo:hi])
		if err != nil {
			return nil, errorf(ErrStoreUnavailable, "build %s: %w", key, err)
		}
		_, err = t.deps.Store.Put(ctx, p.bucket, key, f, &objstore.PutOptions{ContentType: "application/vnd.apache.parquet"})
		removeTemp(f)
		if err != nil {
			return nil, backendError(fmt.Sprintf("put s3://%s/%s", p.bucket, key), err)
		}
		m.Outputs = append(m.Outputs, ManifestOutput{Key: key, Rows: hi - lo, Bytes: size, SHA256: sum})
		m.OutputRows += hi - lo
		written[key] = true
	}
	rows = nil // the rows are on disk now; let the verification run in less memory

	// A stale part from an earlier attempt of this run id (with other
	// inputs) would be read as part of the partition: remove it.
	stale, err := listAll(ctx, t.deps.Store, p.bucket, p.outPrefix)
	if err != nil {
		return nil, err
	}
	for _, o := range stale {
		if !written[o.Key] {
			if err := t.deps.Store.Delete(ctx, p.bucket, o.Key); err != nil {
				return nil, backendError(fmt.Sprintf("delete stale s3://%s/%s", p.bucket, o.Key), err)
			}
		}
	}
	if err := t.verify(ctx, p, l, m); err != nil {
		return nil, err
	}
	if err := putManifest(ctx, t.deps.Store, p.bucket, p.outPrefix+ManifestName, m); err != nil {
		return nil, err
	}
	return m, nil
}

// listAll lists every object under prefix.
func listAll(ctx context.Context, store objstore.Store, bucket, prefix string) ([]objstore.ObjectInfo, error) {
	var out []objstore.ObjectInfo
	opts := objstore.ListOptions{Prefix: prefix}
	for {
		page, err := store.List(ctx, bucket, opts)
		if err != nil {
			return nil, backendError(fmt.Sprintf("list s3://%s/%s", bucket, prefix), err)
		}
		out = append(out, page.Objects...)
		if page.NextContinuationToken == "" {
			return out, nil
		}
		opts.ContinuationToken = page.NextContinuationToken
	}
}

// verify reads every output back from the store: its bytes must hash to
// the recorded SHA-256 and decode to the recorded number of rows, and the
// rows must add up to the distinct input rows.
func (t *Task) verify(ctx context.Context, p *partition, l *layout, m *Manifest) error {
	var total int64
	for _, o := range m.Outputs {
		f, size, err := t.download(ctx, p.bucket, objstore.ObjectInfo{Key: o.Key})
		if err != nil {
			return err
		}
		sum, err := fileSHA256(f)
		var n int64
		if err == nil {
			n, err = l.countRows(f, size)
		}
		removeTemp(f)
		switch {
		case err != nil:
			return errorf(ErrVerifyFailed, "read back s3://%s/%s: %w", p.bucket, o.Key, err)
		case size != o.Bytes || sum != o.SHA256:
			return errorf(ErrVerifyFailed, "s3://%s/%s: read back %d bytes sha256 %s, wrote %d bytes sha256 %s", p.bucket, o.Key, size, sum, o.Bytes, o.SHA256)
		case n != o.Rows:
			return errorf(ErrVerifyFailed, "s3://%s/%s: read back %d rows, wrote %d", p.bucket, o.Key, n, o.Rows)
		}
		total += n
	}
	if want := m.InputRows - m.DuplicatesRemoved; total != want {
		return errorf(ErrVerifyFailed, "outputs hold %d rows, distinct input rows %d", total, want)
	}
	return nil
}
