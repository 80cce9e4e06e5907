// Package stream is the push source of queuewatch: it subscribes to the
// Genesys Cloud notification topics of every watched queue
// (v2.analytics.queues.{id}.observations and .activity), reads the
// notification WebSockets, and hands the figures to an Observer (the alert
// engine) as metric samples from metric.SourceStream, within about a
// second of Genesys publishing them.
//
// # Channels
//
// A channel holds at most 1,000 topics, so 500 queues; the streamer opens
// as many channels (and sockets, one per channel) as the queues need,
// up to the 20 an OAuth client may have. It reuses channels rather than
// creating new ones: on Run it lists the OAuth client's channels
// (ListChannels "oauthclient"), plus Options.Channels saved from a
// previous run, and takes those that still exist (ChannelExists) before
// creating any, since a 21st channel evicts the oldest. It resubscribes
// every Options.ResubscribeEvery (23 h) to keep channels past their 24-hour
// expiry, and replaces a channel's topics when the queue ids change.
//
// # Sockets
//
// Each socket is watched: when nothing (heartbeat, pong or event) came
// for half of Options.HeartbeatTimeout, the streamer sends
// {"message":"ping"}; when nothing came for the whole timeout, it
// reconnects. v2.system.socket_closing makes it reconnect at once. Other
// failures reconnect with exponential backoff and jitter; a channel that
// no longer exists is replaced. Events are not replayed, so after every
// (re)connect the streamer asks the Poller for one poll (PollNow) to fill
// the gap, and seeds its accumulator with that poll's figures when the
// Poller implements Seeder.
//
// # Health
//
// The stream is healthy (Connected, Options.OnState,
// Poller.SetStreamHealthy) while every watched queue's topics are
// subscribed, permitted, and on an open socket; the poller then slows to
// its reconciliation rate, and speeds up again as soon as it is not.
//
// # Wiring
//
// Create the genesys.Client, then the poller, then the streamer with the
// poller in Options.Poller, and run both:
//
//	p := poll.New(client, engine, pollOptions)
//	s := stream.New(client, engine, stream.Options{Poller: p, ...})
//	go p.Run(ctx)
//	go s.Run(ctx, p.QueueIDs)
package stream
