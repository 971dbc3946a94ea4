package jsonpath

import (
	"errors"
	"fmt"
)

// Set returns a copy of doc with value placed at the reference path ref, following ResultPath
// semantics (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html):
//   - "$" replaces the whole document with value;
//   - missing object members along the path are created as empty objects;
//   - an array index must already exist (Set does not grow arrays);
//   - anything else in the way (a string, number, boolean, null, or an array where a field is
//     named) makes Set fail with an error matching ErrCannotSet.
//
// doc is never modified: the objects and arrays on the path are copied, everything else is
// shared with the result.
func Set(doc any, ref *Path, value any) (any, error) {
	if ref == nil {
		return nil, errors.New("jsonpath.Set: nil path")
	}
	if ref.context {
		return nil, &SetError{Path: ref.src, Prefix: "$$", Reason: "the context object is read-only"}
	}
	if !ref.IsReference() {
		return nil, &SetError{Path: ref.src, Prefix: ref.src, Reason: "not a reference path"}
	}
	return set(doc, true, ref, 0, value)
}

func set(node any, present bool, ref *Path, i int, value any) (any, error) {
	if i == len(ref.segs) {
		return value, nil
	}
	s := ref.segs[i]
	switch s.kind {
	case segName:
		var m map[string]any
		switch t := node.(type) {
		case map[string]any:
			m = t
		default:
			if present {
				return nil, &SetError{Path: ref.src, Prefix: ref.prefix(i),
					Reason: fmt.Sprintf("cannot add field %q to a %s", s.name, typeName(node))}
			}
		}
		child, ok := m[s.name]
		v, err := set(child, ok, ref, i+1, value)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+1)
		for k, x := range m {
			out[k] = x
		}
		out[s.name] = v
		return out, nil
	case segIndex:
		a, ok := node.([]any)
		if !ok {
			return nil, &SetError{Path: ref.src, Prefix: ref.prefix(i),
				Reason: fmt.Sprintf("cannot index a %s", typeName(node))}
		}
		if s.index < 0 || s.index >= len(a) {
			return nil, &SetError{Path: ref.src, Prefix: ref.prefix(i),
				Reason: fmt.Sprintf("index %d out of range (length %d)", s.index, len(a))}
		}
		v, err := set(a[s.index], true, ref, i+1, value)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(a))
		copy(out, a)
		out[s.index] = v
		return out, nil
	}
	return nil, &SetError{Path: ref.src, Prefix: ref.prefix(i), Reason: "not a reference path"}
}
