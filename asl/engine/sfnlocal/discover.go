package sfnlocal

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// Discover reads an endpoint file (`elt up` writes <data-dir>/sfn/endpoint,
// one line "http://127.0.0.1:PORT") and returns the URL when a Step
// Functions API answers there (ListStateMachines within two seconds). A
// file left by a killed process, or one naming a non-loopback address,
// gives ok false, and the caller runs its own engine.
func Discover(ctx context.Context, endpointFile string) (string, bool) {
	b, err := os.ReadFile(endpointFile)
	if err != nil {
		return "", false
	}
	url := strings.TrimSpace(string(b))
	host, ok := strings.CutPrefix(url, "http://")
	if !ok || !(strings.HasPrefix(host, "127.0.0.1:") || strings.HasPrefix(host, "localhost:") || strings.HasPrefix(host, "[::1]:")) {
		return "", false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := Client(url).ListStateMachines(ctx, &sfn.ListStateMachinesInput{}); err != nil {
		return "", false
	}
	return url, true
}
