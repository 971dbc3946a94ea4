package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/serverless-elt/elt/internal/bus"
)

// maxNameLen is Step Functions' limit on execution names.
const maxNameLen = 80

// QualityGateNamePrefix is the part of a quality-gate execution name that
// names the partition: "qg-<record type>-<dt>-".
func QualityGateNamePrefix(recordType, dt string) string {
	t, d := safeName(recordType), safeName(dt)
	if len(d) > 16 {
		d = d[:16]
	}
	// qg- + type + - + dt + - + 12 hex digits <= 80
	if room := maxNameLen - len("qg-") - 1 - len(d) - 1 - 12; len(t) > room {
		t = t[:room]
	}
	return "qg-" + t + "-" + d + "-"
}

// QualityGateExecutionName is the execution name the partition-ready rule
// starts the quality gate under: "qg-<record type>-<dt>-<hash>", where the
// hash (12 hex digits of SHA-256) covers the bucket and the sorted silver
// files of the event. A repeated event (same files) gets the same name, so
// StartExecution answers ExecutionAlreadyExists and no second run starts;
// new data for the partition (other files) gets a new name and a new run.
// The name is a valid Step Functions name: at most 80 characters of
// [A-Za-z0-9_-]. The AWS quality_trigger Lambda uses the same function,
// since EventBridge targets cannot choose execution names.
func QualityGateExecutionName(d bus.PartitionReady) string {
	files := append([]string(nil), d.Files...)
	sort.Strings(files)
	h := sha256.New()
	h.Write([]byte(d.Bucket))
	for _, f := range files {
		h.Write([]byte{'\n'})
		h.Write([]byte(f))
	}
	return QualityGateNamePrefix(d.RecordType, d.Dt) + hex.EncodeToString(h.Sum(nil))[:12]
}

// safeName keeps [A-Za-z0-9_-] and replaces anything else by '_', so the
// result passes Step Functions' name rules whatever the input.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// SilverRoot is the silver prefix ("silver/") a partition prefix
// ("silver/<type>/dt=<dt>/") lives under; def when the prefix has another
// shape.
func SilverRoot(d bus.PartitionReady, def string) string {
	if root, ok := strings.CutSuffix(d.Prefix, d.RecordType+"/dt="+d.Dt+"/"); ok && d.RecordType != "" {
		return root
	}
	return def
}

// QualityGateInput is the quality-gate execution input for a partition
// (workflows/quality_gate, engineer B's schema): record_type, dt,
// silver_bucket and silver_prefix; result and quarantine prefixes are the
// workflow's defaults.
func QualityGateInput(d bus.PartitionReady, defaultSilverPrefix string) map[string]any {
	return map[string]any{
		"record_type":   d.RecordType,
		"dt":            d.Dt,
		"silver_bucket": d.Bucket,
		"silver_prefix": SilverRoot(d, defaultSilverPrefix),
	}
}
