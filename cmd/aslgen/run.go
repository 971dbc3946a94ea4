package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/serverless-elt/elt/asl/validate"
	"github.com/serverless-elt/elt/workflows"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // generation failed, stale files, invalid definitions
	exitUsage   = 2
)

const usage = `usage:
  aslgen [-root DIR]          write every generated file (table: workflows.Generated)
  aslgen -check [-root DIR]   write nothing; exit 1 listing stale or missing files
  aslgen validate FILE...     validate ASL definitions on disk: exit 0 valid,
                              1 invalid (one line per problem: FILE: /pointer: message), 2 usage
`

// Run is aslgen's whole behaviour, with injectable arguments and output.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "validate" {
		return runValidate(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("aslgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	check := fs.Bool("check", false, "write nothing; exit 1 if a generated file is stale")
	root := fs.String("root", ".", "repository root")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "aslgen: unexpected argument %q\n%s", fs.Arg(0), usage)
		return exitUsage
	}
	return generate(*root, *check, stdout, stderr)
}

func generate(root string, check bool, stdout, stderr io.Writer) int {
	var stale []string
	failed := false
	for _, f := range workflows.Generated() {
		want, err := f.Generate()
		if err != nil {
			fmt.Fprintf(stderr, "aslgen: %s: %v\n", f.Path, err)
			failed = true
			continue
		}
		path := filepath.Join(root, filepath.FromSlash(f.Path))
		have, err := os.ReadFile(path)
		if err == nil && bytes.Equal(have, want) {
			continue
		}
		if check {
			stale = append(stale, f.Path)
			continue
		}
		if err := writeAtomic(path, want); err != nil {
			fmt.Fprintf(stderr, "aslgen: %v\n", err)
			failed = true
			continue
		}
		fmt.Fprintf(stdout, "wrote %s\n", f.Path)
	}
	if failed {
		return exitFailure
	}
	if len(stale) > 0 {
		for _, p := range stale {
			fmt.Fprintf(stderr, "stale: %s\n", p)
		}
		fmt.Fprintf(stderr, "aslgen: %d generated file(s) out of date; run `go run ./cmd/aslgen`\n", len(stale))
		return exitFailure
	}
	return exitOK
}

// writeAtomic writes through a temporary file and a rename, so a reader
// never sees half a file.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func runValidate(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprint(stderr, "aslgen validate: no files\n"+usage)
		return exitUsage
	}
	code := exitOK
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(stdout, "%s: : %v\n", file, err)
			code = exitFailure
			continue
		}
		for _, p := range validate.Definition(data) {
			fmt.Fprintf(stdout, "%s: %s: %s (%s)\n", file, p.Pointer, p.Message, p.Rule)
			code = exitFailure
		}
	}
	return code
}
