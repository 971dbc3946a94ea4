package snsnotify_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/notify/snsnotify"
)

// The SNS adapter runs against goaws's SNS (query protocol, as the SDK
// speaks it) on loopback.
var client *sns.Client

func TestMain(m *testing.M) {
	s, err := awstest.StartSQS()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg, err := awstest.Config(context.Background(), s.URL)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	client = snsnotify.NewClient(cfg)
	code := m.Run()
	s.Close()
	os.Exit(code)
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("elt-notifications")})
	if err != nil {
		t.Fatal(err)
	}
	n, err := snsnotify.New(client, aws.ToString(topic.TopicArn))
	if err != nil {
		t.Fatal(err)
	}
	id, err := n.Publish(ctx, "quality gate failed: shipments dt=2026-01-02", "3 expectations failed")
	if err != nil || id == "" {
		t.Fatalf("Publish: %q %v", id, err)
	}
	missing, _ := snsnotify.New(client, "arn:aws:sns:us-east-1:000000000000:no-such-topic")
	if _, err := missing.Publish(ctx, "s", "m"); err == nil || !strings.Contains(err.Error(), "sns Publish") {
		t.Fatalf("Publish to a missing topic: %v", err)
	}
}

func TestSubjectAndMessageLimits(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"line\nbreak", "line break"},
		{"naïve ✓", "na?ve ?"},
		{strings.Repeat("x", 150), strings.Repeat("x", 100)},
		{"  ", ""},
	}
	for _, tc := range cases {
		if got := snsnotify.Subject(tc.in); got != tc.want {
			t.Errorf("Subject(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("é", snsnotify.MaxMessageBytes)
	m := snsnotify.Message(long)
	if len(m) > snsnotify.MaxMessageBytes || !strings.HasSuffix(m, "[truncated]") || !strings.HasPrefix(m, "éé") {
		t.Errorf("Message of %d bytes -> %d bytes", len(long), len(m))
	}
	if snsnotify.Message("short") != "short" {
		t.Error("short message changed")
	}
}
