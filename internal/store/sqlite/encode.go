package sqlite

import (
	"time"

	"github.com/queuewatch/queuewatch/internal/store/codec"
)

// The row encoding is shared with the PostgreSQL store (package codec).

func ns(t time.Time) int64      { return codec.NS(t) }
func fromNS(n int64) time.Time  { return codec.FromNS(n) }
func utc(t time.Time) time.Time { return codec.UTC(t) }
