package validate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestValidExamples runs the definitions under testdata/valid, taken from the
// AWS Step Functions developer guide (each file's Comment names its page);
// they must pass with zero problems.
func TestValidExamples(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found %d valid examples, want at least 10", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range Definition(data) {
				t.Errorf("unexpected problem: %s", p)
			}
		})
	}
}

// invalidCase is one entry of testdata/invalid.yaml.
type invalidCase struct {
	Name       string   `yaml:"name"`
	Spec       string   `yaml:"spec"`       // the AWS page or statelint rule the case comes from
	Definition string   `yaml:"definition"` // raw JSON text, so duplicate keys survive
	Want       []string `yaml:"want"`       // "<pointer> <rule>", pointer "" written as ""
}

func (c invalidCase) wanted() []Problem {
	var out []Problem
	for _, w := range c.Want {
		i := strings.LastIndexByte(w, ' ')
		p := w[:i]
		if p == `""` {
			p = ""
		}
		out = append(out, Problem{Pointer: p, Rule: w[i+1:]})
	}
	return out
}

// related reports whether two pointers designate the same place or one
// contains the other: a schema problem there explains the same mistake.
func related(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// TestInvalidTable runs testdata/invalid.yaml: every expected (pointer, rule)
// must be reported, and nothing else except schema problems about the same
// places.
func TestInvalidTable(t *testing.T) {
	raw, err := os.ReadFile("testdata/invalid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []invalidCase
	if err := yaml.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("invalid.yaml has %d cases, want at least 40", len(cases))
	}
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.Name] {
			t.Fatalf("duplicate case name %q", tc.Name)
		}
		names[tc.Name] = true
		t.Run(tc.Name, func(t *testing.T) {
			if tc.Spec == "" {
				t.Errorf("case has no spec reference")
			}
			want := tc.wanted()
			if len(want) == 0 {
				t.Fatal("case expects no problem")
			}
			got := Definition([]byte(tc.Definition))
			for _, w := range want {
				if !slices.ContainsFunc(got, func(p Problem) bool { return p.Pointer == w.Pointer && p.Rule == w.Rule }) {
					t.Errorf("missing %q %s", w.Pointer, w.Rule)
				}
			}
			for _, p := range got {
				if slices.ContainsFunc(want, func(w Problem) bool { return p.Pointer == w.Pointer && p.Rule == w.Rule }) {
					continue
				}
				if p.Rule == "schema" && slices.ContainsFunc(want, func(w Problem) bool { return related(p.Pointer, w.Pointer) }) {
					continue
				}
				t.Errorf("unrelated problem: %s", p)
			}
			if t.Failed() {
				for _, p := range got {
					t.Logf("got: %s", p)
				}
			}
		})
	}
}
