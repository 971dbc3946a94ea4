package embedded

import (
	"fmt"
	"path/filepath"

	"github.com/serverless-elt/elt/internal/objstore/fsstore"
)

// OpenStore opens the stack's object store alone (<data-dir>/store). It takes
// no locks, so uploads work while a stack runs on the same data dir.
func OpenStore(cfg Config) (*fsstore.Store, error) {
	cfg = cfg.WithDefaults()
	st, err := fsstore.New(filepath.Join(cfg.DataDir, "store"), fsstore.Options{Now: cfg.Now})
	if err != nil {
		return nil, fmt.Errorf("open object store: %w", err)
	}
	return st, nil
}
