package asl

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics; whatever it accepts encodes, parses again
// and encodes to the same bytes (Encode is a fixed point after one round).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "aws-examples", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"b":1e400,"a":[null]},"InputPath":null,"End":true}}}`))
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.x","NumericEquals":-0.0}}]}}}`))
	f.Add([]byte(`{"States":{"\u0000":{}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sm, err := Parse(data)
		if err != nil {
			return
		}
		out, err := Encode(sm)
		if err != nil {
			return // e.g. a Value holding an invalid number cannot come from Parse, but stay safe
		}
		sm2, err := Parse(out)
		if err != nil {
			t.Fatalf("encoded output does not parse: %v\n%s", err, out)
		}
		out2, err := Encode(sm2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("not a fixed point:\n%s\n%s", out, out2)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON:\n%s", out)
		}
	})
}

// FuzzValue: Value keeps any JSON document's meaning and member order.
func FuzzValue(f *testing.F) {
	for _, s := range []string{`{"z":1,"a":[true,null,"x",{"k":1.50}]}`, `"\u00e9\ud83d\ude00"`, `[]`, `-0`, `1e999`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Value
		if err := json.Unmarshal(data, &v); err != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var a, b any
		da := json.NewDecoder(bytes.NewReader(data))
		da.UseNumber()
		db := json.NewDecoder(bytes.NewReader(out))
		db.UseNumber()
		if da.Decode(&a) != nil || db.Decode(&b) != nil {
			t.Fatalf("re-decode failed: %s", out)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("meaning changed:\n%s\n%s", data, out)
		}
	})
}
