package sim

import (
	"fmt"
	"hash/fnv"
)

// mix64 is the SplitMix64 finalizer: a fast bijective scrambler of 64 bits.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// uuid formats 128 bits as a version-4, RFC 4122 variant UUID string.
func uuid(hi, lo uint64) string {
	hi = hi&^(0xf<<12) | 0x4<<12
	lo = lo&^(0x3<<62) | 0x2<<62
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		hi>>32, (hi>>16)&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// conversationID returns the deterministic conversation id of the seq-th
// interaction of a queue.
func (q *queue) conversationID(seq uint64) string {
	x := mix64(q.idBase + seq)
	return uuid(x, mix64(x))
}
