package asl

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Deployment-time values (function ARNs, topic ARNs, bucket names) appear in
// definitions as Terraform templatefile placeholders "${name}". The set of
// placeholders of a workflow is part of its API: Terraform must bind each.
// "$${" is Terraform's escape for a literal "${" and is not a placeholder.

var placeholderRE = regexp.MustCompile(`\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Placeholders returns the sorted, distinct placeholder names in sm.
func Placeholders(sm *StateMachine) []string {
	data, err := Encode(sm)
	if err != nil {
		return nil
	}
	return PlaceholdersIn(data)
}

// PlaceholdersIn returns the sorted, distinct placeholder names in data.
func PlaceholdersIn(data []byte) []string {
	seen := map[string]bool{}
	for _, m := range placeholderRE.FindAllSubmatch(data, -1) {
		if bytes.HasPrefix(m[0], []byte("$$")) {
			continue
		}
		seen[string(m[1])] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Substitute replaces every "${name}" in a JSON definition with its value,
// the way Terraform's templatefile does, except that values are escaped for
// a JSON string (placeholders always sit inside strings in our definitions),
// so a value cannot break the document. "$${" becomes a literal "${". It
// fails, naming every one, when a placeholder has no value.
func Substitute(data []byte, values map[string]string) ([]byte, error) {
	var missing []string
	out := placeholderRE.ReplaceAllFunc(data, func(m []byte) []byte {
		if bytes.HasPrefix(m, []byte("$$")) {
			return m[1:]
		}
		name := string(m[2 : len(m)-1])
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		var buf bytes.Buffer
		writeString(&buf, v)
		return buf.Bytes()[1 : buf.Len()-1]
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("unbound placeholders: %s", strings.Join(dedupe(missing), ", "))
	}
	return out, nil
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
