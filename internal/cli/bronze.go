package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/serverless-elt/elt/internal/embedded"
)

const bronzeUsage = `elt bronze add FILE... [--prefix bronze/<path>/] [--key KEY] [--data-dir D]

Uploads files into the bronze bucket of the embedded stack through its object
store, the way a producer would upload to S3. Each file lands at
<prefix><file name> (default prefix "bronze/"), or at KEY when one file is
given with --key. A running 'elt up' (or the next 'elt run --until-idle')
ingests them. It does not lock the stack, so it works while 'elt up' runs.`

func runBronze(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.Stderr, "usage: %s\n", bronzeUsage)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	if args[0] != "add" {
		fmt.Fprintf(env.Stderr, "elt bronze: unknown verb %q\n\nusage: %s\n", args[0], bronzeUsage)
		return ExitUsage
	}
	fs := newFlagSet("bronze add", bronzeUsage, env)
	var sf stackFlags
	sf.register(fs, env)
	prefix := fs.String("prefix", "", "key prefix (default: the bronze prefix, \"bronze/\")")
	key := fs.String("key", "", "full object key (one file only)")
	files, code, done := parseFlags(fs, args[1:])
	if done {
		return code
	}
	if len(files) == 0 || (*key != "" && (len(files) != 1 || *prefix != "")) {
		fs.Usage()
		return ExitUsage
	}
	cfg := sf.config(env).WithDefaults()
	if *prefix == "" {
		*prefix = cfg.BronzePrefix
	}
	if !strings.HasSuffix(*prefix, "/") {
		*prefix += "/"
	}
	store, err := embedded.OpenStore(cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "elt bronze add: %v\n", err)
		return ExitFailure
	}
	for _, f := range files {
		k := *key
		if k == "" {
			k = *prefix + filepath.Base(f)
		}
		if !strings.HasPrefix(k, cfg.BronzePrefix) {
			fmt.Fprintf(env.Stderr, "elt bronze add: warning: %s is outside %s, which is not ingested\n", k, cfg.BronzePrefix)
		}
		fh, err := os.Open(f)
		if err != nil {
			fmt.Fprintf(env.Stderr, "elt bronze add: %v\n", err)
			return ExitFailure
		}
		info, err := store.Put(ctx, cfg.BronzeBucket, k, fh, nil)
		fh.Close()
		if err != nil {
			fmt.Fprintf(env.Stderr, "elt bronze add: %s: %v\n", f, err)
			return ExitFailure
		}
		fmt.Fprintf(env.Stdout, "s3://%s/%s\t%d bytes\tetag %s\n", info.Bucket, info.Key, info.Size, info.ETag)
	}
	return ExitOK
}
