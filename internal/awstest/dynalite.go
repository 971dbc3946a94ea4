package awstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynaliteVersion is the npm dynalite the tests run (pinned so runs agree).
const DynaliteVersion = "4.0.0"

// ErrNoNode means node or npm is not installed; tests skip with it.
var ErrNoNode = errors.New("node and npm are needed to run dynalite (DynamoDB) tests; install Node.js")

// DynamoDB is dynalite (npm, in-memory) running under node on 127.0.0.1.
type DynamoDB struct {
	URL string
	cmd *exec.Cmd
}

var installMu sync.Mutex

// dynaliteDir is the npm prefix dynalite is installed under, outside the
// repository: $ELT_DYNALITE_DIR, else <user cache dir>/elt-dynalite.
func dynaliteDir() (string, error) {
	if d := os.Getenv("ELT_DYNALITE_DIR"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		c = os.TempDir()
	}
	return filepath.Join(c, "elt-dynalite"), nil
}

// installDynalite runs npm install once per cache dir.
func installDynalite(ctx context.Context) (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", ErrNoNode
	}
	dir, err := dynaliteDir()
	if err != nil {
		return "", err
	}
	cli := filepath.Join(dir, "node_modules", "dynalite", "cli.js")
	installMu.Lock()
	defer installMu.Unlock()
	if _, err := os.Stat(cli); err == nil {
		return cli, nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", ErrNoNode
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "dynalite@"+DynaliteVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install dynalite into %s: %w\n%s", dir, err, out)
	}
	return cli, nil
}

// freePort picks a free loopback port (dynalite treats --port 0 as its
// default 4567).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartDynamoDB installs (once) and starts dynalite. It returns ErrNoNode
// when node or npm is missing.
func StartDynamoDB(ctx context.Context) (*DynamoDB, error) {
	cli, err := installDynalite(ctx)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command("node", cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start dynalite: %w", err)
		}
		ready := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			ok := false
			for sc.Scan() {
				if strings.Contains(sc.Text(), "listening") {
					ok = true
					break
				}
			}
			ready <- ok
			io.Copy(io.Discard, stdout)
		}()
		select {
		case ok := <-ready:
			if ok {
				return &DynamoDB{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}, nil
			}
		case <-time.After(30 * time.Second):
		}
		cmd.Process.Kill()
		cmd.Wait()
		if attempt >= 2 {
			return nil, fmt.Errorf("dynalite did not start on port %d: %s", port, stderr.String())
		}
	}
}

// Close stops dynalite.
func (d *DynamoDB) Close() {
	d.cmd.Process.Kill()
	d.cmd.Wait()
}

// Client is a DynamoDB client for the server.
func (d *DynamoDB) Client(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := Config(ctx, d.URL)
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg), nil
}

// CreateLedgerTable makes a table shaped like terraform's ledger module:
// hash key pk (string), on demand.
func (d *DynamoDB) CreateLedgerTable(ctx context.Context, name string) error {
	c, err := d.Client(ctx)
	if err != nil {
		return err
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	return w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second)
}
