//go:build unix

package engine

import (
	"errors"
	"os"
	"syscall"
)

// lockExclusive takes a non-blocking exclusive flock on f. It reports false
// (and no error) when another open file holds it: in another process, or
// another engine of this one (flock locks belong to the open file).
func lockExclusive(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// lockExclusiveWait takes an exclusive flock on f, waiting for a holder
// (only ever a stopper briefly checking a fresh execution) to let go.
func lockExclusiveWait(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
