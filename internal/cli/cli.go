// Package cli is the `elt` command line: `elt <noun> <verb> [flags]`.
// Commands live here, not in cmd/elt, so their behaviour is tested like any
// other code: Run takes its arguments and streams and returns an exit code.
package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit codes shared by every command.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Env is what a command runs with: its streams and working settings.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads environment variables (os.Getenv in main; a map in tests).
	Getenv func(string) string
}

// command is one top-level noun (or a verb-less command such as "gen").
type command struct {
	summary string
	run     func(ctx context.Context, env Env, args []string) int
}

// commands lists every top-level command. Each lives in its own file.
func commands() map[string]command {
	return map[string]command{
		"version":   {summary: "print the version", run: runVersion},
		"run":       {summary: "process everything pending on the embedded stack, then exit", run: runRun},
		"up":        {summary: "run the embedded stack until interrupted", run: runUp},
		"queue":     {summary: "work queue status and dead-letter redrive", run: runQueue},
		"bronze":    {summary: "upload files into the bronze bucket", run: runBronze},
		"gen":       {summary: "generate realistic events (and bad ones) into a file", run: runGen},
		"transform": {summary: "convert local JSON/JSONL files to silver Parquet", run: runTransform},
		"sfn":       {summary: "run state machines on the local Step Functions engine", run: runSfn},
		"ops":       {summary: "ops workflow: replay a bronze window and poll silver (start, status, history)", run: runOps},
		"ge":        {summary: "quality gate on a silver partition (start, status, history)", run: runGe},
		"glue":      {summary: "compaction job and catalog crawler (job-start, job-status, job-history, crawler-start, crawler-status)", run: runGlue},
	}
}

// Run executes one command line (without the program name) and returns the
// exit code.
func Run(ctx context.Context, env Env, args []string) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr, cmds)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "elt: unknown command %q\n\n", args[0])
		usage(env.Stderr, cmds)
		return ExitUsage
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: elt <command> [<verb>] [flags]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nRun 'elt <command> --help' for a command's flags.\n")
	io.WriteString(w, b.String())
}

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "dev"

func runVersion(_ context.Context, env Env, _ []string) int {
	fmt.Fprintln(env.Stdout, Version)
	return ExitOK
}
