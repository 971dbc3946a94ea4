// Package validate checks Amazon States Language definitions (the JSONPath
// flavour) as they are on disk, including malformed ones, and reports every
// problem at once, each with an RFC 6901 JSON Pointer into the document.
//
//	problems := validate.Definition(data) // nil when valid
//	for _, p := range problems { fmt.Println(p) } // "/States/Foo/Next: next-target-missing: ..."
//	line, col, ok := validate.Locate(data, p.Pointer) // where that value starts in the file
//
// Two layers run on the raw JSON, never on the typed model of package asl,
// so a broken document still gets precise messages:
//
//   - the JSON Schema generated from the Go types (schema/asl.schema.json,
//     rule "schema"), compiled once with santhosh-tekuri/jsonschema/v5;
//   - the semantic rules a schema cannot say, the ones awslabs/statelint and
//     the Step Functions validator enforce (see rules.go for the list of rule
//     ids and the pages each one comes from).
//
// A schema problem is dropped when a semantic rule already reports the same
// place (the same pointer, or a member of the object the schema complained
// about), so one mistake yields one line.
//
// Strings containing a Terraform templatefile placeholder "${name}" are
// treated as opaque: they pass every string format check (ARN, path,
// timestamp, enum), since their value is only known at deployment.
//
// Paths, reference paths, intrinsic calls and ".$" payload templates are
// checked with packages asl/jsonpath, asl/intrinsic and asl/payload, the
// same parsers the local engine runs.
package validate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Problem is one thing wrong with a definition.
type Problem struct {
	Pointer string // RFC 6901 JSON Pointer into the document ("" is the whole document)
	Rule    string // short stable id, e.g. "next-target-missing"
	Message string
}

// String renders the problem as "/States/Foo/Next: next-target-missing: ...".
func (p Problem) String() string {
	return fmt.Sprintf("%s: %s: %s", p.Pointer, p.Rule, p.Message)
}

// Definition validates one state machine definition and returns every
// problem found, in document order, or nil when the definition is valid.
func Definition(data []byte) []Problem {
	s, err := compiledSchema()
	if err != nil {
		// A generated schema that does not compile is a build defect; say
		// so on every definition rather than silently skipping the layer.
		return append(definition(data, nil), Problem{Pointer: "", Rule: "schema", Message: err.Error()})
	}
	return definition(data, s)
}

// definition runs the semantic rules, then s (when not nil).
func definition(data []byte, s *jsonschema.Schema) []Problem {
	root, err := parseTree(data)
	if err != nil {
		se := err.(*syntaxError)
		line, col := lineCol(data, se.off)
		return []Problem{{Pointer: "", Rule: "json-syntax", Message: fmt.Sprintf("line %d column %d: %s", line, col, se.msg)}}
	}
	c := &checker{names: map[string]string{}, statesObjects: map[*node]bool{}}
	c.topLevel(root)
	for _, f := range c.deferred {
		f()
	}
	c.duplicateKeys(root, "")

	found := c.problems
	if s != nil {
		for _, p := range schemaProblems(s, root.plain()) {
			if c.covers(p) {
				continue
			}
			found = append(found, finding{Problem: p, off: offsetOf(root, p.Pointer)})
		}
	}
	if len(found) == 0 {
		return nil
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if a.off != b.off {
			return a.off < b.off
		}
		if a.Pointer != b.Pointer {
			return a.Pointer < b.Pointer
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
	out := make([]Problem, 0, len(found))
	seen := map[Problem]bool{}
	for _, f := range found {
		if !seen[f.Problem] {
			seen[f.Problem] = true
			out = append(out, f.Problem)
		}
	}
	return out
}

// finding is a Problem plus the byte offset it is sorted by.
type finding struct {
	Problem
	off int64
}

// checker accumulates problems while walking one document.
type checker struct {
	problems []finding
	// names maps every state name in the whole machine (branches and item
	// processors included) to the pointer of its first definition: Step
	// Functions requires names to be unique across the definition.
	names map[string]string
	// statesObjects are the "States" objects, whose duplicate keys are
	// reported as duplicate-state-name rather than duplicate-key.
	statesObjects map[*node]bool
	// deferred checks run once the whole document has been walked.
	deferred []func()
}

func (c *checker) add(n *node, pointer, rule, format string, args ...any) {
	var off int64
	if n != nil {
		off = n.off
	}
	c.problems = append(c.problems, finding{Problem: Problem{Pointer: pointer, Rule: rule, Message: fmt.Sprintf(format, args...)}, off: off})
}

// covers reports whether a semantic problem already explains schema problem
// p: one at the same pointer, or at a direct member of the object p is about
// (the schema reports an unknown or missing member at the object itself).
func (c *checker) covers(p Problem) bool {
	for _, f := range c.problems {
		q := f.Pointer
		if q == p.Pointer {
			return true
		}
		if strings.HasPrefix(q, p.Pointer+"/") && !strings.Contains(q[len(p.Pointer)+1:], "/") {
			return true
		}
	}
	return false
}

// duplicateKeys reports object members that appear more than once: the
// engine, like encoding/json, would silently keep only the last one.
func (c *checker) duplicateKeys(n *node, pointer string) {
	switch n.kind {
	case kindArray:
		for i, el := range n.arr {
			c.duplicateKeys(el, ptr(pointer, i))
		}
	case kindObject:
		seen := make(map[string]bool, len(n.members))
		for _, m := range n.members {
			p := ptr(pointer, m.key)
			if seen[m.key] {
				if c.statesObjects[n] {
					c.add(m.val, p, "duplicate-state-name", "state %q is defined twice in the same States object", m.key)
				} else {
					c.add(m.val, p, "duplicate-key", "key %q appears more than once; only the last one would be used", m.key)
				}
			}
			seen[m.key] = true
			c.duplicateKeys(m.val, p)
		}
	}
}

// offsetOf finds the node a pointer designates (the deepest existing one) to
// sort schema problems among the others.
func offsetOf(root *node, pointer string) int64 {
	return nodeAt(root, pointer).off
}
