package workflows

import (
	"encoding/json"
	"io"
)

// newEncoder is the deterministic JSON style of committed files.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc
}
