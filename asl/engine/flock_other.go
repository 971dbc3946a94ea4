//go:build !unix

package engine

import "os"

// lockExclusive is unsupported here: every execution looks owned, so a
// stop request waits for its owner instead of closing it as orphaned.
func lockExclusive(*os.File) (bool, error) { return false, nil }

func lockExclusiveWait(*os.File) error { return nil }
