package engine

import (
	"errors"

	"github.com/serverless-elt/elt/asl/intrinsic"
	"github.com/serverless-elt/elt/asl/payload"
)

// template is a compiled payload template (Parameters, ResultSelector,
// ItemSelector, BatchInput, ...), evaluated by package payload.
type template struct {
	t *payload.Template
}

func compileTemplate(v any) (*template, error) {
	t, err := payload.Compile(v)
	if err != nil {
		return nil, err
	}
	return &template{t: t}, nil
}

func (t *template) eval(input, ctxObj any, env intrinsic.Env) (any, error) {
	out, err := t.t.Eval(input, ctxObj, env)
	if err != nil {
		var ie *intrinsic.Error
		if errors.As(err, &ie) {
			return nil, &Error{Name: ie.Name, Cause: ie.Cause}
		}
		return nil, &Error{Name: ErrRuntime, Cause: err.Error()}
	}
	return out, nil
}
