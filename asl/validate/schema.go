package validate

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/serverless-elt/elt/schema"
)

// schemaFile is the ASL schema aslgen generates from the Go types in package asl.
const schemaFile = "asl.schema.json"

// compiledSchema compiles the embedded ASL schema once. A missing schema file
// (before aslgen has generated it) yields nil: the semantic rules still run,
// and TestSchemaCompiles fails loudly once the file exists but is broken.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	raw, err := schema.Read(schemaFile)
	if err != nil {
		return nil, nil
	}
	return compileSchema(raw)
})

func compileSchema(raw []byte) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	const url = "mem:///asl.schema.json"
	if err := c.AddResource(url, bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("load %s: %w", schemaFile, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", schemaFile, err)
	}
	return s, nil
}

// schemaProblems validates doc (a UseNumber value) against s and returns one
// Problem per leaf error, with rule "schema" and the instance location as the
// pointer.
func schemaProblems(s *jsonschema.Schema, doc any) []Problem {
	err := s.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{Pointer: "", Rule: "schema", Message: err.Error()}}
	}
	seen := map[Problem]bool{}
	var out []Problem
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		p := Problem{
			Pointer: instancePointer(e.InstanceLocation),
			Rule:    "schema",
			Message: fmt.Sprintf("%s (schema keyword %s)", e.Message, keyword(e.KeywordLocation)),
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return out
}

// instancePointer turns the library's instance location, whose tokens are
// URL-path-escaped on top of RFC 6901 escaping, into a plain RFC 6901 pointer.
func instancePointer(loc string) string {
	if loc == "" {
		return ""
	}
	parts := strings.Split(loc, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return strings.Join(parts, "/")
}

// keyword returns the last token of a keyword location ("const",
// "additionalProperties", ...): the full location through $refs and allOf
// branches is long and says little to the author of the definition.
func keyword(loc string) string {
	return loc[strings.LastIndexByte(loc, '/')+1:]
}
