// Package schema holds the JSON Schemas generated from Go types by
// `go run ./cmd/aslgen` (ASL, task inputs and outputs, record types). The
// files are generated, committed, and never edited by hand; this package
// embeds them so validators need no file system access at run time.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed *.json
var files embed.FS

// Read returns the schema file with the given name, e.g. "asl.schema.json".
func Read(name string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	return b, nil
}

// Names lists the embedded schema files in sorted order.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
