package awstest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// LocalSQSVersion is the npm local-aws-sqs the tests run (pinned so runs
// agree). It speaks both SQS protocols (AWS JSON 1.0, which the current SDK
// uses, and query), counts ApproximateReceiveCount, honours ReceiveMessage's
// and ChangeMessageVisibility's timeouts, moves a message to the DLQ after
// maxReceiveCount receives and implements StartMessageMoveTask /
// ListMessageMoveTasks: the SQS semantics goaws lacks. It still counts
// in-flight messages in ApproximateNumberOfMessages and counts a
// ChangeMessageVisibility as a receive (see docs/decisions.md #3).
const LocalSQSVersion = "2.0.2"

// LocalSQS is local-aws-sqs (npm, in-memory) running under node on
// 127.0.0.1. Unlike goaws each server has its own state, so tests may start
// several.
type LocalSQS struct {
	URL   string
	cmd   *exec.Cmd
	stdin io.Closer
}

// localSQSDir is the npm prefix local-aws-sqs is installed under, outside
// the repository: $ELT_LOCALSQS_DIR, else <user cache dir>/elt-local-aws-sqs.
func localSQSDir() string {
	if d := os.Getenv("ELT_LOCALSQS_DIR"); d != "" {
		return d
	}
	c, err := os.UserCacheDir()
	if err != nil {
		c = os.TempDir()
	}
	return filepath.Join(c, "elt-local-aws-sqs")
}

// installLocalSQS runs npm install once per cache dir and returns the
// package directory.
func installLocalSQS(ctx context.Context) (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", ErrNoNode
	}
	dir := localSQSDir()
	pkg := filepath.Join(dir, "node_modules", "local-aws-sqs")
	installMu.Lock()
	defer installMu.Unlock()
	if b, err := os.ReadFile(filepath.Join(pkg, "package.json")); err == nil && strings.Contains(string(b), `"version": "`+LocalSQSVersion+`"`) {
		return pkg, nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", ErrNoNode
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "local-aws-sqs@"+LocalSQSVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install local-aws-sqs into %s: %w\n%s", dir, err, out)
	}
	return pkg, nil
}

// localSQSMain starts the server on a port the kernel picks (the package
// reads the real port back for its queue URLs), prints it, and exits when
// its stdin closes, so a test binary that dies does not leave it behind.
// Queue-deletion lifecycle emulation is off: tests use fresh names anyway.
const localSQSMain = `
const { createSqsServer } = require(process.argv[1]);
createSqsServer({ port: 0, hostname: "127.0.0.1", region: "us-east-1", accountId: "000000000000",
  emulateQueueCreationLifecycle: false })
  .then((s) => { console.log("listening " + s.address().port); })
  .catch((e) => { console.error(e); process.exit(1); });
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`

// StartLocalSQS installs (once) and starts local-aws-sqs. It returns
// ErrNoNode when node or npm is missing.
func StartLocalSQS(ctx context.Context) (*LocalSQS, error) {
	pkg, err := installLocalSQS(ctx)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", "-e", localSQSMain, pkg)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start local-aws-sqs: %w", err)
	}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		p := ""
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				p = strings.TrimSpace(rest)
				break
			}
		}
		port <- p
		io.Copy(io.Discard, stdout)
	}()
	select {
	case p := <-port:
		if p != "" {
			return &LocalSQS{URL: "http://127.0.0.1:" + p, cmd: cmd, stdin: stdin}, nil
		}
	case <-time.After(30 * time.Second):
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil, fmt.Errorf("local-aws-sqs did not start: %s", stderr.String())
}

// Close stops the server.
func (s *LocalSQS) Close() {
	s.stdin.Close()
	s.cmd.Process.Kill()
	s.cmd.Wait()
}
