package cli

import (
	"context"
	"fmt"

	"github.com/serverless-elt/elt/internal/queue"
)

const queueUsage = `elt queue status [--data-dir D] [--output text|json]
       elt queue redrive [--max N] [--data-dir D]

status prints the depth of the work queue and its dead-letter queue.
redrive moves up to N messages (all when N <= 0) from the dead-letter queue
back to the work queue with their receive counts reset.`

func runQueue(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.Stderr, "usage: %s\n", queueUsage)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	verb, args := args[0], args[1:]
	fs := newFlagSet("queue "+verb, queueUsage, env)
	var sf stackFlags
	sf.register(fs, env)
	output := fs.String("output", "text", "format: text or json")
	max := fs.Int("max", 0, "redrive: most messages to move (0 = all)")
	switch verb {
	case "status", "redrive":
	default:
		fmt.Fprintf(env.Stderr, "elt queue: unknown verb %q\n", verb)
		fs.Usage()
		return ExitUsage
	}
	rest, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(rest) > 0 || (*output != "text" && *output != "json") {
		fs.Usage()
		return ExitUsage
	}
	st, err := openStack(ctx, env, sf, "elt queue")
	if err != nil {
		return ExitFailure
	}
	defer st.Close()
	q := st.Queue()
	dl, ok := q.(queue.DeadLettered)
	if !ok {
		fmt.Fprintln(env.Stderr, "elt queue: this queue has no dead-letter queue")
		return ExitFailure
	}
	if verb == "redrive" {
		n, err := dl.Redrive(ctx, *max)
		if err != nil {
			fmt.Fprintf(env.Stderr, "elt queue redrive: %v\n", err)
			return ExitFailure
		}
		fmt.Fprintf(env.Stdout, "redrove %d messages\n", n)
		return ExitOK
	}
	d, err := q.Depth(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt queue status: %v\n", err)
		return ExitFailure
	}
	dd, err := dl.DeadLetters().Depth(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt queue status: %v\n", err)
		return ExitFailure
	}
	if *output == "json" {
		if err := writeJSON(env.Stdout, map[string]queue.Depth{"queue": d, "dlq": dd}); err != nil {
			return ExitFailure
		}
		return ExitOK
	}
	fmt.Fprintf(env.Stdout, "queue  visible %d  in flight %d  delayed %d\n", d.Visible, d.InFlight, d.Delayed)
	fmt.Fprintf(env.Stdout, "dlq    visible %d  in flight %d  delayed %d\n", dd.Visible, dd.InFlight, dd.Delayed)
	return ExitOK
}
