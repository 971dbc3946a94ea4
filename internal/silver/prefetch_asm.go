//go:build amd64 || arm64

package silver

// prefetch asks the CPU to start loading the cache line of *p without
// waiting for it (PREFETCHT0 / PRFM PLDL1KEEP); it has no other effect.
//
//go:noescape
func prefetch(p *uint64)
