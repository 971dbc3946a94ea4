package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-elt/elt/workflows"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestGenerateThenCheck(t *testing.T) {
	root := t.TempDir()
	code, out, errs := run("-root", root)
	if code != 0 {
		t.Fatalf("generate: code %d\n%s%s", code, out, errs)
	}
	for _, f := range workflows.Generated() {
		data, err := os.ReadFile(filepath.Join(root, f.Path))
		if err != nil {
			t.Fatalf("not written: %v", err)
		}
		want, _ := f.Generate()
		if !bytes.Equal(data, want) {
			t.Fatalf("%s differs from its generator", f.Path)
		}
		if !strings.Contains(out, "wrote "+f.Path) {
			t.Errorf("stdout does not report %s", f.Path)
		}
	}
	if code, out, errs := run("-check", "-root", root); code != 0 {
		t.Fatalf("-check on fresh files: code %d\n%s%s", code, out, errs)
	}
	// A second generate writes nothing.
	if code, out, _ := run("-root", root); code != 0 || out != "" {
		t.Fatalf("regenerate: code %d, stdout %q", code, out)
	}

	stale := filepath.Join(root, "workflows", "ops_replay_quality.asl.json")
	if err := os.WriteFile(stale, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(root, "schema", "ops_input.schema.json")
	if err := os.Remove(missing); err != nil {
		t.Fatal(err)
	}
	code, out, errs = run("-check", "-root", root)
	if code != 1 {
		t.Fatalf("-check on stale files: code %d", code)
	}
	for _, want := range []string{"stale: workflows/ops_replay_quality.asl.json", "stale: schema/ops_input.schema.json", "2 generated file(s) out of date"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if data, _ := os.ReadFile(stale); string(data) != "{}\n" {
		t.Fatal("-check wrote a file")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatal("-check wrote a file")
	}
}

// TestRepositoryFresh is `aslgen -check` on the repository itself.
func TestRepositoryFresh(t *testing.T) {
	if code, _, errs := run("-check", "-root", filepath.Join("..", "..")); code != 0 {
		t.Fatalf("committed generated files are stale:\n%s", errs)
	}
}

func TestValidateExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`)
	bad := write("bad.json", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`)
	syntax := write("syntax.json", `{"StartAt":`)
	examples, _ := filepath.Glob(filepath.Join("..", "..", "asl", "testdata", "aws-examples", "*.json"))
	if len(examples) == 0 {
		t.Fatal("no AWS examples")
	}

	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"valid", []string{"validate", good}, 0, nil},
		{"aws examples and the ops workflow", append(append([]string{"validate"}, examples...), filepath.Join("..", "..", "workflows", "ops_replay_quality.asl.json")), 0, nil},
		{"invalid", []string{"validate", good, bad}, 1, []string{bad + ": /States/A/Next: "}},
		{"syntax", []string{"validate", syntax}, 1, []string{syntax + ": : "}},
		{"missing file", []string{"validate", filepath.Join(dir, "nope.json")}, 1, []string{"nope.json: : "}},
		{"no files", []string{"validate"}, 2, nil},
		{"bad flag", []string{"-nope"}, 2, nil},
		{"extra argument", []string{"extra"}, 2, nil},
		{"help", []string{"-h"}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(tt.args...)
			if code != tt.code {
				t.Fatalf("code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errs)
			}
			if tt.code == 0 && out != "" {
				t.Fatalf("valid files printed problems:\n%s", out)
			}
			for _, want := range tt.contains {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if tt.code == 1 {
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					if strings.Count(line, ": ") < 2 {
						t.Errorf("line not in FILE: /pointer: message form: %q", line)
					}
				}
			}
		})
	}
}
