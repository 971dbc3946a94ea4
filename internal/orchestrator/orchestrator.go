// Package orchestrator is the embedded Step Functions service of a data
// directory: the local engine (asl/engine) with its executions on disk, the
// real task handlers (internal/taskset) bound to the stack's object store,
// the local notifier, catalog and bus, and every workflow of
// workflows.All() registered with its deployment placeholders bound for
// embedded use. Serve puts the Step Functions API (asl/engine/sfnlocal) in
// front of it on a loopback port, so `elt ops|ge|glue` drive it with the
// same client code (internal/sfnclient) they use against AWS.
//
// Layout under the data dir (shared by every embedded command, so a second
// shell sees the same executions, notifications and catalog):
//
//	<data-dir>/sfn/                 executions and state machines (engine.FileStore)
//	<data-dir>/sfn/endpoint         URL of the process serving the API now (removed on Close)
//	<data-dir>/notify/outbox.jsonl  every notification (workflow failures, quality gate)
//	<data-dir>/catalog/             the local catalog (localcatalog), database "elt"
//	<data-dir>/bus/events.jsonl     the local event bus
package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/asl/engine/mockconfig"
	"github.com/serverless-elt/elt/asl/engine/sfnlocal"
	"github.com/serverless-elt/elt/internal/bus/localbus"
	"github.com/serverless-elt/elt/internal/catalog/localcatalog"
	"github.com/serverless-elt/elt/internal/embedded"
	"github.com/serverless-elt/elt/internal/notify/localnotify"
	"github.com/serverless-elt/elt/internal/taskset"
	"github.com/serverless-elt/elt/workflows"
)

// Embedded names of the AWS resources the workflows refer to.
const (
	// TopicArn is the notification topic embedded workflows publish to;
	// every publish lands in OutboxPath.
	TopicArn = "arn:aws:sns:local:000000000000:elt-notifications"
	// EventBusName is the bus putEvents integrations name.
	EventBusName = "default"
	// CatalogDatabase is the embedded catalog's database.
	CatalogDatabase = "elt"
)

// SfnDir is where executions and state machines live.
func SfnDir(dataDir string) string { return filepath.Join(dataDir, "sfn") }

// EndpointPath is the file naming the endpoint of the process serving the
// data dir's Step Functions API.
func EndpointPath(dataDir string) string { return filepath.Join(dataDir, "sfn", "endpoint") }

// OutboxPath is the one notification outbox of a data dir.
func OutboxPath(dataDir string) string { return filepath.Join(dataDir, "notify", "outbox.jsonl") }

// CatalogDir is the local catalog of a data dir.
func CatalogDir(dataDir string) string { return filepath.Join(dataDir, "catalog") }

// BusPath is the local event bus log of a data dir.
func BusPath(dataDir string) string { return filepath.Join(dataDir, "bus", "events.jsonl") }

// Config configures an orchestrator. Zero values take the defaults.
type Config struct {
	// Stack gives the data dir and the buckets and prefixes (embedded
	// defaults when zero).
	Stack embedded.Config
	// Clock is the engine's clock (default: the real clock, so Wait states
	// really wait while the hot path works).
	Clock engine.Clock
	// Mocks, when set, answer Task states of executions started with a test
	// case; the real handlers are registered all the same.
	Mocks *mockconfig.Config
	Log   *slog.Logger
}

// Orchestrator is the embedded Step Functions service of one data dir.
type Orchestrator struct {
	cfg      embedded.Config
	eng      *engine.Engine
	deps     taskset.Deps
	bus      *localbus.Bus
	srv      *http.Server
	endpoint string
	// advertised: the endpoint file names this process.
	advertised bool
	log        *slog.Logger
}

// Deps builds the task dependencies of a data dir: its object store, the
// one outbox, the local catalog, the real clock.
func Deps(cfg embedded.Config, log *slog.Logger) (taskset.Deps, error) {
	cfg = cfg.WithDefaults()
	st, err := embedded.OpenStore(cfg)
	if err != nil {
		return taskset.Deps{}, err
	}
	outbox, err := localnotify.New(OutboxPath(cfg.DataDir), localnotify.Options{Now: cfg.Now})
	if err != nil {
		return taskset.Deps{}, fmt.Errorf("open notification outbox: %w", err)
	}
	cat, err := localcatalog.New(CatalogDir(cfg.DataDir))
	if err != nil {
		return taskset.Deps{}, err
	}
	tmp := filepath.Join(cfg.DataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return taskset.Deps{}, fmt.Errorf("create temp dir: %w", err)
	}
	if log == nil {
		log = cfg.Log
	}
	return taskset.Deps{
		Store: st, Notifier: outbox, Catalog: cat, Now: cfg.Now, Log: log, BronzePrefix: cfg.BronzePrefix, ReplayCopyPrefixes: cfg.ReplayCopyPrefixes,
		SilverBucket: cfg.SilverBucket, SilverPrefix: cfg.SilverPrefix, CatalogDatabase: CatalogDatabase, TempDir: tmp,
	}, nil
}

// Open builds the engine over cfg's data dir and registers the workflows.
func Open(ctx context.Context, cfg Config) (*Orchestrator, error) {
	sc := cfg.Stack.WithDefaults()
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	deps, err := Deps(sc, log)
	if err != nil {
		return nil, err
	}
	b, err := localbus.Open(BusPath(sc.DataDir), localbus.Options{Now: sc.Now})
	if err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = engine.RealClock{}
	}
	reg := engine.NewRegistry()
	if err := taskset.Register(reg, deps); err != nil {
		b.Close()
		return nil, err
	}
	e := engine.New(engine.Options{
		Clock:    clock,
		Store:    &engine.FileStore{Dir: SfnDir(sc.DataDir)},
		Tasks:    reg,
		Mocks:    cfg.Mocks,
		Services: engine.Services{Objects: deps.Store, Notifier: deps.Notifier, Bus: b},
		Logger:   log,
	})
	if err := RegisterWorkflows(ctx, e.Store(), Bindings(sc)); err != nil {
		b.Close()
		return nil, err
	}
	return &Orchestrator{cfg: sc, eng: e, deps: deps, bus: b, log: log}, nil
}

// Engine is the engine.
func (o *Orchestrator) Engine() *engine.Engine { return o.eng }

// TaskDeps are the dependencies the task handlers were built from.
func (o *Orchestrator) TaskDeps() taskset.Deps { return o.deps }

// Config is the effective stack configuration.
func (o *Orchestrator) Config() embedded.Config { return o.cfg }

// Serve starts the Step Functions API on 127.0.0.1 (a free port) and
// records its URL in EndpointPath so other processes on the data dir can
// use this engine (what a long-running `elt up` does). It returns the URL.
func (o *Orchestrator) Serve(ctx context.Context) (string, error) { return o.serve(ctx, true) }

// ServePrivate starts the API like Serve without advertising it: for a
// short-lived command whose engine must not be handed work by others.
func (o *Orchestrator) ServePrivate(ctx context.Context) (string, error) { return o.serve(ctx, false) }

func (o *Orchestrator) serve(ctx context.Context, advertise bool) (string, error) {
	if o.srv != nil {
		return o.endpoint, nil
	}
	l, err := sfnlocal.Listen("127.0.0.1:0")
	if err != nil {
		return "", err
	}
	o.srv = &http.Server{Handler: &sfnlocal.Server{Engine: o.eng, Log: o.log}, ReadHeaderTimeout: 10 * time.Second}
	o.endpoint = "http://" + l.Addr().String()
	go func() {
		if err := o.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.log.Warn("orchestrator.serve_failed", "err", err)
		}
	}()
	if !advertise {
		return o.endpoint, nil
	}
	o.advertised = true
	if err := writeEndpoint(EndpointPath(o.cfg.DataDir), o.endpoint); err != nil {
		o.srv.Close()
		o.srv = nil
		return "", err
	}
	return o.endpoint, nil
}

// Endpoint is the URL Serve listens on ("" before Serve).
func (o *Orchestrator) Endpoint() string { return o.endpoint }

func writeEndpoint(path, url string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, []byte(url+"\n"), 0o644); err != nil {
		return fmt.Errorf("write endpoint file: %w", err)
	}
	return os.Rename(tmp, path)
}

// ReadEndpoint returns the URL recorded in the data dir's endpoint file, or
// "" when there is none. Whether it still answers is for the caller to
// check (a killed process leaves its file behind).
func ReadEndpoint(dataDir string) string {
	b, err := os.ReadFile(EndpointPath(dataDir))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Close stops serving (removing the endpoint file if it is still ours),
// aborting nothing: executions still running in this process are left
// RUNNING on disk, as when a machine loses power.
func (o *Orchestrator) Close() error {
	var errs []error
	if o.srv != nil {
		if o.advertised && ReadEndpoint(o.cfg.DataDir) == o.endpoint {
			os.Remove(EndpointPath(o.cfg.DataDir))
		}
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, o.srv.Shutdown(shut))
		cancel()
	}
	errs = append(errs, o.bus.Close())
	return errors.Join(errs...)
}

// Bindings are the values of the deployment placeholders for embedded runs:
// ${X_function_arn} is the task name X (engine registry key), the
// notification topic is TopicArn, state machines are the engine's ARNs of
// the workflows, buckets are the stack's.
func Bindings(cfg embedded.Config) func(placeholder string) (string, bool) {
	cfg = cfg.WithDefaults()
	machines := map[string]string{}
	for _, w := range workflows.All() {
		machines[w.File] = w.Name
	}
	fixed := map[string]string{
		"notification_topic_arn": TopicArn,
		"event_bus_name":         EventBusName,
		"bronze_bucket":          cfg.BronzeBucket,
		"silver_bucket":          cfg.SilverBucket,
		"glue_database_name":     CatalogDatabase,
	}
	return func(p string) (string, bool) {
		if v, ok := fixed[p]; ok {
			return v, true
		}
		if task, ok := strings.CutSuffix(p, "_function_arn"); ok && task != "" {
			return task, true
		}
		if file, ok := strings.CutSuffix(p, "_state_machine_arn"); ok {
			if name, ok := machines[file]; ok {
				return engine.StateMachineArn(name), true
			}
			return engine.StateMachineArn(file), true
		}
		return "", false
	}
}

var placeholderRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// Bind replaces every ${name} in def; an unbound placeholder is an error.
func Bind(def []byte, bind func(string) (string, bool)) ([]byte, error) {
	var missing []string
	out := placeholderRE.ReplaceAllFunc(def, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := bind(name)
		if !ok {
			missing = append(missing, name)
			return m
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("unbound placeholders %v", missing)
	}
	return out, nil
}

// RegisterWorkflows registers every workflows.All() definition (bound with
// bind) under its state machine name. A registered definition that differs
// (the binary was updated) is replaced, so executions started afterwards
// run the current workflow; running ones keep their compiled copy.
func RegisterWorkflows(ctx context.Context, store engine.Store, bind func(string) (string, bool)) error {
	for _, w := range workflows.All() {
		def, err := w.Definition()
		if err != nil {
			return err
		}
		if def, err = Bind(def, bind); err != nil {
			return fmt.Errorf("workflow %s: %w", w.Name, err)
		}
		if _, err := engine.Compile(def); err != nil {
			return fmt.Errorf("workflow %s: %w", w.Name, err)
		}
		arn := engine.StateMachineArn(w.Name)
		rec := engine.StateMachineRecord{StateMachineArn: arn, Name: w.Name, Definition: string(def), Type: "STANDARD", CreationDate: time.Now().UTC()}
		err = store.PutStateMachine(ctx, rec)
		if !errors.Is(err, engine.ErrStateMachineAlreadyExists) {
			if err != nil {
				return fmt.Errorf("register %s: %w", w.Name, err)
			}
			continue
		}
		cur, err := store.GetStateMachine(ctx, arn)
		if err != nil {
			return fmt.Errorf("register %s: %w", w.Name, err)
		}
		if cur.Definition == string(def) {
			continue
		}
		if err := replaceStateMachine(ctx, store, rec); err != nil {
			return fmt.Errorf("update %s: %w", w.Name, err)
		}
	}
	return nil
}

// replaceStateMachine swaps a registered definition. The engine's stores
// have no UpdateStateMachine; the file store keeps one file per machine
// (DIR/statemachines/NAME.json, see engine.FileStore), which is removed
// and written again.
func replaceStateMachine(ctx context.Context, store engine.Store, rec engine.StateMachineRecord) error {
	fs, ok := store.(*engine.FileStore)
	if !ok {
		return fmt.Errorf("store %T cannot replace a state machine", store)
	}
	if err := os.Remove(filepath.Join(fs.Dir, "statemachines", rec.Name+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	err := store.PutStateMachine(ctx, rec)
	if errors.Is(err, engine.ErrStateMachineAlreadyExists) {
		return nil // another process registered it meanwhile
	}
	return err
}
