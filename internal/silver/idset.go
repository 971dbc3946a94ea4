package silver

import (
	"hash/maphash"
	"math/bits"
	"sync"
)

// idSet is the per-chunk set of event ids seen, for deduplication. A chunk
// holds hundreds of thousands of ids, and a map[string]struct{} made this
// the hottest part of the loop (a cache miss per lookup into a large table
// of string headers). Here the table is one uint64 per slot: 32 bits of the
// id's hash and 32 bits of the id's number; the id itself is compared only
// when the hash bits match. The ids' bytes are copied into one growing
// buffer (data, with ends[j] the end of id j): no pointers for the GC to
// scan, no allocation per id, and the parser's string blocks are not kept
// alive for the whole chunk.
type idSet struct {
	seed  maphash.Seed
	slots []uint64 // hash32<<32 | (number+1); 0 = empty
	data  []byte
	ends  []int
}

// idSets recycles dedupe tables between chunks. A table is megabytes and a
// worker converts chunk after chunk: reusing the last one (clearing it is
// cheap) keeps the heap from holding an old and a new table at once and
// saves touching fresh pages, which page faults make expensive. A pool has
// no observable state: a table taken from it is reset first.
var idSets sync.Pool

// newIDSet sizes the table for about expect ids (0: a small default).
func newIDSet(expect int) *idSet {
	size := 1 << 12
	if expect > 0 {
		size = 1 << bits.Len(uint(2*expect))
	}
	if s, ok := idSets.Get().(*idSet); ok {
		if len(s.slots) == size {
			clear(s.slots)
			s.data, s.ends = s.data[:0], s.ends[:0]
			s.seed = maphash.MakeSeed()
			return s
		}
		idSets.Put(s) // another size: leave it for a chunk that fits
	}
	return &idSet{seed: maphash.MakeSeed(), slots: make([]uint64, size),
		data: make([]byte, 0, 16*size/2), ends: make([]int, 0, size/2)}
}

// release gives the table back for reuse; s must not be used afterwards.
func (s *idSet) release() { idSets.Put(s) }

func (s *idSet) len() int { return len(s.ends) }

// id returns id j (transient: it aliases data).
func (s *idSet) id(j int) []byte {
	start := 0
	if j > 0 {
		start = s.ends[j-1]
	}
	return s.data[start:s.ends[j]]
}

// add inserts id and reports whether it was already present.
func (s *idSet) add(id string) bool { return s.addHashed(id, s.hash(id)) }

// hash is the hash add uses for id.
func (s *idSet) hash(id string) uint64 { return maphash.String(s.seed, id) }

// prefetch starts loading the slot where the probe for hash h begins, so
// a later addHashed(id, h) finds it in cache: the table is megabytes and
// the probe is otherwise a cache miss per record.
func (s *idSet) prefetch(h uint64) {
	prefetch(&s.slots[h&uint64(len(s.slots)-1)])
}

// addHashed is add with id's hash (from hash) already computed.
func (s *idSet) addHashed(id string, h uint64) bool {
	if 2*(len(s.ends)+1) > len(s.slots) {
		s.grow()
	}
	tag := h >> 32
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		v := s.slots[i]
		if v == 0 {
			s.data = append(s.data, id...)
			s.ends = append(s.ends, len(s.data))
			s.slots[i] = tag<<32 | uint64(len(s.ends))
			return false
		}
		if v>>32 == tag && string(s.id(int(uint32(v)-1))) == id {
			return true
		}
	}
}

func (s *idSet) grow() {
	s.slots = make([]uint64, 2*len(s.slots))
	mask := uint64(len(s.slots) - 1)
	for j := range s.ends {
		h := maphash.Bytes(s.seed, s.id(j))
		i := h & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = (h>>32)<<32 | uint64(j+1)
	}
}
