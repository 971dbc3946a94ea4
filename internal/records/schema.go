package records

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// SchemaFileName is the file a record type's JSON Schema is written to.
func SchemaFileName(typeName string) string { return "record_" + typeName + ".schema.json" }

// Schemas returns the JSON Schema of every registered type, keyed by file
// name (see SchemaFileName), each deterministic JSON with two-space indent
// and a trailing newline.
func (r *Registry) Schemas() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, name := range r.Names() {
		typ := r.types[name]
		ref := &jsonschema.Reflector{ExpandedStruct: true, DoNotReference: true, Anonymous: true}
		s := ref.ReflectFromType(typ.GoType)
		s.ID = jsonschema.ID("https://github.com/serverless-elt/elt/schema/" + SchemaFileName(name))
		s.Title = name
		s.Description = fmt.Sprintf("One %s record as it arrives in bronze (JSON object). event_time is RFC 3339 with an offset; the partition dt is its UTC date.", name)
		if p, ok := s.Properties.Get("record_type"); ok {
			p.Const = name
		}
		b, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("schema for record type %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			return nil, fmt.Errorf("schema for record type %s: %w", name, err)
		}
		buf.WriteByte('\n')
		out[SchemaFileName(name)] = buf.Bytes()
	}
	return out, nil
}

// Schemas returns the JSON Schemas of the default record types (for aslgen,
// which writes them into schema/).
func Schemas() map[string][]byte {
	m, err := Default().Schemas()
	if err != nil {
		panic(err) // the default types are static; a failure is a programming error
	}
	return m
}

// SchemaNames lists the file names of the default types' schemas, sorted.
func SchemaNames() []string {
	names := make([]string, 0, len(Types()))
	for _, t := range Types() {
		names = append(names, SchemaFileName(t))
	}
	return names
}

// Types lists the default record type names, sorted.
func Types() []string { return Default().Names() }

// SchemaFile returns a generator of one schema file's content (the shape of
// the aslgen table's Generate functions).
func SchemaFile(name string) func() ([]byte, error) {
	return func() ([]byte, error) {
		m, err := Default().Schemas()
		if err != nil {
			return nil, err
		}
		b, ok := m[name]
		if !ok {
			return nil, fmt.Errorf("no record schema named %s", name)
		}
		return b, nil
	}
}
