// Package records defines the record types that land in silver, their
// registry, and the strict parser that turns one JSON object into a typed
// Record (or a precise reason why it cannot).
//
// A record type is a Go struct that embeds Envelope and tags its fields with
// `json` names; registering it (one line in Default) derives everything else:
// the field table the parser uses, the Parquet columns silver writes, and the
// JSON Schema in schema/. Unknown fields are rejected (the JSON Schemas say
// additionalProperties: false): silver is typed, so a new field is a
// deliberate one-line change to the Go type, and until then the records that
// carry it are kept in quarantine rather than silently losing data.
package records

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a field's value.
type Kind int

const (
	// String is a JSON string; stored as Parquet STRING.
	String Kind = iota + 1
	// Float is any JSON number; stored as Parquet DOUBLE.
	Float
	// Int is a JSON integer literal (no fraction or exponent) in int64 range;
	// stored as Parquet INT64.
	Int
	// Time is an RFC 3339 string with an offset; stored as a UTC Parquet
	// TIMESTAMP (microseconds).
	Time
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Float:
		return "number"
	case Int:
		return "integer"
	case Time:
		return "RFC 3339 timestamp"
	}
	return "unknown"
}

// Field is one data field of a record type (the envelope fields
// record_type, event_id and event_time are handled by every type alike).
type Field struct {
	Name     string
	Kind     Kind
	Required bool
	// Min, when HasMin, is the smallest accepted numeric value (from the
	// field's `jsonschema:"minimum=..."` tag, so schema and parser agree).
	Min    float64
	HasMin bool
	// Dict marks a low-cardinality string (`parquet:"dict"` tag): silver
	// dictionary-encodes it.
	Dict bool
}

// Type is one registered record type.
type Type struct {
	Name   string
	Fields []Field
	GoType reflect.Type
	index  map[string]int
}

// FieldIndex returns the index of a data field by JSON name.
func (t *Type) FieldIndex(name string) (int, bool) {
	i, ok := t.index[name]
	return i, ok
}

// lookup finds a field by name, trying index hint first; a linear scan
// beats a map for the handful of fields a record has.
func (t *Type) lookup(name string, hint int) (int, bool) {
	if hint < len(t.Fields) && t.Fields[hint].Name == name {
		return hint, true
	}
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return i, true
		}
	}
	return -1, false
}

// Registry holds record types by name. It is built once (see Default) and
// read concurrently afterwards.
type Registry struct {
	types map[string]*Type
	list  []*Type // the same, for a linear search (faster than a map for a few types)
}

// find looks a type up by name on the hot path.
func (r *Registry) find(name string) *Type {
	for _, t := range r.list {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// New returns an empty registry.
func New() *Registry { return &Registry{types: map[string]*Type{}} }

var (
	envelopeType = reflect.TypeOf(Envelope{})
	timeType     = reflect.TypeOf(time.Time{})
)

// maxFields bounds a type's data fields (the parser tracks them in a bitmask).
const maxFields = 60

// Register adds record type T under name. T must be a struct embedding
// Envelope whose other fields are string, float64, int64 (or int) or
// time.Time with json tags.
func Register[T any](r *Registry, name string) error {
	t := reflect.TypeOf((*T)(nil)).Elem()
	if name == "" || strings.ContainsAny(name, "/=") {
		return fmt.Errorf("register record type %q: invalid name", name)
	}
	if _, dup := r.types[name]; dup {
		return fmt.Errorf("register record type %q: already registered", name)
	}
	if t.Kind() != reflect.Struct {
		return fmt.Errorf("register record type %q: %s is not a struct", name, t)
	}
	typ := &Type{Name: name, GoType: t, index: map[string]int{}}
	hasEnvelope := false
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type == envelopeType {
			hasEnvelope = true
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" || !sf.IsExported() {
			continue
		}
		parts := strings.Split(tag, ",")
		f := Field{Name: parts[0], Required: true}
		if f.Name == "" {
			return fmt.Errorf("register record type %q: field %s has no json name", name, sf.Name)
		}
		for _, o := range parts[1:] {
			if o == "omitempty" || o == "omitzero" {
				f.Required = false
			}
		}
		switch {
		case sf.Type == timeType:
			f.Kind = Time
		case sf.Type.Kind() == reflect.String:
			f.Kind = String
		case sf.Type.Kind() == reflect.Float64 || sf.Type.Kind() == reflect.Float32:
			f.Kind = Float
		case sf.Type.Kind() == reflect.Int64 || sf.Type.Kind() == reflect.Int:
			f.Kind = Int
		default:
			return fmt.Errorf("register record type %q: field %s has unsupported type %s", name, sf.Name, sf.Type)
		}
		for _, o := range strings.Split(sf.Tag.Get("parquet"), ",") {
			if o == "dict" {
				f.Dict = true
			}
		}
		for _, kv := range strings.Split(sf.Tag.Get("jsonschema"), ",") {
			if v, ok := strings.CutPrefix(kv, "minimum="); ok {
				m, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return fmt.Errorf("register record type %q: field %s: minimum %q: %w", name, sf.Name, v, err)
				}
				f.Min, f.HasMin = m, true
			}
		}
		switch f.Name {
		case "record_type", "event_id", "event_time":
			return fmt.Errorf("register record type %q: field %s shadows an envelope field", name, f.Name)
		}
		if _, dup := typ.index[f.Name]; dup {
			return fmt.Errorf("register record type %q: duplicate field %s", name, f.Name)
		}
		typ.index[f.Name] = len(typ.Fields)
		typ.Fields = append(typ.Fields, f)
	}
	if !hasEnvelope {
		return fmt.Errorf("register record type %q: %s does not embed records.Envelope", name, t)
	}
	if len(typ.Fields) > maxFields {
		return fmt.Errorf("register record type %q: more than %d fields", name, maxFields)
	}
	r.types[name] = typ
	r.list = append(r.list, typ)
	return nil
}

// MustRegister is Register for static registrations; it panics on a
// programming error in the type definition.
func MustRegister[T any](r *Registry, name string) {
	if err := Register[T](r, name); err != nil {
		panic(err)
	}
}

// Lookup returns a registered type.
func (r *Registry) Lookup(name string) (*Type, bool) {
	t, ok := r.types[name]
	return t, ok
}

// Names lists the registered type names in sorted order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.types))
	for n := range r.types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
