package cli

import (
	"context"
	"fmt"

	"github.com/serverless-elt/elt/internal/embedded"
)

const upUsage = `elt up [--data-dir D] [-v]

Runs the embedded stack until interrupted (Ctrl-C): scans the bronze prefix
for new objects (uploaded with 'elt bronze add' or dropped into
<data-dir>/store/bronze/bronze/ by hand), ingests them, and transforms queued
work into silver Parquet.`

func runUp(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("up", upUsage, env)
	var sf stackFlags
	sf.register(fs, env)
	rest, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(rest) > 0 {
		fs.Usage()
		return ExitUsage
	}
	st, err := openStack(ctx, env, sf, "elt up")
	if err != nil {
		return ExitFailure
	}
	defer st.Close()
	c := st.Config()
	fmt.Fprintf(env.Stderr, "elt up: watching s3://%s/%s in %s (Ctrl-C to stop)\n", c.BronzeBucket, c.BronzePrefix, c.DataDir)
	last := embedded.Progress{}
	err = st.Run(ctx, func(p embedded.Progress) {
		if p.Ingest.Claimed != last.Ingest.Claimed || p.Messages != last.Messages {
			fmt.Fprintf(env.Stderr, "elt up: %d objects ingested, %d messages processed, %d records read\n",
				p.Ingest.Claimed, p.Messages, p.Polls.Batch.Records)
			last = p
		}
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt up: %v\n", err)
		return ExitFailure
	}
	fmt.Fprintln(env.Stderr, "elt up: stopped")
	return ExitOK
}
