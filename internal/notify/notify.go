// Package notify sends human-facing notifications (SNS on AWS, a local
// outbox on disk when embedded): workflow failures, quality gate failures.
package notify

import "context"

// Notifier publishes a message to the configured topic and returns its id.
type Notifier interface {
	Publish(ctx context.Context, subject, message string) (string, error)
}
