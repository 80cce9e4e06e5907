// Package webhook is the HTTP source of queuewatch: an http.Handler for
// POST {webhook.path} that turns pushed queue metrics into metric.Samples and
// hands them to an Observer (the alert engine).
//
// # Envelopes
//
// Each event is one JSON object; its envelope is detected from its keys:
//
//   - event_type: the tutorial envelope {id, event_id, timestamp, time,
//     event_type, source, data{queue_id, queue_name, media_type, metric,
//     value, unit}}. Only event_type "com.genesiscloud.queue.metric" is
//     evaluated; any other event_type is ignored. The metric may be one of
//     queuewatch's own names (service_level, longest_wait, …) or a common
//     alias (sla, current_sla, wait_time_seconds, calls_in_queue,
//     agents_available, oWaiting, …); unit converts the value (longest_wait
//     in "ms" or "min", service_level as a "ratio", …). An unknown metric or
//     unit is a 400, so a misconfigured relay is noticed.
//   - detail-type or detail: the Amazon EventBridge envelope {id, time,
//     detail-type, detail{topicName, eventBody, metadata, timestamp}}. The
//     detail is a Genesys notification and is read as below.
//   - topicName: the Genesys notification envelope {topicName, eventBody,
//     metadata{CorrelationId}}. Topics v2.analytics.queues.{id}.observations
//     and v2.analytics.queues.{id}.activity are evaluated; any other topic
//     (including channel.metadata heartbeats) is ignored.
//
// A body may also be a JSON array of such events (a batch), in any mix of
// envelopes. A batch is validated as a whole: one malformed or unauthentic
// item rejects the request and nothing in it is evaluated. Ignored and
// duplicate items are skipped; the rest are evaluated in one Observe call.
//
// # Genesys notification bodies
//
// An .observations body is one group {queueId, mediaType} of metrics.
// Interaction metrics (oWaiting, oInteracting, oAlerting, oLongestWaiting
// and the interval aggregates nOffered, tAnswered, tAbandon, oServiceLevel)
// become samples of the group's media type; rows of one metric with
// different qualifiers are summed. Agent metrics (oOnQueueUsers summed over
// its routing-status qualifiers, or oUserRoutingStatuses without OFF_QUEUE;
// available agents are the IDLE ones) are per queue, so they always become
// queue samples (empty MediaType). An .activity body lists every media type
// of the queue, so besides the per-media samples it yields queue totals: the
// sum of the counts and the largest longest wait. oLongestWaiting values
// above 10^12 are epoch milliseconds of the oldest waiting interaction and
// become its age at the event's time; smaller values are durations in ms.
//
// Because an .observations event (and a tutorial event with a media_type)
// covers one media type only, the handler also remembers the latest
// waiting, interacting and alerting figure of every media type of a queue
// and adds the queue total to such events. Genesys publishes on change, so
// the remembered figures stay current.
//
// # Authentication
//
// A request is authentic when it carries X-Genesys-Cloud-Signature:
// sha256=<hex HMAC-SHA256 of the raw body keyed with webhook.secret>, or
// Authorization: Bearer <one of webhook.tokens> (as an EventBridge API
// destination sends). Both comparisons are constant-time. New refuses to
// build a handler with neither, unless Insecure is set; an insecure handler
// accepts requests without credentials but still rejects wrong ones.
//
// # Replay window
//
// When MaxAge is positive, every evaluated event needs a timestamp within
// MaxAge of the server clock, in either direction; otherwise the request is
// refused with 401 (400 when the timestamp is missing). The timestamp is the
// event's own: tutorial timestamp (or time), EventBridge time (or
// detail.timestamp). Raw Genesys notifications carry none, so for them the
// X-Queuewatch-Timestamp header (Unix seconds or RFC 3339) is used. Only
// body timestamps are covered by the signature; the header guards against
// stale deliveries, not against an attacker replaying a captured request,
// which the duplicate check below still catches within its window.
// Timestamps are RFC 3339 strings or Unix times in seconds (or
// milliseconds, when above 10^11). Samples take the event's time, capped at
// the server's time, or the time of receipt when the event has none.
//
// # Duplicates
//
// An event id is the tutorial event_id (else id), the EventBridge id, or
// the topic and metadata.CorrelationId of a Genesys notification. An id
// accepted within DedupWindow is answered 200 {"status":"duplicate"} and not
// evaluated again. Ids are remembered only after Observe succeeded, and a
// request carrying an id that is being evaluated waits for that evaluation,
// so a sender's retry is never lost and never evaluated twice. At most
// DedupSize ids are remembered; the oldest are forgotten first.
//
// # Bounded memory
//
// Besides the remembered ids, the handler keeps a little state per queue
// id (the per-media figures above). At most MaxQueues distinct queue ids
// are taken; samples of further queues are dropped and counted
// (Stats.DroppedSamples), and a request left with no sample is answered
// 200 {"status":"ignored"}. Queue ids over 128 bytes are refused.
//
// # Answers
//
// 202 {"status":"accepted","samples":N} once Observe returned nil, that is
// once every transition the samples caused is durable; 200
// {"status":"ignored","reason":…}; 200 {"status":"duplicate"}; 400 bad JSON
// or shape; 401 authentication or replay window; 405 not POST; 413 body
// over MaxBody; 503 with Retry-After when Observe failed. Every error body
// is {"error":"…"} and never contains a secret.
package webhook
