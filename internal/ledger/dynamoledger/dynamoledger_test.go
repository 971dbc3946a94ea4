package dynamoledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/ledger"
	"github.com/serverless-elt/elt/internal/ledger/dynamoledger"
	"github.com/serverless-elt/elt/internal/ledger/ledgertest"
)

var (
	server  *awstest.DynamoDB
	client  *dynamodb.Client
	skipMsg string
)

func TestMain(m *testing.M) {
	ctx := context.Background()
	s, err := awstest.StartDynamoDB(ctx)
	switch {
	case errors.Is(err, awstest.ErrNoNode):
		skipMsg = err.Error()
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	default:
		server = s
		if client, err = s.Client(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if server != nil {
		server.Close()
	}
	os.Exit(code)
}

var seq atomic.Int64

// clock is a controllable clock shared by a ledger and its test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTable(t *testing.T) string {
	t.Helper()
	if server == nil {
		t.Skip(skipMsg)
	}
	name := fmt.Sprintf("ledger-%d", seq.Add(1))
	if err := server.CreateLedgerTable(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestContract runs the ledger contract suite over HTTP against dynalite,
// on an injected clock (the ledger's conditions compare the caller's clock,
// so no test sleeps).
func TestContract(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledgertest.Harness {
		table := newTable(t)
		clk := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		l, err := dynamoledger.New(client, dynamoledger.Options{Table: table, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return ledgertest.Harness{
			Ledger:  l,
			Advance: clk.Advance,
			Reopen: func(t *testing.T) ledger.Ledger {
				l, err := dynamoledger.New(client, dynamoledger.Options{Table: table, Now: clk.Now})
				if err != nil {
					t.Fatal(err)
				}
				return l
			},
		}
	})
}

// TestTTLAttribute: the stored expires_at is epoch seconds, rounded up, so
// DynamoDB's TTL sweeper never removes a live record.
func TestTTLAttribute(t *testing.T) {
	ctx := context.Background()
	table := newTable(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 500e6, time.UTC)
	l, err := dynamoledger.New(client, dynamoledger.Options{Table: table, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	key := "s3://b/k#e"
	cases := []struct {
		name string
		do   func() error
		want int64
	}{
		{"leased", func() error { _, err := l.Claim(ctx, key, "o", time.Minute); return err }, now.Add(time.Minute).Unix() + 1},
		{"done", func() error { return l.Complete(ctx, key, "o", time.Hour) }, now.Add(time.Hour).Unix() + 1},
	}
	for _, tc := range cases {
		if err := tc.do(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}})
		if err != nil {
			t.Fatal(err)
		}
		ttl, ok := got.Item[dynamoledger.TTLAttribute].(*types.AttributeValueMemberN)
		if !ok || ttl.Value != fmt.Sprint(tc.want) {
			t.Errorf("%s: expires_at = %v, want %d", tc.name, got.Item[dynamoledger.TTLAttribute], tc.want)
		}
	}
}

// TestClaimReadsItemFromFailedCondition: DynamoDB returns the current item
// inside ConditionalCheckFailedException when ReturnValuesOnConditionCheckFailure
// is ALL_OLD (API_PutItem); dynalite does not, so the contract run takes the
// GetItem fallback. This loopback stand-in answers with the documented
// exception shape and refuses GetItem, so the ALL_OLD path is what decides.
func TestClaimReadsItemFromFailedCondition(t *testing.T) {
	for _, tc := range []struct {
		status string
		want   ledger.Outcome
	}{{"done", ledger.Done}, {"leased", ledger.Held}} {
		t.Run(tc.status, func(t *testing.T) {
			var targets []string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				target := r.Header.Get("X-Amz-Target")
				targets = append(targets, target)
				var in map[string]any
				json.NewDecoder(r.Body).Decode(&in)
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				if target != "DynamoDB_20120810.PutItem" || in["ReturnValuesOnConditionCheckFailure"] != "ALL_OLD" {
					w.WriteHeader(http.StatusBadRequest)
					fmt.Fprint(w, `{"__type":"com.amazon.coral.validate#ValidationException","message":"unexpected call"}`)
					return
				}
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed","Item":{"pk":{"S":"k"},"status":{"S":%q},"owner":{"S":"other"},"exp_ms":{"N":"99999999999999"}}}`, tc.status)
			})
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
			srv.Start()
			defer srv.Close()
			cfg, err := awstest.Config(context.Background(), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			led, err := dynamoledger.New(dynamoledger.NewClient(cfg), dynamoledger.Options{Table: "t"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := led.Claim(context.Background(), "k", "me", time.Minute)
			if err != nil || got != tc.want {
				t.Fatalf("Claim = %v, %v; want %v (calls %v)", got, err, tc.want, targets)
			}
			if len(targets) != 1 {
				t.Errorf("calls %v, want one PutItem", targets)
			}
		})
	}
}
