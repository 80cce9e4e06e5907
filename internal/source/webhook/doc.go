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
// Genesys notifications, raw or as an EventBridge detail, are parsed by
// the shared parser of the genesys package, genesys.ParseEvent, whose
// documentation gives the mapping; the webhook adds only its own checks
// (queue ids, values no metric can have) and answers 400 with the
// parser's error. An oLongestWaiting epoch timestamp is aged at the
// event's time (below), so a late delivery reports the wait as it was.
//
// Because an .observations event (and a tutorial event with a media_type)
// covers one media type only, the handler keeps the latest figures of
// every media type of a queue in a genesys.Accumulator, the same mechanism
// as the streamer's, and adds the queue totals over every media type seen
// to each event: counts add up, the longest wait is the longest (unknown
// while some media type has interactions waiting for an unknown time), the
// service level is the sum of numerators over the sum of denominators, and
// the interval figures of two 30-minute intervals are never mixed. From
// tutorial events only counts (waiting, interacting, alerting) and the
// longest wait are remembered. Genesys publishes on change, so the
// remembered figures stay current. Within one request a queue total is
// given once per metric, as it stands after the request's last event; a
// queue-level tutorial sample in the same request wins over it.
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
// event's own: tutorial timestamp (or time), the notification's timestamp
// (for EventBridge, detail.timestamp, else the envelope's time). Raw Genesys
// notifications usually carry none, so for them the X-Queuewatch-Timestamp
// header (Unix seconds or RFC 3339) is used. Only
// body timestamps are covered by the signature; the header guards against
// stale deliveries, not against an attacker replaying a captured request,
// which the duplicate check below still catches within its window.
// Timestamps are RFC 3339 strings or Unix times in seconds (or
// milliseconds, when above 10^11), except the notification's timestamp,
// which is RFC 3339 as Genesys writes it. Samples take the event's time, capped at
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
// id (the per-media figures above, of at most genesys.MaxMediaPerQueue
// media types). At most MaxQueues distinct queue ids are taken; samples of
// further queues are dropped and counted (Stats.DroppedSamples), and a
// request left with no sample is answered 200 {"status":"ignored"}. Queue
// ids over 128 bytes are refused.
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
