// Package poll is the polling source of queuewatch: it discovers the
// Genesys Cloud queues to watch and polls their real-time observations and
// interval aggregates, in batches of at most 100 queue ids, within the
// customer's request budget, and hands the queue totals to an Observer
// (the alert engine) as metric samples from metric.SourcePoll.
//
// # Discovery
//
// Run lists the queues on start and every Options.DiscoveryInterval,
// keeps those matching Options.Queues and none of Options.Exclude, and
// emits each queue's service_level_target samples from its configuration,
// so that new and renamed queues are picked up without a restart.
//
// # Budget
//
// One poll of N queues costs 2·ceil(N/100) requests (observations and
// aggregates per batch). The poller plans to spend Options.BudgetShare
// (80 %) of the per-minute budget on polls, less what discovery costs,
// leaving the rest for discovery bursts and the streamer's REST calls.
// When polling every Options.Interval would spend more, the effective
// interval is stretched; the poller says so once in its log and in
// Status. The batches of one poll are spread over the interval rather
// than sent in a burst. The client's shared genesys.Budget remains the
// hard limit.
//
// # Failures
//
// The poller never stops on errors. A 429 (or a budget paused by an
// earlier 429) skips the rest of the poll until Retry-After has passed;
// other failures back off exponentially from the interval up to
// Options.MaxBackoff. Status reports the last error and the failures in a
// row.
//
// # With the stream
//
// When the notification stream is healthy (SetStreamHealthy), polls slow
// to a reconciliation rate: four intervals or a minute, whichever is
// longer. PollNow polls every queue at once, for the streamer to fill the
// gap after each reconnect; LastReports gives what it found, for the
// streamer's accumulator.
package poll
