// Package snsnotify is the notify.Notifier driver for Amazon SNS
// (aws-sdk-go-v2 Publish to one topic).
//
// IAM: sns:Publish on the topic.
package snsnotify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/serverless-elt/elt/internal/awsconf"
	"github.com/serverless-elt/elt/internal/notify"
)

// SNS Publish limits (API_Publish: Subject up to 100 printable ASCII
// characters without line breaks; Message up to 256 KiB).
const (
	MaxSubject      = 100
	MaxMessageBytes = 256 * 1024
	DefaultTimeout  = 10 * time.Second
)

// Notifier publishes to one SNS topic.
type Notifier struct {
	c        *sns.Client
	topicARN string
	timeout  time.Duration
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a notifier for topicARN.
func New(c *sns.Client, topicARN string) (*Notifier, error) {
	if topicARN == "" {
		return nil, errors.New("snsnotify: topic ARN is required")
	}
	return &Notifier{c: c, topicARN: topicARN, timeout: DefaultTimeout}, nil
}

// NewClient builds the SNS client for cfg.
func NewClient(cfg aws.Config) *sns.Client { return sns.NewFromConfig(cfg) }

// Subject makes s a valid SNS subject: printable ASCII only (others become
// '?'), no line breaks, at most 100 characters.
func Subject(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
		if b.Len() >= MaxSubject {
			break
		}
	}
	return strings.TrimSpace(b.String())
}

// Message truncates m to SNS's size limit at a rune boundary, marking the cut.
func Message(m string) string {
	if len(m) <= MaxMessageBytes {
		return m
	}
	const mark = "\n[truncated]"
	cut := MaxMessageBytes - len(mark)
	for cut > 0 && !utf8.RuneStart(m[cut]) {
		cut--
	}
	return m[:cut] + mark
}

// Publish implements notify.Notifier.
func (n *Notifier) Publish(ctx context.Context, subject, message string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	in := &sns.PublishInput{TopicArn: aws.String(n.topicARN), Message: aws.String(Message(message))}
	if s := Subject(subject); s != "" {
		in.Subject = aws.String(s)
	}
	out, err := n.c.Publish(ctx, in)
	if err != nil {
		return "", awsconf.Classify(fmt.Sprintf("sns Publish %s", n.topicARN), err, nil)
	}
	return aws.ToString(out.MessageId), nil
}
