package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/serverless-elt/elt/internal/awsconf"
	"github.com/serverless-elt/elt/internal/orchestrator"
	"github.com/serverless-elt/elt/internal/taskset"
)

const glueUsage = `elt glue job-start --record-type T --dt YYYY-MM-DD [--output-prefix P] [--name N] [--wait=true]
       elt glue job-status [EXECUTION] [--output json|table]
       elt glue job-history [EXECUTION] [--output json|table]
       elt glue crawler-start [--wait=true]
       elt glue crawler-status
  every verb: [--target embedded|aws] [--data-dir D] [--tf-dir DIR | --tf-outputs FILE]

The "Glue" side of silver. job-start runs the compaction-backfill workflow
for one partition (merge small files, drop duplicate event_ids, write
silver_compacted/<type>/dt=<dt>/<run>/ with a manifest, then point the
catalog's partition at the new files) and waits for it; job-status and
job-history show its executions (the latest by default).
crawler-start refreshes the catalog from silver: embedded, the crawl task
runs in this process and its result is kept in
<data-dir>/glue/crawler/last-run.json (what crawler-status prints); on AWS
it starts the deployed Glue crawler and, with --wait, follows it.
Exit codes: 0 succeeded (or running), 1 failed or nothing to show, 2 bad usage.`

func runGlue(ctx context.Context, env Env, args []string) int {
	verbs := showVerbs("glue", glueUsage, compactionFlow, "job-status", "job-history")
	verbs["job-start"] = glueJobStart.run
	verbs["crawler-start"] = func(ctx context.Context, env Env, args []string) int { return glueCrawler(ctx, env, true, args) }
	verbs["crawler-status"] = func(ctx context.Context, env Env, args []string) int { return glueCrawler(ctx, env, false, args) }
	return runVerbs(ctx, env, "glue", glueUsage, args, verbs)
}

// glueJobStart runs the compaction-backfill workflow over one partition.
var glueJobStart = partitionStart{
	noun: "glue", verb: "job-start", usage: glueUsage, flow: compactionFlow, namePrefix: "compact",
	prefixFlag: "output-prefix",
	prefixHelp: "where compacted files go in the silver bucket (default silver_compacted/)",
	waitHelp:   "wait for the job to end (always, when it runs in this process)",
	input:      compactionInput,
}

// compactionInput is the compaction-backfill input for one partition.
func compactionInput(t *target, recordType, dt, outputPrefix string) map[string]any {
	in := map[string]any{
		"partitions":    []map[string]string{{"record_type": recordType, "dt": dt}},
		"silver_bucket": t.cfg.SilverBucket,
		"silver_prefix": t.cfg.SilverPrefix,
	}
	if outputPrefix != "" {
		in["output_prefix"] = outputPrefix
	}
	return in
}

// CrawlerRun is the embedded crawler's last run (crawler-status), shaped
// after Glue's GetCrawler LastCrawl.
type CrawlerRun struct {
	Crawler   string          `json:"crawler"`
	State     string          `json:"state"`  // READY (embedded runs are synchronous), RUNNING on AWS
	Status    string          `json:"status"` // SUCCEEDED or FAILED
	StartTime string          `json:"startTime,omitempty"`
	EndTime   string          `json:"endTime,omitempty"`
	Error     string          `json:"errorMessage,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	Output    json.RawMessage `json:"output,omitempty"`
}

// crawlerRunPath is where the embedded crawler's last run is kept.
func crawlerRunPath(dataDir string) string {
	return filepath.Join(dataDir, "glue", "crawler", "last-run.json")
}

func glueCrawler(ctx context.Context, env Env, start bool, args []string) int {
	cmd := "elt glue crawler-status"
	if start {
		cmd = "elt glue crawler-start"
	}
	fs, tf := newTargetFlagSet(cmd[len("elt "):], glueUsage, env, "json")
	wait := fs.Bool("wait", true, "crawler-start on AWS: wait until the crawler is READY again")
	if _, code, done := parseTargetFlags(env, fs, tf, cmd, args, 0, nil); done {
		return code
	}
	var run CrawlerRun
	var err error
	if tf.target == "aws" {
		run, err = awsCrawler(ctx, tf, start, *wait)
	} else if start {
		run, err = embeddedCrawl(ctx, env, tf)
	} else {
		run, err = readCrawlerRun(tf.stack.dataDir)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", cmd, err)
		return ExitFailure
	}
	if tf.output == "json" {
		writeJSON(env.Stdout, run)
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
		for _, kv := range [][2]string{{"crawler", run.Crawler}, {"state", run.State}, {"last status", run.Status},
			{"started", run.StartTime}, {"ended", run.EndTime}, {"error", run.Error}, {"output", string(run.Output)}} {
			if kv[1] != "" {
				fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
			}
		}
		tw.Flush()
	}
	if run.Status == "FAILED" || run.Status == "CANCELLED" {
		return ExitFailure
	}
	return ExitOK
}

// embeddedCrawl runs the crawl task over the data dir's silver bucket and
// records the run.
func embeddedCrawl(ctx context.Context, env Env, tf *targetFlags) (CrawlerRun, error) {
	cfg := tf.stack.config(env).WithDefaults()
	deps, err := orchestrator.Deps(cfg, cfg.Log)
	if err != nil {
		return CrawlerRun{}, err
	}
	in := map[string]any{
		"silver_bucket": cfg.SilverBucket,
		"silver_prefix": cfg.SilverPrefix,
	}
	inJSON, _ := json.Marshal(in)
	run := CrawlerRun{Crawler: "elt-embedded", State: "READY", StartTime: time.Now().UTC().Format(time.RFC3339Nano), Input: inJSON}
	var out json.RawMessage
	err = taskset.Invoke(ctx, "crawl", deps, in, &out)
	run.EndTime = time.Now().UTC().Format(time.RFC3339Nano)
	if err != nil {
		if errors.Is(err, taskset.ErrUnknownTask) {
			return CrawlerRun{}, err
		}
		run.Status, run.Error = "FAILED", err.Error()
	} else {
		run.Status, run.Output = "SUCCEEDED", out
	}
	if werr := writeCrawlerRun(cfg.DataDir, run); werr != nil {
		return run, werr
	}
	return run, nil
}

func writeCrawlerRun(dataDir string, run CrawlerRun) error {
	path := crawlerRunPath(dataDir)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("record crawler run: %w", err)
	}
	return os.Rename(tmp, path)
}

func readCrawlerRun(dataDir string) (CrawlerRun, error) {
	var run CrawlerRun
	b, err := os.ReadFile(crawlerRunPath(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return run, fmt.Errorf("the crawler has not run on %s yet (run 'elt glue crawler-start')", dataDir)
	}
	if err != nil {
		return run, err
	}
	if err := json.Unmarshal(b, &run); err != nil {
		return run, fmt.Errorf("read %s: %w", crawlerRunPath(dataDir), err)
	}
	return run, nil
}

// awsCrawler starts (or reads) the deployed Glue crawler named by the
// glue_crawler_name output (StartCrawler, GetCrawler).
func awsCrawler(ctx context.Context, tf *targetFlags, start, wait bool) (CrawlerRun, error) {
	outs, err := terraformOutputs(ctx, tf.tfDir, tf.tfOutputs)
	if err != nil {
		return CrawlerRun{}, err
	}
	name := outs["glue_crawler_name"]
	if name == "" {
		return CrawlerRun{}, errors.New(`Terraform output "glue_crawler_name" is missing or empty (is glue_enabled set?)`)
	}
	cfg, err := awsconf.Load(ctx, awsconf.Options{Region: outs["region"], Endpoint: tf.endpoint})
	if err != nil {
		return CrawlerRun{}, err
	}
	c := glue.NewFromConfig(cfg)
	if start {
		if _, err := c.StartCrawler(ctx, &glue.StartCrawlerInput{Name: aws.String(name)}); err != nil {
			return CrawlerRun{}, awsconf.Classify("glue StartCrawler "+name, err, nil)
		}
	}
	for {
		out, err := c.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String(name)})
		if err != nil {
			return CrawlerRun{}, awsconf.Classify("glue GetCrawler "+name, err, nil)
		}
		run := CrawlerRun{Crawler: name}
		if cr := out.Crawler; cr != nil {
			run.State = string(cr.State)
			if lc := cr.LastCrawl; lc != nil {
				run.Status = string(lc.Status)
				run.Error = aws.ToString(lc.ErrorMessage)
				if lc.StartTime != nil {
					run.StartTime = lc.StartTime.UTC().Format(time.RFC3339Nano)
				}
			}
		}
		if !start || !wait || run.State == "READY" {
			return run, nil
		}
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(10 * time.Second):
		}
	}
}
