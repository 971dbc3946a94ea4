package payload

import (
	"testing"

	"github.com/serverless-elt/elt/asl/intrinsic"
)

// BenchmarkTemplateEval measures one compiled ItemSelector-like template evaluation, the
// per-item cost a Map state pays.
func BenchmarkTemplateEval(b *testing.B) {
	tmpl, err := Compile(decode(b, `{"index.$": "$$.Map.Item.Index", "item.$": "$$.Map.Item.Value", "bucket.$": "$.bucket",
	  "key.$": "States.Format('{}/{}', $.prefix, $$.Map.Item.Value.id)", "static": {"a": [1, 2]}}`))
	if err != nil {
		b.Fatal(err)
	}
	input := decode(b, `{"bucket": "b", "prefix": "silver/t"}`)
	ctx := decode(b, `{"Map": {"Item": {"Index": 7, "Value": {"id": "x"}}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Eval(input, ctx, intrinsic.Env{}); err != nil {
			b.Fatal(err)
		}
	}
}
