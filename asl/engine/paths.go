package engine

import (
	"fmt"

	"github.com/serverless-elt/elt/asl/jsonpath"
)

// optionalPath is a path whose value must exist (SecondsPath, ErrorPath,
// ...): a path that selects nothing is a States.Runtime error.
type optionalPath jsonpath.Path

func (p *optionalPath) path() *jsonpath.Path { return (*jsonpath.Path)(p) }

func (p *optionalPath) String() string { return p.path().String() }

func (p *optionalPath) eval(input any) (any, error) {
	v, err := p.path().Eval(input)
	if err != nil {
		return nil, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': %v", p.path(), err)}
	}
	return v, nil
}

func setPath(raw any, p resultPath, result any) (any, error) {
	return jsonpath.Set(raw, p.path, result)
}
