package notify

import "github.com/queuewatch/queuewatch/internal/config"

// FromConfig returns the dispatcher's view of a configured destination sent
// through n: its name, type, timeout, workers, rate limit and retry timings.
// MaxAttempts keeps its default.
func FromConfig(c config.Destination, n Notifier) Destination {
	return Destination{
		Name:     c.Name,
		Type:     c.Type,
		Notifier: n,
		Timeout:  c.Timeout.D(),
		Workers:  c.Workers,
		Rate:     c.Rate,
		Burst:    c.Burst,
		Backoff: Backoff{
			Initial:       c.Retry.Initial.D(),
			Max:           c.Retry.Max.D(),
			MaxRetryAfter: c.Retry.MaxRetryAfter.D(),
		},
	}
}
