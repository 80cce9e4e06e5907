// Package genesys is a thin Genesys Cloud CX Platform API client for
// queuewatch: OAuth client credentials, routing queues, the analytics
// queries that give real-time observations and interval service levels,
// the Notifications API and its WebSocket, and the parsing of queue
// analytics events into metric samples. It does not use the Genesys SDK;
// shared/reference/genesys.md records what the real API does.
//
// # One client per process
//
// New returns a Client that holds one access token for the whole process
// (requested once for concurrent callers, renewed before it expires,
// requests backed off when the token endpoint fails) and one request
// Budget (Options.RequestBudget per sliding minute, default 150 of the 300
// Genesys allows per OAuth client) that every call, token requests
// included, waits for. A 401 renews the token and retries once. A 429 is
// returned as an *APIError with RetryAfter and pauses the budget, so that
// every caller waits out Retry-After. Options.OnRequest sees every request
// (endpoint name, HTTP status) for metrics; Budget().InUse() tells how
// much of the minute is spent. Secrets never appear in errors or logs.
//
// # Polling
//
// A poller lists the queues once in a while and polls their figures:
//
//	qs, err := c.ListQueues(ctx, genesys.ListQueuesOptions{})  // pages of 100; remembers names and targets
//	qs = genesys.SelectQueues(qs, cfg.Queues, cfg.Exclude)
//	ids := genesys.QueueIDs(qs)
//	obs, err := c.QueueObservations(ctx, ids)                   // waiting, interacting, alerting, longest wait, agents
//	agg, err := c.ConversationAggregates(ctx, ids, genesys.Interval{Start: now.Add(-window), End: now})
//	samples := append(obs.Samples(obs.At), agg.Samples(agg.At)...) // service level, target, abandon rate, offered, ASA
//
// Each query carries at most 100 queue ids, so N queues cost
// 2·ceil(N/100) requests per poll.
//
// # Streaming
//
// A streamer reuses a channel across restarts when it can (ListChannels
// with "oauthclient", ChannelExists), else creates one (CreateChannel; a
// client has at most 20, the 21st evicts the least recently used),
// subscribes at most 1,000 topics per channel (StreamTopics gives each
// queue's observations topic, and its activity topic when asked: 1,000 or
// 500 queues per channel), resubscribes within 24 hours to keep it, and
// reads its socket:
//
//	sock, err := c.Dial(ctx, ch)
//	acc := genesys.NewAccumulator(func(id string) string { q, _ := c.KnownQueue(id); return q.Name })
//	for {
//		m, err := sock.Read(ctx)          // any error: reconnect, then poll once to fill the gap
//		switch m.Kind {
//		case genesys.KindEvent:
//			samples, err := acc.Parse(m.Raw, now)
//		case genesys.KindSocketClosing:   // reconnect now
//		case genesys.KindHeartbeat, genesys.KindPong: // the socket is alive
//		}
//	}
//
// Genesys sends a heartbeat about every 30 s; without one for a minute or
// so, Ping and reconnect if no pong comes. Events are not replayed after a
// reconnect. Accumulator.Seed with a poll's reports keeps stream totals
// right for queues whose media types report separately.
//
// # Notifications
//
// ParseEvent is queuewatch's one parser of queue analytics notifications
// (WebSocket message, Genesys or EventBridge envelope); its documentation
// gives the rules. The streamer and the webhook both parse with it and
// both keep queue totals in an Accumulator (NewBoundedAccumulator bounds
// one fed by untrusted senders). Time is always a parameter: an event is
// stamped, and its oLongestWaiting timestamp aged, at its own time, else
// at the caller's clock, so replays and fake clocks give exact figures.
// ParseNotificationAt turns one event into samples without state.
package genesys
