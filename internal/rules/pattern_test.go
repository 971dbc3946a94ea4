package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/serverless-elt/elt/internal/bus"
)

func doc(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Cases after the EventBridge user guide, "Content filtering in Amazon
// EventBridge event patterns" and "Event patterns" (matching values, arrays
// in events, null and empty values).
func TestPatternMatch(t *testing.T) {
	event := `{"source":"elt.pipeline","detail-type":"PartitionReady","time":"2017-10-02T18:43:48Z",
	  "resources":["s3://silver/silver/shipments/dt=2024-05-01/"],
	  "detail":{"record_type":"shipments","dt":"2024-05-01","rows":120,"c-count":5,"d-count":3,
	    "x-limit":301.8,"state":"running","FileName":"a.PNG","empty":"","nul":null,
	    "files":["silver/shipments/dt=2024-05-01/part-a.parquet","silver/shipments/dt=2024-05-01/part-b.parquet"],
	    "nested":{"a":{"b":"c"}}}}`
	cases := []struct {
		name, pattern string
		want          bool
	}{
		{"exact", `{"source":["elt.pipeline"]}`, true},
		{"exact OR", `{"detail-type":["Other","PartitionReady"]}`, true},
		{"exact miss", `{"source":["aws.s3"]}`, false},
		{"AND across keys", `{"source":["elt.pipeline"],"detail":{"record_type":["invoice_lines"]}}`, false},
		{"nested", `{"detail":{"nested":{"a":{"b":["c"]}}}}`, true},
		{"nested object vs scalar", `{"detail":{"state":{"x":["y"]}}}`, false},
		{"array in event: any element", `{"resources":["s3://silver/silver/shipments/dt=2024-05-01/"]}`, true},
		{"prefix on time (guide example)", `{"time":[{"prefix":"2017-10-02"}]}`, true},
		{"prefix miss", `{"time":[{"prefix":"2017-10-03"}]}`, false},
		{"prefix on array elements", `{"detail":{"files":[{"prefix":"silver/shipments/"}]}}`, true},
		{"prefix ignore case", `{"source":[{"prefix":{"equals-ignore-case":"ELT."}}]}`, true},
		{"suffix", `{"detail":{"FileName":[{"suffix":".PNG"}]}}`, true},
		{"suffix is case sensitive", `{"detail":{"FileName":[{"suffix":".png"}]}}`, false},
		{"suffix ignore case", `{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}`, true},
		{"equals-ignore-case", `{"detail":{"state":[{"equals-ignore-case":"RUNNING"}]}}`, true},
		{"anything-but string", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, true},
		{"anything-but same string", `{"detail":{"state":[{"anything-but":"running"}]}}`, false},
		{"anything-but number", `{"detail":{"x-limit":[{"anything-but":123}]}}`, true},
		{"anything-but list", `{"detail":{"state":[{"anything-but":["stopped","running"]}]}}`, false},
		{"anything-but prefix", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, true},
		{"anything-but prefix miss", `{"detail":{"state":[{"anything-but":{"prefix":"run"}}]}}`, false},
		{"anything-but missing field", `{"detail":{"absent":[{"anything-but":"x"}]}}`, false},
		{"numeric range (guide example)", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}`, true},
		{"numeric equals", `{"detail":{"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",301.8]}]}}`, true},
		{"numeric upper bound", `{"detail":{"c-count":[{"numeric":[">",0,"<",5]}]}}`, false},
		{"numeric on string", `{"detail":{"state":[{"numeric":[">",0]}]}}`, false},
		{"number exact", `{"detail":{"rows":[120]}}`, true},
		{"number exact other form", `{"detail":{"rows":[1.2e2]}}`, true},
		{"number vs string", `{"detail":{"rows":["120"]}}`, false},
		{"exists true", `{"detail":{"state":[{"exists":true}]}}`, true},
		{"exists false on missing", `{"detail":{"absent":[{"exists":false}]}}`, true},
		{"exists false on present", `{"detail":{"state":[{"exists":false}]}}`, false},
		{"exists false under missing object", `{"detail":{"missing":{"x":[{"exists":false}]}}}`, true},
		{"exists true on array", `{"detail":{"files":[{"exists":true}]}}`, true},
		{"null matches null", `{"detail":{"nul":[null]}}`, true},
		{"null does not match missing", `{"detail":{"absent":[null]}}`, false},
		{"empty string", `{"detail":{"empty":[""]}}`, true},
		{"mixed OR of filters", `{"detail":{"state":[{"prefix":"x"},"running"]}}`, true},
	}
	ev := doc(t, event)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := CompilePattern([]byte(c.pattern))
			if err != nil {
				t.Fatalf("compile %s: %v", c.pattern, err)
			}
			if got := p.Match(ev); got != c.want {
				t.Fatalf("%s matched %v, want %v", c.pattern, got, c.want)
			}
		})
	}
}

func TestPatternErrors(t *testing.T) {
	for _, c := range []struct{ pattern, want string }{
		{`[]`, "non-empty JSON object"},
		{`{}`, "non-empty JSON object"},
		{`{"source":"elt.pipeline"}`, "must be an object or an array"},
		{`{"source":[]}`, "empty array"},
		{`{"detail":{}}`, "empty object"},
		{`{"source":[{"wildcard":"x*"}]}`, "unknown operator"},
		{`{"source":[{"prefix":1}]}`, "prefix takes"},
		{`{"source":[{"prefix":"a","suffix":"b"}]}`, "exactly one operator"},
		{`{"n":[{"numeric":[">",0,">",1]}]}`, "two lower bounds"},
		{`{"n":[{"numeric":["!=",0]}]}`, "unknown operator"},
		{`{"n":[{"numeric":[">","0"]}]}`, "not a number"},
		{`{"n":[{"numeric":[">"]}]}`, "pairs"},
		{`{"n":[{"exists":"yes"}]}`, "exists takes"},
		{`{"n":[{"anything-but":{"numeric":[">",1]}}]}`, "anything-but takes prefix"},
		{`{"n":[{"anything-but":[true]}]}`, "strings or numbers"},
		{`{"n":[[1]]}`, "nested arrays"},
		{`{"n":[1]`, "invalid event pattern"},
	} {
		_, err := CompilePattern([]byte(c.pattern))
		if err == nil || !errors.Is(err, ErrPattern) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CompilePattern(%s) = %v, want an ErrPattern mentioning %q", c.pattern, err, c.want)
		}
	}
}

func TestEnvelopeAndDefaultRule(t *testing.T) {
	detail, _ := json.Marshal(bus.PartitionReady{Bucket: "silver", RecordType: "shipments", Dt: "2024-05-01", Prefix: "silver/shipments/dt=2024-05-01/", Files: []string{"k"}, Rows: 1})
	ev := bus.Event{Source: bus.Source, DetailType: bus.DetailTypePartitionReady, Detail: detail, Time: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
	env, err := Envelope(ev, EventID(ev))
	if err != nil {
		t.Fatal(err)
	}
	if env["time"] != "2024-05-01T00:00:00Z" || env["detail-type"] != "PartitionReady" || env["version"] != "0" {
		t.Fatalf("envelope %v", env)
	}
	if EventID(ev) != EventID(ev) || len(EventID(ev)) != 36 {
		t.Fatal("EventID is not a stable UUID-shaped id")
	}
	def := DefaultConfig(nil)
	p, err := CompilePattern(def.Rules[0].EventPattern)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Match(env) {
		t.Fatal("the default rule does not match a PartitionReady event")
	}
	ev.DetailType = "Other"
	env, _ = Envelope(ev, "x")
	if p.Match(env) {
		t.Fatal("the default rule matches another detail type")
	}
}

func FuzzCompilePattern(f *testing.F) {
	for _, s := range []string{
		`{"source":["elt.pipeline"]}`, `{"detail":{"n":[{"numeric":[">",0,"<=",5]}]}}`,
		`{"a":[{"anything-but":{"prefix":"x"}}]}`, `{"a":[{"exists":false}],"b":{"c":[null,1,"x"]}}`,
	} {
		f.Add(s, `{"source":"elt.pipeline","detail":{"n":3,"a":"xy","b":{"c":[1,2]}}}`)
	}
	f.Fuzz(func(t *testing.T, pattern, event string) {
		p, err := CompilePattern([]byte(pattern))
		if err != nil {
			return
		}
		d := json.NewDecoder(strings.NewReader(event))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return
		}
		p.Match(v) // must not panic
	})
}
