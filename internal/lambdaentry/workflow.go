package lambdaentry

import (
	"context"
	"strings"

	"github.com/serverless-elt/elt/internal/catalog/gluecatalog"
	"github.com/serverless-elt/elt/internal/objstore"
	"github.com/serverless-elt/elt/internal/objstore/s3store"
	"github.com/serverless-elt/elt/internal/work"
	"github.com/serverless-elt/elt/tasks/compact"
	"github.com/serverless-elt/elt/tasks/crawl"
	"github.com/serverless-elt/elt/tasks/quality"
	"github.com/serverless-elt/elt/tasks/replay"
	"github.com/serverless-elt/elt/tasks/silverpoll"
	"github.com/serverless-elt/elt/tasks/validateinput"
)

// EnvReplayCopyPrefixes lists (comma-separated) prefixes that hold replay
// copies, which replay never copies again and the only keys whose
// elt-content-etag metadata ingest and replay believe. Unset: <bronze
// prefix>replay/ (work.DefaultCopyPrefixes), where the Terraform IAM lets
// replay write.
const EnvReplayCopyPrefixes = "ELT_REPLAY_COPY_PREFIXES"

// copyPrefixes reads ELT_REPLAY_COPY_PREFIXES; every prefix must lie under
// bronzePrefix (copies re-enter ingest there).
func copyPrefixes(env Env, bronzePrefix string) ([]string, error) {
	var copies []string
	for _, p := range strings.Split(env(EnvReplayCopyPrefixes), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.HasPrefix(p, bronzePrefix) {
			return nil, &ConfigError{Var: EnvReplayCopyPrefixes, Reason: "prefix " + p + " is not under " + EnvBronzePrefix + "=" + bronzePrefix}
		}
		copies = append(copies, strings.TrimSuffix(p, "/")+"/")
	}
	if len(copies) == 0 {
		copies = work.DefaultCopyPrefixes(bronzePrefix)
	}
	return copies, nil
}

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
// ELT_REPLAY_COPY_PREFIXES are prefixes of earlier copies (default
// <bronze prefix>replay/), never copied again and the only sources whose
// content identity a copy inherits.
func Replay(ctx context.Context, rt *Runtime) (Handler, error) {
	bronzePrefix, err := prefix(rt.Env, EnvBronzePrefix, DefaultBronzePrefix)
	if err != nil {
		return nil, err
	}
	copies, err := copyPrefixes(rt.Env, bronzePrefix)
	if err != nil {
		return nil, err
	}
	t, err := replay.New(replay.Deps{Store: s3Store(rt), Log: rt.Log}, replay.Config{BronzePrefix: bronzePrefix, CopyPrefixes: copies, TrustedPrefixes: copies})
	if err != nil {
		return nil, err
	}
	return task("replay", rt.Log, t.Handle), nil
}

func s3Store(rt *Runtime) objstore.Store {
	return s3store.New(s3store.NewClient(rt.AWS), s3store.Options{Now: rt.Now})
}

// SilverPoll serves silverpoll (tasks/silverpoll): are the replayed
// objects' silver files all there? It reads ops/replay/, _receipts/ and
// silver/ in the silver bucket named by its input; no variables.
func SilverPoll(ctx context.Context, rt *Runtime) (Handler, error) {
	t, err := silverpoll.New(silverpoll.Deps{Store: s3Store(rt), Log: rt.Log}, silverpoll.Config{})
	if err != nil {
		return nil, err
	}
	return task("silverpoll", rt.Log, t.Handle), nil
}

// compactConfig is the configuration the compaction tasks share: the Glue
// database (ELT_GLUE_DATABASE, required) and scratch space (ELT_TEMP_DIR,
// default /tmp).
func compactConfig(rt *Runtime) (compact.Deps, compact.Config, error) {
	db, err := Required(rt.Env, EnvGlueDatabase)
	if err != nil {
		return compact.Deps{}, compact.Config{}, err
	}
	dir, err := tempDir(rt.Env)
	if err != nil {
		return compact.Deps{}, compact.Config{}, err
	}
	deps := compact.Deps{Store: s3Store(rt), Catalog: gluecatalog.New(gluecatalog.NewClient(rt.AWS)), Now: rt.Now, Logger: rt.Log}
	return deps, compact.Config{Database: db, TempDir: dir}, nil
}

// Compact serves compact (tasks/compact): rewrite one silver partition into
// silver_compacted/<type>/dt=<dt>/<run id>/ and point its Glue partition
// there.
func Compact(ctx context.Context, rt *Runtime) (Handler, error) {
	deps, cfg, err := compactConfig(rt)
	if err != nil {
		return nil, err
	}
	t, err := compact.New(deps, cfg)
	if err != nil {
		return nil, err
	}
	return task("compact", rt.Log, t.Handle), nil
}

// CompactCleanup serves compact_cleanup: delete the files a compaction
// manifest superseded, once the catalog no longer points at them.
func CompactCleanup(ctx context.Context, rt *Runtime) (Handler, error) {
	deps, cfg, err := compactConfig(rt)
	if err != nil {
		return nil, err
	}
	t, err := compact.NewCleanup(deps, cfg)
	if err != nil {
		return nil, err
	}
	return task("compact_cleanup", rt.Log, t.Handle), nil
}

// ListPartitions serves list_partitions: the partitions a backfill covers.
func ListPartitions(ctx context.Context, rt *Runtime) (Handler, error) {
	deps, cfg, err := compactConfig(rt)
	if err != nil {
		return nil, err
	}
	t, err := compact.NewLister(deps, cfg)
	if err != nil {
		return nil, err
	}
	return task("list_partitions", rt.Log, t.Handle), nil
}

// Crawl serves crawl (tasks/crawl): create or update the Glue tables and
// partitions from what is in silver (the embedded stack's crawler, and on
// AWS a cheaper alternative to the Glue crawler). It needs
// ELT_GLUE_DATABASE.
func Crawl(ctx context.Context, rt *Runtime) (Handler, error) {
	db, err := Required(rt.Env, EnvGlueDatabase)
	if err != nil {
		return nil, err
	}
	t, err := crawl.New(crawl.Deps{Store: s3Store(rt), Catalog: gluecatalog.New(gluecatalog.NewClient(rt.AWS)), Logger: rt.Log}, crawl.Config{Database: db})
	if err != nil {
		return nil, err
	}
	return task("crawl", rt.Log, t.Handle), nil
}

// Quality serves quality (tasks/quality): evaluate the record type's
// expectation suite over one silver partition and write the GE-style result
// and report under ge/. Failed expectations are Output.Success false, not
// an error. With ELT_GLUE_DATABASE set, the partition's location comes from
// the Glue catalog (so a compacted partition is read where it now lives).
func Quality(ctx context.Context, rt *Runtime) (Handler, error) {
	dir, err := tempDir(rt.Env)
	if err != nil {
		return nil, err
	}
	deps := quality.Deps{Store: s3Store(rt), Now: rt.Now, Log: rt.Log}
	db := strings.TrimSpace(rt.Env(EnvGlueDatabase))
	if db != "" {
		deps.Catalog = gluecatalog.New(gluecatalog.NewClient(rt.AWS))
	}
	t, err := quality.New(deps, quality.Config{CatalogDatabase: db, TempDir: dir})
	if err != nil {
		return nil, err
	}
	return task("quality", rt.Log, t.Handle), nil
}
