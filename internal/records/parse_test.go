package records

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

type parseCase struct {
	name       string
	typ        string // the record's type when known
	in         string
	reason     Reason // "" = valid
	field      string
	dt         string
	schemaSkip bool // the JSON Schema cannot say this (e.g. non-empty strings, date-time leniency)
}

const shipOK = `{"record_type":"shipments","event_id":"e1","shipment_id":"S1","origin":"Lyon","destination":"Oslo","carrier":"DHL","weight_kg":12.5,"event_time":"2024-05-01T23:30:00-02:00"}`

var parseCases = []parseCase{
	{name: "shipment ok", typ: "shipments", in: shipOK, dt: "2024-05-02"},
	{name: "tracking ok without event_id", typ: "tracking_events", in: `{"record_type":"tracking_events","shipment_id":"S1","status":"in_transit","city":"Oslo","event_time":"2024-05-01T10:00:00.123456Z"}`, dt: "2024-05-01"},
	{name: "invoice ok negative quantity", typ: "invoice_lines", in: `{"record_type":"invoice_lines","invoice_id":"I1","sku":"A-1","quantity":-2,"unit_price":3.5,"line_total":-7,"event_time":"2024-05-01T10:00:00+00:00"}`, dt: "2024-05-01"},
	{name: "event_id null", typ: "tracking_events", in: `{"record_type":"tracking_events","event_id":null,"shipment_id":"S1","status":"x","city":"y","event_time":"2024-05-01T10:00:00Z"}`, dt: "2024-05-01"},
	{name: "escaped strings", typ: "tracking_events", in: `{"record_type":"tracking_events","shipment_id":"S\u00e91","status":"a\"b","city":"Z\u00fcrich","event_time":"2024-05-01T10:00:00Z"}`, dt: "2024-05-01"},
	{name: "malformed", in: `{"record_type":"shipments",`, reason: MalformedJSON},
	{name: "trailing garbage", in: `{"a":1} x`, reason: MalformedJSON},
	{name: "array", in: `[1,2]`, reason: NotObject},
	{name: "string", in: `"x"`, reason: NotObject},
	{name: "no record_type", in: `{"event_time":"2024-05-01T10:00:00Z"}`, reason: MissingField, field: "record_type"},
	{name: "record_type number", in: `{"record_type":5}`, reason: WrongType, field: "record_type"},
	{name: "unknown type", in: `{"record_type":"parcels","event_time":"2024-05-01T10:00:00Z"}`, reason: UnknownRecordType, field: "record_type"},
	{name: "quantity string", typ: "invoice_lines", in: `{"record_type":"invoice_lines","invoice_id":"I1","sku":"A","quantity":"3","unit_price":1,"line_total":3,"event_time":"2024-05-01T10:00:00Z"}`, reason: WrongType, field: "quantity", dt: "2024-05-01"},
	{name: "quantity fraction", typ: "invoice_lines", in: `{"record_type":"invoice_lines","invoice_id":"I1","sku":"A","quantity":3.5,"unit_price":1,"line_total":3,"event_time":"2024-05-01T10:00:00Z"}`, reason: WrongType, field: "quantity", dt: "2024-05-01"},
	{name: "quantity exponent", typ: "invoice_lines", in: `{"record_type":"invoice_lines","invoice_id":"I1","sku":"A","quantity":3e0,"unit_price":1,"line_total":3,"event_time":"2024-05-01T10:00:00Z"}`, reason: WrongType, field: "quantity", dt: "2024-05-01", schemaSkip: true},
	{name: "quantity overflow", typ: "invoice_lines", in: `{"record_type":"invoice_lines","invoice_id":"I1","sku":"A","quantity":99999999999999999999,"unit_price":1,"line_total":3,"event_time":"2024-05-01T10:00:00Z"}`, reason: InvalidValue, field: "quantity", dt: "2024-05-01", schemaSkip: true},
	{name: "weight string", typ: "shipments", in: strings.Replace(shipOK, `12.5`, `"12.5"`, 1), reason: WrongType, field: "weight_kg", dt: "2024-05-02"},
	{name: "weight negative", typ: "shipments", in: strings.Replace(shipOK, `12.5`, `-1`, 1), reason: InvalidValue, field: "weight_kg", dt: "2024-05-02"},
	{name: "weight huge", typ: "shipments", in: strings.Replace(shipOK, `12.5`, `1e999`, 1), reason: InvalidValue, field: "weight_kg", dt: "2024-05-02", schemaSkip: true},
	{name: "missing carrier", typ: "shipments", in: strings.Replace(shipOK, `"carrier":"DHL",`, ``, 1), reason: MissingField, field: "carrier", dt: "2024-05-02"},
	{name: "empty carrier", typ: "shipments", in: strings.Replace(shipOK, `"DHL"`, `""`, 1), reason: InvalidValue, field: "carrier", dt: "2024-05-02", schemaSkip: true},
	{name: "null carrier", typ: "shipments", in: strings.Replace(shipOK, `"DHL"`, `null`, 1), reason: WrongType, field: "carrier", dt: "2024-05-02"},
	{name: "unknown field", typ: "shipments", in: strings.Replace(shipOK, `"carrier"`, `"colour":"red","carrier"`, 1), reason: UnknownField, field: "colour", dt: "2024-05-02"},
	{name: "duplicate field", typ: "shipments", in: strings.Replace(shipOK, `"carrier"`, `"origin":"x","carrier"`, 1), reason: DuplicateField, field: "origin", dt: "2024-05-02"},
	{name: "missing event_time", typ: "shipments", in: strings.Replace(shipOK, `,"event_time":"2024-05-01T23:30:00-02:00"`, ``, 1), reason: MissingField, field: "event_time"},
	{name: "event_time no offset", typ: "shipments", in: strings.Replace(shipOK, `-02:00`, ``, 1), reason: InvalidValue, field: "event_time"},
	{name: "event_time space", typ: "shipments", in: strings.Replace(shipOK, `01T23`, `01 23`, 1), reason: InvalidValue, field: "event_time"},
	{name: "event_time date only", typ: "shipments", in: strings.Replace(shipOK, `2024-05-01T23:30:00-02:00`, `2024-05-01`, 1), reason: InvalidValue, field: "event_time"},
	{name: "event_time number", typ: "shipments", in: strings.Replace(shipOK, `"2024-05-01T23:30:00-02:00"`, `1714600000`, 1), reason: WrongType, field: "event_time"},
	{name: "invalid UTF-8 long", typ: "shipments", in: strings.Replace(shipOK, `"Oslo"`, "\"Oslo-\xff-abcdefghijk\"", 1), reason: InvalidValue, field: "destination", dt: "2024-05-02", schemaSkip: true},
	{name: "invalid UTF-8 short", typ: "shipments", in: strings.Replace(shipOK, `"Oslo"`, "\"\xc3\"", 1), reason: InvalidValue, field: "destination", dt: "2024-05-02", schemaSkip: true},
	{name: "valid UTF-8 long", typ: "shipments", in: strings.Replace(shipOK, `"Oslo"`, `"Zürich-Hauptbahnhof-Süd"`, 1), dt: "2024-05-02"},
	{name: "event_id number", typ: "shipments", in: strings.Replace(shipOK, `"e1"`, `7`, 1), reason: WrongType, field: "event_id", dt: "2024-05-02"},
}

func TestParse(t *testing.T) {
	p := Default().NewParser()
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			var rec Record
			err := p.Parse([]byte(tc.in), &rec)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if rec.Type.Name != tc.typ || rec.Dt() != tc.dt {
					t.Fatalf("type %s dt %s, want %s %s", rec.Type.Name, rec.Dt(), tc.typ, tc.dt)
				}
				if rec.EventTime.Location() != time.UTC {
					t.Fatalf("event_time not UTC")
				}
				return
			}
			var inv *Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("want *Invalid %s, got %v", tc.reason, err)
			}
			if inv.Reason != tc.reason || inv.Field != tc.field || inv.Dt != tc.dt || inv.RecordType != tc.typ {
				t.Fatalf("got %+v, want reason %s field %q dt %q type %q", inv, tc.reason, tc.field, tc.dt, tc.typ)
			}
			if inv.Error() == "" {
				t.Fatal("empty message")
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	p := Default().NewParser()
	var rec Record
	in := `{"record_type":"invoice_lines","event_id":"x\n","invoice_id":"I\u00e9","sku":"A","quantity":-3,"unit_price":1.25,"line_total":-3.75,"event_time":"2024-02-29T00:00:00.5+01:00"}`
	if err := p.Parse([]byte(in), &rec); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 2, 28, 23, 0, 0, 500_000_000, time.UTC)
	if !rec.EventTime.Equal(want) || rec.Dt() != "2024-02-28" || rec.Day() != want.Unix()/86400 {
		t.Fatalf("time %v dt %s", rec.EventTime, rec.Dt())
	}
	typ := rec.Type
	get := func(n string) Value { i, _ := typ.FieldIndex(n); return rec.Values[i] }
	if rec.EventID != "x\n" || get("invoice_id").Str != "Ié" || get("quantity").Int != -3 || get("unit_price").Num != 1.25 || get("line_total").Num != -3.75 {
		t.Fatalf("values %+v id %q", rec.Values, rec.EventID)
	}
}

func TestParseTime(t *testing.T) {
	good := []string{"2024-05-01T10:00:00Z", "2024-05-01T10:00:00.1Z", "2024-05-01T10:00:00.123456789+05:30", "2024-12-31T23:59:59-23:59", "2000-02-29T00:00:00Z"}
	for _, s := range good {
		got, err := ParseTime(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		ref, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !ref.Equal(got) || got.Location() != time.UTC {
			t.Errorf("%s: got %v want %v (%v)", s, got, ref, err)
		}
	}
	bad := []string{"", "2024-05-01", "2024-05-01T10:00:00", "2024-05-01 10:00:00Z", "2024-05-01T10:00:00,5Z", "2024-13-01T10:00:00Z", "2023-02-29T10:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00.1234567890Z", "2024-05-01T10:00:00+0100", "2024-05-01T10:00:00+01:00x", "2024-05-01t10:00:00Z", "2024-05-01T10:00:60Z", "+2024-05-01T10:00:00Z"}
	for _, s := range bad {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestRegisterRejects(t *testing.T) {
	type noEnvelope struct {
		A string `json:"a"`
	}
	type badKind struct {
		Envelope
		A []string `json:"a"`
	}
	type shadow struct {
		Envelope
		A string `json:"event_time"`
	}
	r := New()
	if Register[noEnvelope](r, "x") == nil || Register[badKind](r, "y") == nil || Register[shadow](r, "z") == nil {
		t.Fatal("bad types registered")
	}
	if err := Register[Shipment](r, "shipments"); err != nil {
		t.Fatal(err)
	}
	if Register[Shipment](r, "shipments") == nil {
		t.Fatal("duplicate registered")
	}
	if Register[Shipment](r, "a/b") == nil {
		t.Fatal("bad name registered")
	}
}

// A new type is one struct and one Register call.
func TestRegisterNewType(t *testing.T) {
	type Parcel struct {
		Envelope
		ParcelID string `json:"parcel_id"`
		Note     string `json:"note,omitempty"`
		Count    int64  `json:"count" jsonschema:"minimum=1"`
	}
	r := Default()
	MustRegister[Parcel](r, "parcels")
	p := r.NewParser()
	var rec Record
	if err := p.Parse([]byte(`{"record_type":"parcels","parcel_id":"P","count":2,"event_time":"2024-01-01T00:00:00Z"}`), &rec); err != nil {
		t.Fatal(err)
	}
	if i, _ := rec.Type.FieldIndex("note"); !rec.Values[i].Null {
		t.Fatal("absent optional field is not null")
	}
	err := p.Parse([]byte(`{"record_type":"parcels","parcel_id":"P","count":0,"event_time":"2024-01-01T00:00:00Z"}`), &rec)
	var inv *Invalid
	if !errors.As(err, &inv) || inv.Reason != InvalidValue || inv.Field != "count" {
		t.Fatalf("got %v", err)
	}
	if _, ok := r.Schemas(); ok != nil {
		t.Fatal(ok)
	}
}

// FuzzParse checks the scanner against encoding/json: Parse reports
// malformed JSON exactly when json.Valid says so, and never panics.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte(`{"a":[1,{"b":null}],"c":"\ud800"}`))
	f.Add([]byte(` {} `))
	f.Add([]byte(`{"record_type":"shipments","event_time":"2024-05-01T10:00:00Z","x":-0.0e+1}`))
	p := Default().NewParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		var rec Record
		err := p.Parse(data, &rec)
		var inv *Invalid
		malformed := errors.As(err, &inv) && inv.Reason == MalformedJSON
		if malformed == json.Valid(data) {
			t.Fatalf("malformed=%v but json.Valid=%v for %q (%v)", malformed, json.Valid(data), data, err)
		}
		if err == nil {
			// A valid record has all required values and a UTC time.
			if rec.EventTime.Location() != time.UTC || len(rec.Values) != len(rec.Type.Fields) {
				t.Fatalf("bad record %+v", rec)
			}
		}
	})
}

// ParseTime agrees with time.Parse on every day of four centuries' worth of
// sampled dates, offsets and fractions.
func TestParseTimeMatchesStdlib(t *testing.T) {
	offs := []string{"Z", "+00:00", "-00:30", "+05:45", "-12:00", "+14:00"}
	for d := 0; d < 146097*2; d += 37 {
		base := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d)
		for i, off := range offs {
			s := base.Add(time.Duration(i*7919)*time.Second).Format("2006-01-02T15:04:05") + ".0123" + off
			got, err := ParseTime(s)
			want, werr := time.Parse(time.RFC3339Nano, s)
			if (err == nil) != (werr == nil) || (err == nil && !got.Equal(want)) {
				t.Fatalf("%s: got %v %v, want %v %v", s, got, err, want, werr)
			}
		}
	}
}

// special agrees with a byte-by-byte check on random and edge-case words.
func TestSpecialWord(t *testing.T) {
	naive := func(x uint64) bool {
		for i := 0; i < 8; i++ {
			c := byte(x >> (8 * i))
			if c == '"' || c == '\\' || c < 0x20 {
				return true
			}
		}
		return false
	}
	rng := rand.New(rand.NewPCG(3, 4))
	edge := []byte{0, 0x1f, 0x20, '"', '\\', 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff, 'a'}
	for i := 0; i < 2_000_000; i++ {
		var x uint64
		for j := 0; j < 8; j++ {
			var c byte
			if rng.IntN(2) == 0 {
				c = edge[rng.IntN(len(edge))]
			} else {
				c = byte(rng.IntN(256))
			}
			x |= uint64(c) << (8 * j)
		}
		if special(x) != naive(x) {
			t.Fatalf("special(%#016x) = %v", x, special(x))
		}
	}
}
