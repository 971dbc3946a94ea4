package workflows

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/serverless-elt/elt/asl"
	"github.com/serverless-elt/elt/asl/engine"
)

// compileBound is w's generated definition with its placeholders bound to
// vars (as Terraform or the embedded orchestrator binds them), compiled for
// the local engine.
func compileBound(t *testing.T, w Workflow, vars map[string]string) *engine.Machine {
	t.Helper()
	def, err := w.Definition()
	if err != nil {
		t.Fatal(err)
	}
	def, err = asl.Substitute(def, vars)
	if err != nil {
		t.Fatal(err)
	}
	m, err := engine.Compile(def)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fakeNotifier records what the workflows publish (the SNS publish
// integration), subjects and messages apart.
type fakeNotifier struct {
	mu       sync.Mutex
	subjects []string
	messages []string
}

func (n *fakeNotifier) Publish(_ context.Context, subject, message string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.subjects = append(n.subjects, subject)
	n.messages = append(n.messages, message)
	return fmt.Sprintf("msg-%d", len(n.messages)), nil
}
