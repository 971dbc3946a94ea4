package workflows

import (
	"path/filepath"
	"testing"
)

// The committed compaction input schema accepts the two selection forms
// and refuses a mix of them, bad dates and oversize targets.
func TestCompactionInputSchema(t *testing.T) {
	s := compileFile(t, filepath.Join("..", "schema", "compaction_input.schema.json"))
	const b = `"silver_bucket":"silver"`
	tests := []schemaCase{
		{"one type and a range", `{` + b + `,"record_type":"shipments","dt_from":"2024-05-01","dt_to":"2024-05-31"}`, true},
		{"types, range, options", `{` + b + `,"silver_prefix":"silver/","output_prefix":"silver_compacted/","record_types":["shipments","invoice_lines"],"dt_from":"2024-05-01","dt_to":"2024-05-01","target_file_bytes":1048576,"cleanup":true}`, true},
		{"explicit partitions", `{` + b + `,"partitions":[{"record_type":"shipments","dt":"2024-05-01"}]}`, true},
		{"both forms", `{` + b + `,"record_type":"shipments","dt_from":"2024-05-01","dt_to":"2024-05-01","partitions":[{"record_type":"shipments","dt":"2024-05-01"}]}`, false},
		{"partitions and a dt", `{` + b + `,"dt_from":"2024-05-01","partitions":[{"record_type":"shipments","dt":"2024-05-01"}]}`, false},
		{"range without type", `{` + b + `,"dt_from":"2024-05-01","dt_to":"2024-05-31"}`, false},
		{"type without range end", `{` + b + `,"record_type":"shipments","dt_from":"2024-05-01"}`, false},
		{"neither form", `{` + b + `}`, false},
		{"bad date", `{` + b + `,"record_type":"shipments","dt_from":"2024-5-1","dt_to":"2024-05-31"}`, false},
		{"target above 5 GiB", `{` + b + `,"record_type":"shipments","dt_from":"2024-05-01","dt_to":"2024-05-31","target_file_bytes":5368709121}`, false},
		{"unknown field", `{` + b + `,"record_type":"shipments","dt_from":"2024-05-01","dt_to":"2024-05-31","extra":1}`, false},
		{"no bucket", `{"record_type":"shipments","dt_from":"2024-05-01","dt_to":"2024-05-31"}`, false},
	}
	runSchemaCases(t, s, tests)
}
