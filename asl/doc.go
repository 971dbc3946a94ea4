// Package asl is a typed model of the Amazon States Language (the JSONPath
// flavour used by AWS Step Functions), a builder that reads well in Go,
// deterministic JSON encoding, Terraform placeholder handling, the ASL JSON
// Schema generated from the Go types, and a Mermaid renderer.
//
// Reading a definition:
//
//	sm, err := asl.Parse(data) // structure only; run validate.Definition for the rules
//	for name, st := range sm.States.All() { ... st.Type ... }
//
// Writing one:
//
//	sm, err := asl.New("Replay a window").
//		States(
//			asl.Task("Replay").Resource(asl.LambdaInvoke("${replay_function_arn}", asl.Ref("$"))).Next("Done"),
//			asl.Succeed("Done"),
//		).Build()
//	data, err := asl.Encode(sm)
//
// The model is plain data. A *StateMachine returned by Parse or Build is
// never modified by this package afterwards; callers (the engine, the
// validator) must treat it as read-only, which makes it safe to share
// between goroutines.
//
// Reference: https://states-language.net/spec.html and the AWS Step
// Functions developer guide ("Amazon States Language", "Processing input and
// output", "Handling errors", "Map state", "Intrinsic functions").
package asl
