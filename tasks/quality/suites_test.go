package quality_test

import (
	"testing"

	"github.com/serverless-elt/elt/internal/records"
	"github.com/serverless-elt/elt/tasks/quality"
)

// TestEveryRecordTypeHasASuite: the partition-ready rule gates every
// partition transform writes, and a record type without a built-in suite
// (and no ge/suites/ override) would fail each of those runs with
// Quality.InvalidInput. Adding a record type means adding its suite.
func TestEveryRecordTypeHasASuite(t *testing.T) {
	for _, name := range records.Default().Names() {
		t.Run(name, func(t *testing.T) {
			s, ok, err := quality.BuiltinSuite(name)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				t.Fatalf("no tasks/quality/suites/%s.json: every registered record type needs an expectation suite", name)
			}
			if len(s.Expectations) == 0 {
				t.Fatalf("suite %s has no expectations", name)
			}
		})
	}
}
