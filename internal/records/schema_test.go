package records

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	jsv "github.com/santhosh-tekuri/jsonschema/v5"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The generated schemas are golden files; refresh with -update.
func TestSchemasGolden(t *testing.T) {
	for name, got := range Schemas() {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from golden; run go test ./internal/records -update\n%s", name, got)
		}
	}
}

// The parser and the schema agree: records the parser accepts validate, and
// records it rejects for a schema-expressible reason do not.
func TestSchemasAgreeWithParser(t *testing.T) {
	reg := Default()
	schemas := Schemas()
	compiled := map[string]*jsv.Schema{}
	for _, n := range reg.Names() {
		c := jsv.NewCompiler()
		fn := SchemaFileName(n)
		if err := c.AddResource(fn, bytes.NewReader(schemas[fn])); err != nil {
			t.Fatal(err)
		}
		c.AssertFormat = true
		s, err := c.Compile(fn)
		if err != nil {
			t.Fatalf("compile %s: %v", fn, err)
		}
		compiled[n] = s
	}
	for _, tc := range parseCases {
		if tc.typ == "" || tc.reason == MalformedJSON || tc.reason == NotObject || tc.reason == UnknownRecordType {
			continue
		}
		if tc.reason == DuplicateField || tc.schemaSkip {
			continue // not expressible in JSON Schema / format checks differ
		}
		var v any
		if err := json.Unmarshal([]byte(tc.in), &v); err != nil {
			t.Fatal(err)
		}
		err := compiled[tc.typ].Validate(v)
		if tc.reason == "" && err != nil {
			t.Errorf("%s: parser accepts, schema rejects: %v", tc.name, err)
		}
		if tc.reason != "" && err == nil {
			t.Errorf("%s: parser rejects (%s), schema accepts", tc.name, tc.reason)
		}
	}
}
