// Package taskset binds every workflow task name (the Lambda function name
// behind the placeholder ${<task>_function_arn}) to its real handler, built
// from embedded/AWS-neutral dependencies. It is the one table the embedded
// orchestrator, `elt sfn run` and `elt glue crawler-start` register from, so
// a task added to a workflow is added here once.
package taskset

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/notify"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/tasks/compact"
	"github.com/serverless-elt/elt/tasks/crawl"
	"github.com/serverless-elt/elt/tasks/quality"
	"github.com/serverless-elt/elt/tasks/replay"
	"github.com/serverless-elt/elt/tasks/silverpoll"
	"github.com/serverless-elt/elt/tasks/validateinput"
)

// Deps are what task handlers are built from: interfaces only, so the same
// table serves the embedded stack and (through internal/lambdaentry's own
// wiring) AWS.
type Deps struct {
	Store    objstore.Store
	Notifier notify.Notifier
	Catalog  catalog.Catalog
	Now      func() time.Time
	Log      *slog.Logger

	// Defaults the tasks use when their input leaves them out.
	BronzePrefix    string // default "bronze/" (replay copies stay under it)
	SilverBucket    string // default "silver"
	SilverPrefix    string // default "silver/"
	CatalogDatabase string // default "elt"
	// TempDir is scratch space for tasks that build files (compaction).
	TempDir string
	// ReplayCopyPrefixes are where a replayed source's content identity
	// (elt-content-etag) is believed (nil: replay's default,
	// <BronzePrefix>replay/); the embedded stack passes ingest's list.
	ReplayCopyPrefixes []string
}

func (d Deps) withDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.BronzePrefix == "" {
		d.BronzePrefix = "bronze/"
	}
	if d.SilverBucket == "" {
		d.SilverBucket = "silver"
	}
	if d.SilverPrefix == "" {
		d.SilverPrefix = "silver/"
	}
	if d.CatalogDatabase == "" {
		d.CatalogDatabase = "elt"
	}
	return d
}

// builder makes one task's handler.
type builder func(d Deps) (engine.Handler, error)

// table is every task: name -> constructor. One line per task.
var table = map[string]builder{
	"validate_input": func(d Deps) (engine.Handler, error) {
		t, err := validateinput.New(validateinput.Deps{Log: d.Log}, validateinput.Config{})
		return handle(t, err, (*validateinput.Task).Handle)
	},
	"replay": func(d Deps) (engine.Handler, error) {
		t, err := replay.New(replay.Deps{Store: d.Store, Log: d.Log}, replay.Config{BronzePrefix: d.BronzePrefix, TrustedPrefixes: d.ReplayCopyPrefixes})
		return handle(t, err, (*replay.Task).Handle)
	},
	"silverpoll": func(d Deps) (engine.Handler, error) {
		t, err := silverpoll.New(silverpoll.Deps{Store: d.Store, Log: d.Log}, silverpoll.Config{})
		return handle(t, err, (*silverpoll.Task).Handle)
	},
	"compact": func(d Deps) (engine.Handler, error) {
		t, err := compact.New(compactDeps(d), compactConfig(d))
		return handle(t, err, (*compact.Task).Handle)
	},
	"compact_cleanup": func(d Deps) (engine.Handler, error) {
		t, err := compact.NewCleanup(compactDeps(d), compactConfig(d))
		return handle(t, err, (*compact.Cleanup).Handle)
	},
	"list_partitions": func(d Deps) (engine.Handler, error) {
		t, err := compact.NewLister(compactDeps(d), compactConfig(d))
		return handle(t, err, (*compact.Lister).Handle)
	},
	"quality": func(d Deps) (engine.Handler, error) {
		// The catalog's partition location wins when there is one (a
		// compacted partition is judged on its compacted files).
		t, err := quality.New(quality.Deps{Store: d.Store, Catalog: d.Catalog, Now: d.Now, Log: d.Log}, quality.Config{CatalogDatabase: d.CatalogDatabase, TempDir: d.TempDir})
		return handle(t, err, (*quality.Task).Handle)
	},
	"crawl": func(d Deps) (engine.Handler, error) {
		t, err := crawl.New(crawl.Deps{Store: d.Store, Catalog: d.Catalog, Logger: d.Log}, crawl.Config{Database: d.CatalogDatabase})
		return handle(t, err, (*crawl.Task).Handle)
	},
}

func compactDeps(d Deps) compact.Deps {
	return compact.Deps{Store: d.Store, Catalog: d.Catalog, Now: d.Now, Logger: d.Log}
}

func compactConfig(d Deps) compact.Config {
	return compact.Config{Database: d.CatalogDatabase, TempDir: d.TempDir}
}

// handle adapts a task's Handle method once its constructor returned.
func handle[T, In, Out any](t *T, err error, h func(*T, context.Context, In) (Out, error)) (engine.Handler, error) {
	if err != nil {
		return nil, err
	}
	return engine.Typed(func(ctx context.Context, in In) (Out, error) { return h(t, ctx, in) }), nil
}

// Names lists the registered task names, sorted.
func Names() []string {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ErrUnknownTask is returned by Handler for a name not in the table.
var ErrUnknownTask = errors.New("unknown task")

// Handler builds one task's handler (e.g. the crawler, which no state
// machine runs).
func Handler(name string, deps Deps) (engine.Handler, error) {
	b, ok := table[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownTask, name, Names())
	}
	h, err := b(deps.withDefaults())
	if err != nil {
		return nil, fmt.Errorf("build task %s: %w", name, err)
	}
	return h, nil
}

// Register registers every task's handler on reg under its task name.
func Register(reg *engine.Registry, deps Deps) error {
	for _, name := range Names() {
		h, err := Handler(name, deps)
		if err != nil {
			return err
		}
		reg.Register(name, h)
	}
	return nil
}

// Invoke runs one task with a plain Go input (any JSON-marshalable value)
// and decodes its output into out (nil to ignore it).
func Invoke(ctx context.Context, name string, deps Deps, input any, out any) error {
	h, err := Handler(name, deps)
	if err != nil {
		return err
	}
	res, err := h(ctx, input)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return remarshal(res, out)
}

// remarshal copies a decoded JSON value into out.
func remarshal(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode task output: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(out); err != nil {
		return fmt.Errorf("decode task output into %T: %w", out, err)
	}
	return nil
}
