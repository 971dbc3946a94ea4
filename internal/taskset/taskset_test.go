package taskset

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/serverless-elt/elt/asl/engine"
	"github.com/serverless-elt/elt/internal/catalog/localcatalog"
	"github.com/serverless-elt/elt/internal/notify/localnotify"
	"github.com/serverless-elt/elt/internal/objstore/fsstore"
	"github.com/serverless-elt/elt/workflows"
)

func testDeps(t *testing.T) Deps {
	t.Helper()
	dir := t.TempDir()
	st, err := fsstore.New(dir+"/store", fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := localnotify.New(dir+"/outbox.jsonl", localnotify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := localcatalog.New(dir + "/catalog")
	if err != nil {
		t.Fatal(err)
	}
	return Deps{Store: st, Notifier: ob, Catalog: cat, TempDir: t.TempDir()}
}

// Every task a workflow declares has a handler: a workflow run embedded
// never meets an unregistered Lambda function.
func TestEveryWorkflowTaskIsRegistered(t *testing.T) {
	names := Names()
	for _, w := range workflows.All() {
		for _, task := range w.Tasks {
			if !slices.Contains(names, task) {
				t.Errorf("workflow %s declares task %q, which taskset does not register (registered: %v)", w.Name, task, names)
			}
		}
	}
}

// Every handler builds from the embedded dependencies and is registered
// under its name.
func TestRegisterBuildsEveryHandler(t *testing.T) {
	reg := engine.NewRegistry()
	if err := Register(reg, testDeps(t)); err != nil {
		t.Fatal(err)
	}
	if len(Names()) == 0 {
		t.Fatal("no tasks")
	}
	if _, err := Handler("no_such_task", testDeps(t)); !errors.Is(err, ErrUnknownTask) {
		t.Fatalf("unknown task: %v", err)
	}
}

// Invoke runs a real handler with plain Go values: validate_input refuses
// an input its schema rejects, with the task's own error name.
func TestInvokeValidateInput(t *testing.T) {
	var out map[string]any
	err := Invoke(context.Background(), "validate_input", testDeps(t), map[string]any{"schema": "ops_input.schema.json", "input": map[string]any{}}, &out)
	var named engine.ErrorNamer
	if !errors.As(err, &named) || named.ErrorName() != "ValidateInput.InvalidInput" {
		t.Fatalf("err %v, want ValidateInput.InvalidInput", err)
	}
}
