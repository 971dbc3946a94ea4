package lambdaentry

import (
	"context"
	"strings"

	"github.com/serverless-elt/elt/internal/objstore/s3store"
	"github.com/serverless-elt/elt/tasks/replay"
	"github.com/serverless-elt/elt/tasks/validateinput"
)

// EnvReplayCopyPrefixes lists (comma-separated) prefixes that hold replay
// copies, which replay never copies again.
const EnvReplayCopyPrefixes = "ELT_REPLAY_COPY_PREFIXES"

// The workflow tasks: one factory per task name (= Lambda handler name =
// the ${<task>_function_arn} placeholder of workflows/*.asl.json). Each
// reads and checks its variables at cold start, builds the task from the
// AWS adapters and serves the Payload its lambda:invoke state sends.

// ValidateInput serves validate_input (tasks/validateinput): the workflow
// input against an embedded JSON Schema. It needs no AWS access and no
// variables.
func ValidateInput(ctx context.Context, rt *Runtime) (Handler, error) {
	t, err := validateinput.New(validateinput.Deps{Log: rt.Log}, validateinput.Config{})
	if err != nil {
		return nil, err
	}
	return task("validate_input", rt.Log, t.Handle), nil
}

// Replay serves replay (tasks/replay): copy a bronze window under
// <dest_prefix_base>/<execution>/ (CopyObject within the bronze bucket) and
// write the copy list under ops/replay/ in the silver bucket. As a
// distributed Map batch it gets {"BatchInput", "Items"}; directly, the
// request. ELT_BRONZE_PREFIX (default bronze/) is the prefix ingest watches;
// ELT_REPLAY_COPY_PREFIXES are prefixes of earlier copies.
func Replay(ctx context.Context, rt *Runtime) (Handler, error) {
	bronzePrefix, err := prefix(rt.Env, EnvBronzePrefix, DefaultBronzePrefix)
	if err != nil {
		return nil, err
	}
	var copies []string
	for _, p := range strings.Split(rt.Env(EnvReplayCopyPrefixes), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.HasPrefix(p, bronzePrefix) {
			return nil, &ConfigError{Var: EnvReplayCopyPrefixes, Reason: "prefix " + p + " is not under " + EnvBronzePrefix + "=" + bronzePrefix}
		}
		copies = append(copies, strings.TrimSuffix(p, "/")+"/")
	}
	store := s3store.New(s3store.NewClient(rt.AWS), s3store.Options{Now: rt.Now})
	t, err := replay.New(replay.Deps{Store: store, Log: rt.Log}, replay.Config{BronzePrefix: bronzePrefix, CopyPrefixes: copies})
	if err != nil {
		return nil, err
	}
	return task("replay", rt.Log, t.Handle), nil
}
