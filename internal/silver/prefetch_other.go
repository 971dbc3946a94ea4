//go:build !amd64 && !arm64

package silver

// prefetch is a no-op where no prefetch instruction is wired up.
func prefetch(p *uint64) {}
