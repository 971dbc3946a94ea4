package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/serverless-elt/elt/asl/intrinsic"
)

// FuzzTemplate checks that Check, Compile and Eval never panic on any JSON template, that
// Compile accepts exactly the templates Check finds no problem in, and that evaluation errors
// are *intrinsic.Error.
func FuzzTemplate(f *testing.F) {
	f.Add(`{"a.$": "$.x", "b": [{"c.$": "States.Format('{}', $$.id)"}]}`)
	f.Add(`{"a.$": 1, "a": 2}`)
	f.Add(`{"x.$": "States.ArrayGetItem($.arr, 3)"}`)
	input := map[string]any{"x": "v", "arr": []any{json.Number("1")}}
	ctx := map[string]any{"id": "run"}
	f.Fuzz(func(t *testing.T, src string) {
		d := json.NewDecoder(bytes.NewReader([]byte(src)))
		d.UseNumber()
		var tmpl any
		if d.Decode(&tmpl) != nil {
			return
		}
		problems := Check(tmpl)
		c, err := Compile(tmpl)
		if (err == nil) != (len(problems) == 0) {
			t.Fatalf("Compile error %v but Check found %v", err, problems)
		}
		if err != nil {
			return
		}
		if _, err := c.Eval(input, ctx, intrinsic.Env{UUID: func() (string, error) { return "u", nil }}); err != nil {
			var e *intrinsic.Error
			if !errors.As(err, &e) {
				t.Fatalf("Eval error %T %v, want *intrinsic.Error", err, err)
			}
		}
	})
}
