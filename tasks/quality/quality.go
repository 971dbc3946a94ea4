// Package quality is the data-quality gate task ("GE gate"): it evaluates
// a Great Expectations expectation suite over one silver partition
// (record type, dt), writes the result in GE's validation result JSON shape
// to ge/results/<type>/dt=<dt>/<run name>.json and a self-contained HTML
// report to ge/reports/<type>/dt=<dt>/<run name>.html in the silver bucket,
// and returns whether the partition passed.
//
// Failed expectations are an outcome, not an error: Output.Success is
// false and the workflow's Choice routes it (quarantine marker and
// notification). Errors are for what a retry or an operator must fix:
// Quality.InvalidInput (bad input or suite), Quality.PartitionNotFound (no
// Parquet files where the partition should be), Quality.StoreUnavailable
// (object store or catalog failures; retried), Quality.UnreadableData (a
// file that is not readable Parquet).
package quality

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/fault"
	"github.com/serverless-elt/elt/internal/objstore"
)

// Error names (the ASL error names workflows retry or catch).
const (
	ErrInvalidInput      = "Quality.InvalidInput"
	ErrPartitionNotFound = "Quality.PartitionNotFound"
	ErrStoreUnavailable  = "Quality.StoreUnavailable"
	ErrUnreadableData    = "Quality.UnreadableData"
)

// Error is a task failure with an ASL error name.
type Error struct {
	Name string
	Err  error
}

func (e *Error) Error() string     { return e.Err.Error() }
func (e *Error) Unwrap() error     { return e.Err }
func (e *Error) ErrorName() string { return e.Name }

func newError(name string, format string, args ...any) *Error {
	return &Error{Name: name, Err: fmt.Errorf(format, args...)}
}

// Defaults of the input's optional fields.
const (
	DefaultSilverPrefix = "silver/"
	DefaultResultPrefix = "ge/results"
	DefaultReportPrefix = "ge/reports"
	// DefaultQuarantinePrefix is where the workflow puts a failed
	// partition's marker: <prefix>/<type>/dt=<dt>/marker.json.
	DefaultQuarantinePrefix = "ge/quarantine"
	// SuitePrefix is where a suite in the silver bucket overrides the
	// built-in one: ge/suites/<record_type>.json.
	SuitePrefix = "ge/suites/"
)

// Input names the partition to validate.
type Input struct {
	SilverBucket string `json:"silver_bucket"`
	SilverPrefix string `json:"silver_prefix,omitempty"`
	RecordType   string `json:"record_type"`
	Dt           string `json:"dt"`
	ResultPrefix string `json:"result_prefix,omitempty"`
	ReportPrefix string `json:"report_prefix,omitempty"`
	// QuarantinePrefix only names Output.QuarantineKey, the marker key the
	// workflow writes when the partition fails (the task writes no marker).
	QuarantinePrefix string `json:"quarantine_prefix,omitempty"`
	// RunName names the result files; default the run time in GE's form
	// (20240501T120000.000000Z). Workflows pass the execution name.
	RunName string `json:"run_name,omitempty"`
	// CatalogDatabase, when set (or Config.CatalogDatabase), makes the
	// catalog's partition location (table = record type) win over the
	// silver layout, e.g. after compaction switched it.
	CatalogDatabase string `json:"catalog_database,omitempty"`
}

// Output is the gate's verdict.
type Output struct {
	Success       bool       `json:"success"`
	Statistics    Statistics `json:"statistics"`
	ResultKey     string     `json:"result_key"`
	ReportKey     string     `json:"report_key"`
	QuarantineKey string     `json:"quarantine_key"`
	// QuarantineLifted says a passing run removed the marker an earlier
	// failing run of the partition left (the partition is usable again).
	QuarantineLifted   bool     `json:"quarantine_lifted"`
	FailedExpectations []string `json:"failed_expectations"`
	Rows               int64    `json:"rows"`
	Files              int      `json:"files"`
	SuiteName          string   `json:"suite_name"`
	Partition          string   `json:"partition"` // s3://bucket/prefix/
}

// Deps are the task's backends.
type Deps struct {
	Store   objstore.Store
	Catalog catalog.Catalog // optional
	Now     func() time.Time
	Log     *slog.Logger
}

// Config tunes the task.
type Config struct {
	// CatalogDatabase is the default of Input.CatalogDatabase.
	CatalogDatabase string
	// TempDir holds the one Parquet file being read (default os.TempDir()).
	TempDir string
}

// Task is the quality task.
type Task struct {
	deps Deps
	cfg  Config
}

// New returns the task; Deps.Store is required.
func New(deps Deps, cfg Config) (*Task, error) {
	if deps.Store == nil {
		return nil, errors.New("quality: Deps.Store is required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	return &Task{deps: deps, cfg: cfg}, nil
}

var (
	recordTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	runNameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
)

func cleanPrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// normalise checks the input and fills defaults.
func (t *Task) normalise(in Input, now time.Time) (Input, error) {
	bad := func(format string, args ...any) (Input, error) {
		return in, newError(ErrInvalidInput, "quality input: "+format, args...)
	}
	if n := len(in.SilverBucket); n < 3 || n > 63 {
		return bad("silver_bucket %q must be a bucket name of 3 to 63 characters", in.SilverBucket)
	}
	if !recordTypeRE.MatchString(in.RecordType) {
		return bad("record_type %q must match %s", in.RecordType, recordTypeRE)
	}
	if d, err := time.Parse("2006-01-02", in.Dt); err != nil || d.Format("2006-01-02") != in.Dt {
		return bad("dt %q must be a date YYYY-MM-DD", in.Dt)
	}
	if in.SilverPrefix == "" {
		in.SilverPrefix = DefaultSilverPrefix
	}
	in.SilverPrefix = cleanPrefix(in.SilverPrefix)
	if in.ResultPrefix == "" {
		in.ResultPrefix = DefaultResultPrefix
	}
	if in.ReportPrefix == "" {
		in.ReportPrefix = DefaultReportPrefix
	}
	if in.QuarantinePrefix == "" {
		in.QuarantinePrefix = DefaultQuarantinePrefix
	}
	in.QuarantinePrefix = cleanPrefix(in.QuarantinePrefix)
	in.ResultPrefix = cleanPrefix(in.ResultPrefix)
	in.ReportPrefix = cleanPrefix(in.ReportPrefix)
	if in.RunName == "" {
		in.RunName = now.UTC().Format(geTime)
	}
	if !runNameRE.MatchString(in.RunName) {
		return bad("run_name %q must match %s", in.RunName, runNameRE)
	}
	if in.CatalogDatabase == "" {
		in.CatalogDatabase = t.cfg.CatalogDatabase
	}
	return in, nil
}

// storeErr classifies a store failure: everything the store reports is an
// infrastructure failure worth a retry (a file replaced or removed between
// listing and reading, by compaction say, is fixed by listing again).
func storeErr(err error) error {
	var qe *Error
	if errors.As(err, &qe) {
		return err
	}
	return &Error{Name: ErrStoreUnavailable, Err: err}
}

// Handle validates one partition.
func (t *Task) Handle(ctx context.Context, in Input) (Output, error) {
	now := t.deps.Now()
	in, err := t.normalise(in, now)
	if err != nil {
		return Output{}, err
	}
	bucket, prefix, source, err := t.location(ctx, in)
	if err != nil {
		return Output{}, err
	}
	suite, suiteSource, err := t.suite(ctx, in)
	if err != nil {
		return Output{}, err
	}
	objs, err := listParquet(ctx, t.deps.Store, bucket, prefix)
	if err != nil {
		return Output{}, storeErr(err)
	}
	if len(objs) == 0 {
		// An error, not a verdict: the gate runs when a partition is
		// reported ready, so no files means a wrong record type, dt or
		// prefix (or a partition not written yet). Failing the data would
		// write a quarantine marker for data that does not exist, and
		// passing it would wave an empty partition through; an operator
		// must look, so the workflow notifies and fails without retrying.
		return Output{}, newError(ErrPartitionNotFound, "no Parquet files under s3://%s/%s", bucket, prefix)
	}
	files := make([]partFile, 0, len(objs))
	var columns []Column
	seen := map[string]bool{}
	var rows int64
	for _, o := range objs {
		pf, err := readFooter(ctx, t.deps.Store, o)
		if err != nil {
			if errors.Is(err, errBadParquet) {
				return Output{}, &Error{Name: ErrUnreadableData, Err: err}
			}
			return Output{}, storeErr(err)
		}
		for _, c := range pf.columns {
			if !seen[c.Name] {
				seen[c.Name] = true
				columns = append(columns, c)
			}
		}
		rows += pf.rows
		files = append(files, pf)
	}
	v := NewValidator(suite, columns)
	var base int64
	spec := BatchSpec{Bucket: bucket, Prefix: prefix, RecordType: in.RecordType, Dt: in.Dt, Source: source, Rows: rows, Columns: columns}
	for _, pf := range files {
		if err := t.scan(ctx, pf, base, columns, v); err != nil {
			return Output{}, err
		}
		base += pf.rows
		spec.Files = append(spec.Files, BatchFile{Key: pf.info.Key, ETag: pf.info.ETag, Size: pf.info.Size, Rows: pf.rows})
	}
	res := Summarise(suite, v.Finish(Batch{Rows: rows, Columns: columns}), in.RunName, now, spec, suiteSource)
	partDir := in.RecordType + "/dt=" + in.Dt + "/"
	out := Output{
		Success:            res.Success,
		Statistics:         res.Statistics,
		ResultKey:          in.ResultPrefix + partDir + in.RunName + ".json",
		ReportKey:          in.ReportPrefix + partDir + in.RunName + ".html",
		QuarantineKey:      in.QuarantinePrefix + partDir + "marker.json",
		FailedExpectations: res.Failed(),
		Rows:               rows,
		Files:              len(files),
		SuiteName:          suite.Name,
		Partition:          "s3://" + bucket + "/" + prefix,
	}
	body, err := EncodeJSON(res)
	if err != nil {
		return Output{}, fmt.Errorf("encode result: %w", err)
	}
	if _, err := t.deps.Store.Put(ctx, in.SilverBucket, out.ResultKey, bytes.NewReader(body), &objstore.PutOptions{ContentType: "application/json"}); err != nil {
		return Output{}, storeErr(fmt.Errorf("put s3://%s/%s: %w", in.SilverBucket, out.ResultKey, err))
	}
	page, err := RenderHTML(res, out.ResultKey)
	if err != nil {
		return Output{}, err
	}
	if _, err := t.deps.Store.Put(ctx, in.SilverBucket, out.ReportKey, bytes.NewReader(page), &objstore.PutOptions{ContentType: "text/html; charset=utf-8"}); err != nil {
		return Output{}, storeErr(fmt.Errorf("put s3://%s/%s: %w", in.SilverBucket, out.ReportKey, err))
	}
	if out.Success {
		lifted, err := t.liftQuarantine(ctx, in.SilverBucket, out.QuarantineKey)
		if err != nil {
			return Output{}, err
		}
		out.QuarantineLifted = lifted
	}
	t.deps.Log.Info("quality.validated", "record_type", in.RecordType, "dt", in.Dt, "success", out.Success,
		"rows", rows, "files", len(files), "failed", out.FailedExpectations, "result", out.ResultKey)
	return out, nil
}

// liftQuarantine removes the partition's quarantine marker, if any: the
// workflow writes it when a run fails, and a later run that passes (data
// fixed or replayed, suite changed) is the one that lifts it.
func (t *Task) liftQuarantine(ctx context.Context, bucket, key string) (bool, error) {
	if _, err := t.deps.Store.Head(ctx, bucket, key); err != nil {
		if fault.Is(err, fault.NotFound) {
			return false, nil
		}
		return false, storeErr(fmt.Errorf("head s3://%s/%s: %w", bucket, key, err))
	}
	if err := t.deps.Store.Delete(ctx, bucket, key); err != nil {
		return false, storeErr(fmt.Errorf("delete s3://%s/%s: %w", bucket, key, err))
	}
	t.deps.Log.Info("quality.quarantine_lifted", "bucket", bucket, "key", key)
	return true, nil
}

// scan stages one file and streams it into the validator.
func (t *Task) scan(ctx context.Context, pf partFile, base int64, columns []Column, v *Validator) error {
	f, err := stage(ctx, t.deps.Store, pf.info, t.cfg.TempDir)
	if err != nil {
		return storeErr(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := scanFile(ctx, f, pf.info.Size, base, columns, v); err != nil {
		if errors.Is(err, errBadParquet) {
			return &Error{Name: ErrUnreadableData, Err: fmt.Errorf("s3://%s/%s: %w", pf.info.Bucket, pf.info.Key, err)}
		}
		return storeErr(fmt.Errorf("s3://%s/%s: %w", pf.info.Bucket, pf.info.Key, err))
	}
	return nil
}

// location is where the partition's files are: the catalog's partition
// location when a database is configured and has one, else the silver
// layout <silver_prefix><type>/dt=<dt>/.
func (t *Task) location(ctx context.Context, in Input) (bucket, prefix, source string, err error) {
	bucket, prefix, source = in.SilverBucket, in.SilverPrefix+in.RecordType+"/dt="+in.Dt+"/", "layout"
	if in.CatalogDatabase == "" || t.deps.Catalog == nil {
		return
	}
	p, cerr := t.deps.Catalog.GetPartition(ctx, in.CatalogDatabase, in.RecordType, []string{in.Dt})
	switch {
	case fault.Is(cerr, fault.NotFound):
		return
	case cerr != nil:
		return "", "", "", storeErr(fmt.Errorf("catalog partition %s.%s dt=%s: %w", in.CatalogDatabase, in.RecordType, in.Dt, cerr))
	}
	rest, ok := strings.CutPrefix(p.Location, "s3://")
	b, k, _ := strings.Cut(rest, "/")
	if !ok || b == "" {
		return "", "", "", newError(ErrInvalidInput, "catalog partition %s.%s dt=%s has location %q, not s3://bucket/prefix/", in.CatalogDatabase, in.RecordType, in.Dt, p.Location)
	}
	return b, cleanPrefix(k), "catalog", nil
}

// suite loads ge/suites/<type>.json from the silver bucket, else the
// built-in suite of the record type.
func (t *Task) suite(ctx context.Context, in Input) (Suite, string, error) {
	key := SuitePrefix + in.RecordType + ".json"
	rc, _, err := t.deps.Store.Get(ctx, in.SilverBucket, key, nil)
	switch {
	case err == nil:
		defer rc.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(rc); err != nil {
			return Suite{}, "", storeErr(fmt.Errorf("read s3://%s/%s: %w", in.SilverBucket, key, err))
		}
		s, err := ParseSuite(b.Bytes())
		if err != nil {
			return Suite{}, "", newError(ErrInvalidInput, "suite s3://%s/%s: %v", in.SilverBucket, key, err)
		}
		return s, "s3://" + in.SilverBucket + "/" + key, nil
	case !fault.Is(err, fault.NotFound):
		return Suite{}, "", storeErr(fmt.Errorf("read s3://%s/%s: %w", in.SilverBucket, key, err))
	}
	s, ok, err := BuiltinSuite(in.RecordType)
	if err != nil {
		return Suite{}, "", newError(ErrInvalidInput, "%v", err)
	}
	if !ok {
		return Suite{}, "", newError(ErrInvalidInput, "no expectation suite for record type %q (built-in or s3://%s/%s)", in.RecordType, in.SilverBucket, key)
	}
	return s, "built-in tasks/quality/suites/" + in.RecordType + ".json", nil
}
