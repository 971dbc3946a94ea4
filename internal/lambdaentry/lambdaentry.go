// Package lambdaentry turns the tasks into Lambda functions. One bootstrap
// binary serves every function: the handler name (ELT_HANDLER, else Lambda's
// _HANDLER) picks an entry from the dispatch table, whose factory reads and
// checks its environment variables once, at cold start, and builds the AWS
// adapters. A missing or malformed variable fails the cold start with an
// error naming it, rather than the first invocation.
package lambdaentry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/serverless-elt/elt/internal/awsconf"
)

// Env reads one environment variable (os.Getenv in the bootstrap).
type Env func(string) string

// Handler serves one invocation: the raw event in, a JSON-encodable result out.
type Handler func(ctx context.Context, event json.RawMessage) (any, error)

// Runtime is what factories share at cold start.
type Runtime struct {
	Env Env
	AWS aws.Config
	Log *slog.Logger
	Now func() time.Time
}

// Factory builds a function's handler at cold start.
type Factory func(ctx context.Context, rt *Runtime) (Handler, error)

// Handlers is the dispatch table: one line per Lambda function. The names
// are the handler names Terraform gives the functions (terraform/envs/dev)
// and, for workflow tasks, the task names of internal/taskset.
func Handlers() map[string]Factory {
	return map[string]Factory{
		"ingest":          Ingest,
		"transform":       Transform,
		"validate_input":  ValidateInput,
		"replay":          Replay,
		"silverpoll":      SilverPoll,
		"compact":         Compact,
		"compact_cleanup": CompactCleanup,
		"list_partitions": ListPartitions,
		"crawl":           Crawl,
		"quality":         Quality,
		"quality_trigger": QualityTrigger,
	}
}

// Environment variable names shared by the functions (terraform/envs/dev).
const (
	EnvHandler      = "ELT_HANDLER"
	EnvLambdaHander = "_HANDLER"
	EnvBronzeBucket = "ELT_BRONZE_BUCKET"
	EnvSilverBucket = "ELT_SILVER_BUCKET"
	EnvLogFormat    = "ELT_LOG_FORMAT"
)

// ConfigError is a cold-start configuration problem with one variable.
type ConfigError struct {
	Var    string
	Reason string
}

func (e *ConfigError) Error() string { return e.Var + ": " + e.Reason }

// Required returns a variable that must be set.
func Required(env Env, name string) (string, error) {
	v := strings.TrimSpace(env(name))
	if v == "" {
		return "", &ConfigError{Var: name, Reason: "required but not set"}
	}
	return v, nil
}

// Int64 reads an optional positive integer (def when unset).
func Int64(env Env, name string, def int64) (int64, error) {
	v := strings.TrimSpace(env(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, &ConfigError{Var: name, Reason: fmt.Sprintf("%q is not a positive integer", v)}
	}
	return n, nil
}

// Bool reads an optional boolean (def when unset).
func Bool(env Env, name string, def bool) (bool, error) {
	v := strings.TrimSpace(env(name))
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &ConfigError{Var: name, Reason: fmt.Sprintf("%q is not true or false", v)}
	}
	return b, nil
}

// HandlerName is the function to serve.
func HandlerName(env Env) (string, error) {
	for _, name := range []string{EnvHandler, EnvLambdaHander} {
		if v := strings.TrimSpace(env(name)); v != "" {
			return v, nil
		}
	}
	return "", &ConfigError{Var: EnvHandler, Reason: "required but not set (nor " + EnvLambdaHander + "); names the function to serve: " + strings.Join(Names(), ", ")}
}

// Names lists the dispatch table's handlers, sorted.
func Names() []string {
	var names []string
	for n := range Handlers() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewLogger is the process logger: JSON when ELT_LOG_FORMAT=json (Lambda),
// text otherwise.
func NewLogger(env Env, w io.Writer) (*slog.Logger, error) {
	switch f := strings.ToLower(strings.TrimSpace(env(EnvLogFormat))); f {
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	case "", "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	default:
		return nil, &ConfigError{Var: EnvLogFormat, Reason: fmt.Sprintf("%q is not json or text", f)}
	}
}

// Build reads the configuration and returns the handler to serve. The
// errors name the variable at fault.
func Build(ctx context.Context, env Env, logOut io.Writer) (Handler, string, error) {
	log, err := NewLogger(env, logOut)
	if err != nil {
		return nil, "", err
	}
	name, err := HandlerName(env)
	if err != nil {
		return nil, "", err
	}
	factory, ok := Handlers()[name]
	if !ok {
		return nil, name, &ConfigError{Var: EnvHandler, Reason: fmt.Sprintf("unknown handler %q (have %s)", name, strings.Join(Names(), ", "))}
	}
	cfg, err := awsconf.Load(ctx, awsconf.Options{})
	if err != nil {
		return nil, name, err
	}
	log = log.With("handler", name)
	h, err := factory(ctx, &Runtime{Env: env, AWS: cfg, Log: log, Now: time.Now})
	if err != nil {
		return nil, name, fmt.Errorf("cold start %s: %w", name, err)
	}
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		out, err := h(ctx, event)
		if err != nil {
			return nil, LambdaError(err)
		}
		return out, nil
	}, name, nil
}

// Main is the bootstrap: build at cold start, then serve invocations with
// start (lambda.Start in cmd/bootstrap). A configuration error is logged
// and returned; the bootstrap exits non-zero and Lambda reports an init
// error with the message.
func Main(ctx context.Context, env Env, logOut io.Writer, start func(Handler)) error {
	h, name, err := Build(ctx, env, logOut)
	if err != nil {
		slog.New(slog.NewJSONHandler(logOut, nil)).Error("lambda.init_failed", "handler", name, "err", err.Error())
		return err
	}
	start(h)
	return nil
}

// decode parses an event strictly enough to catch a function wired to the
// wrong source.
func decode[T any](event json.RawMessage, what string) (T, error) {
	var v T
	if err := json.Unmarshal(event, &v); err != nil {
		return v, fmt.Errorf("decode %s event: %w", what, err)
	}
	return v, nil
}
