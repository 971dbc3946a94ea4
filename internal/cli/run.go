package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/serverless-elt/elt/internal/embedded"
	"github.com/serverless-elt/elt/internal/fault"
)

// stackFlags are the flags every command that opens the embedded stack takes.
type stackFlags struct {
	dataDir    string
	verbose    bool
	chunkBytes int64
	settle     time.Duration
	lockWait   time.Duration
}

func (f *stackFlags) register(fs *flag.FlagSet, env Env) {
	def := env.Getenv("ELT_DATA_DIR")
	if def == "" {
		def = ".elt-data"
	}
	fs.StringVar(&f.dataDir, "data-dir", def, "data directory of the embedded stack (env ELT_DATA_DIR)")
	fs.BoolVar(&f.verbose, "v", false, "log every pipeline step to stderr")
	fs.Int64Var(&f.chunkBytes, "chunk-bytes", 0, "bytes per JSONL work item planned by ingest (default 64 MiB)")
	fs.DurationVar(&f.lockWait, "lock-timeout", 5*time.Second, "how long to wait for another elt process to release the data dir")
	fs.DurationVar(&f.settle, "settle", time.Second, "how long a bronze object must be unmodified before it is ingested (0: at once)")
}

func (f *stackFlags) config(env Env) embedded.Config {
	settle := f.settle
	if settle <= 0 {
		settle = -1 // none (0 would mean the default)
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	return embedded.Config{
		DataDir:     f.dataDir,
		ChunkBytes:  f.chunkBytes,
		Settle:      settle,
		LockTimeout: f.lockWait,
		Log:         slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level})),
	}
}

// openStack opens the embedded stack, explaining the usual reason it cannot.
func openStack(ctx context.Context, env Env, sf stackFlags, cmd string) (*embedded.Stack, error) {
	st, err := embedded.Open(ctx, sf.config(env))
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		if fault.Is(err, fault.Transient) {
			fmt.Fprintf(env.Stderr, "%s: is another elt (e.g. 'elt up') using %s? Only one process opens a data dir at a time.\n", cmd, sf.dataDir)
		}
	}
	return st, err
}

// newFlagSet makes a flag set whose errors and help go to stderr.
func newFlagSet(name, usage string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; done is true when the command should return code
// at once (help or a usage error). Flags may follow positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) (rest []string, code int, done bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, ExitOK, true
			}
			return nil, ExitUsage, true
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, false
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), 0, false
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// Summary is what `elt run --until-idle` prints: this run's work and what is
// on disk afterwards.
type Summary struct {
	// This run.
	Objects      int `json:"objects"`         // bronze objects ingested (claimed)
	Skipped      int `json:"objects_skipped"` // duplicates and superseded versions
	Messages     int `json:"messages"`        // work items queued by ingest
	Processed    int `json:"messages_processed"`
	Records      int `json:"records"`    // records read by transform
	Duplicates   int `json:"duplicates"` // repeated event_ids dropped within a chunk
	FilesWritten int `json:"files_written"`
	// On disk now (counted from the files).
	BronzeObjects int              `json:"bronze_objects"`
	SilverRows    int64            `json:"silver_rows"`
	SilverFiles   int              `json:"silver_files"`
	Quarantined   int64            `json:"quarantined"`
	SilverByType  map[string]int64 `json:"silver_rows_by_type"`
	QuarByType    map[string]int64 `json:"quarantined_by_type"`
	QueueDepth    int              `json:"queue_depth"`
	DLQDepth      int              `json:"dlq_depth"`
	DataDir       string           `json:"data_dir"`
}

func summarize(p embedded.Progress, inv embedded.Inventory, dataDir string) Summary {
	return Summary{
		Objects:       p.Ingest.Claimed,
		Skipped:       p.Ingest.Skipped + p.Ingest.Superseded,
		Messages:      p.Ingest.Messages,
		Processed:     p.Messages,
		Records:       p.Polls.Batch.Records,
		Duplicates:    p.Polls.Batch.Duplicates,
		FilesWritten:  p.Polls.Batch.Files,
		BronzeObjects: inv.BronzeObjects,
		SilverRows:    inv.SilverRows,
		SilverFiles:   inv.SilverFiles,
		Quarantined:   inv.Quarantined,
		SilverByType:  inv.SilverByType,
		QuarByType:    inv.QuarantineByType,
		QueueDepth:    inv.Queue.Visible + inv.Queue.InFlight + inv.Queue.Delayed,
		DLQDepth:      inv.DLQ.Visible + inv.DLQ.InFlight + inv.DLQ.Delayed,
		DataDir:       dataDir,
	}
}

func (s Summary) writeText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "this run\n")
	fmt.Fprintf(tw, "  objects ingested\t%d\n", s.Objects)
	fmt.Fprintf(tw, "  objects skipped\t%d\n", s.Skipped)
	fmt.Fprintf(tw, "  messages queued\t%d\n", s.Messages)
	fmt.Fprintf(tw, "  messages processed\t%d\n", s.Processed)
	fmt.Fprintf(tw, "  records read\t%d\n", s.Records)
	if s.Duplicates > 0 {
		fmt.Fprintf(tw, "  duplicate event_ids dropped\t%d\n", s.Duplicates)
	}
	fmt.Fprintf(tw, "  files written\t%d\n", s.FilesWritten)
	fmt.Fprintf(tw, "in %s now\n", s.DataDir)
	fmt.Fprintf(tw, "  bronze objects\t%d\n", s.BronzeObjects)
	fmt.Fprintf(tw, "  silver rows\t%d (%d files)\n", s.SilverRows, s.SilverFiles)
	for _, t := range sortedKeys(s.SilverByType) {
		fmt.Fprintf(tw, "    %s\t%d\n", t, s.SilverByType[t])
	}
	fmt.Fprintf(tw, "  quarantined\t%d\n", s.Quarantined)
	for _, t := range sortedKeys(s.QuarByType) {
		fmt.Fprintf(tw, "    %s\t%d\n", t, s.QuarByType[t])
	}
	fmt.Fprintf(tw, "  queue depth\t%d\n", s.QueueDepth)
	fmt.Fprintf(tw, "  dlq depth\t%d\n", s.DLQDepth)
	tw.Flush()
}

func sortedKeys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

const runUsage = `elt run --until-idle [--data-dir D] [--output text|json] [-v]

Processes everything pending on the embedded stack (new bronze objects, queued
messages, bus events), then prints a summary and exits. Messages that keep
failing end in the dead-letter queue (see 'elt queue').`

func runRun(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("run", runUsage, env)
	var sf stackFlags
	sf.register(fs, env)
	untilIdle := fs.Bool("until-idle", false, "process everything pending, then exit (required)")
	output := fs.String("output", "text", "summary format: text or json")
	rest, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(rest) > 0 || !*untilIdle || (*output != "text" && *output != "json") {
		fs.Usage()
		return ExitUsage
	}
	st, err := openStack(ctx, env, sf, "elt run")
	if err != nil {
		return ExitFailure
	}
	defer st.Close()
	p, runErr := st.RunUntilIdle(ctx)
	inv, err := st.Inventory(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt run: %v\n", err)
		return ExitFailure
	}
	s := summarize(p, inv, sf.dataDir)
	if *output == "json" {
		if err := writeJSON(env.Stdout, s); err != nil {
			return ExitFailure
		}
	} else {
		s.writeText(env.Stdout)
	}
	if runErr != nil {
		fmt.Fprintf(env.Stderr, "elt run: %v\n", runErr)
		return ExitFailure
	}
	if p.Failed > 0 {
		// RunUntilIdle returns nil only once every ingest succeeded, so
		// these were retried successfully.
		fmt.Fprintf(env.Stderr, "elt run: %d ingest attempts failed and were retried\n", p.Failed)
	}
	if s.DLQDepth > 0 {
		fmt.Fprintf(env.Stderr, "elt run: %d messages in the dead-letter queue (inspect with 'elt queue status', retry with 'elt queue redrive')\n", s.DLQDepth)
	}
	return ExitOK
}
