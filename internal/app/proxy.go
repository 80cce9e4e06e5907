package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/queuewatch/queuewatch/internal/store/postgres"
	"github.com/queuewatch/queuewatch/internal/web"
)

// Headers of the live reads a follower passes on to the leader.
const (
	// headerServedBy says which replica's memory answered a live read:
	// "leader", or "follower" when a follower answered it itself.
	headerServedBy = "X-Queuewatch-Served-By"
	// headerNotice carries, on a follower's own answer, why it did not
	// pass the request on to the leader.
	headerNotice = "X-Queuewatch-Follower-Notice"
	// headerProxied marks a request a follower passed on (its value is the
	// follower's replica name); such a request is never passed on again.
	headerProxied = "X-Queuewatch-Proxied-By"
)

// noticePrefix starts every follower notice.
const noticePrefix = "this replica is a follower; live data is on the leader, which it cannot reach: "

// leaderLookupEvery is how long a follower trusts what it last read about
// the leader; a failed request to the leader forgets it at once.
const leaderLookupEvery = time.Second

// leaderFinder reads the lease row. *postgres.Store satisfies it.
type leaderFinder interface {
	Leader(ctx context.Context, name string) (postgres.LeaderInfo, error)
}

// leaderProxy passes a follower's live reads (see web.Options.LiveReads)
// on to the leader at the URL it advertised, so that the dashboard shows
// the leader's series, charts and events behind a load balancer. The
// leader serves them itself, and so does a follower when it cannot reach
// the leader, adding a notice that says why. A request is passed on at
// most once, so replicas that disagree on who leads cannot loop.
type leaderProxy struct {
	leading   func() bool
	self      string // this replica's name
	lease     string // the lease row's name
	find      leaderFinder
	transport http.RoundTripper
	log       *slog.Logger
	// closing ends the streams passed on, with the server's own.
	closing func() <-chan struct{}

	mu         sync.Mutex
	target     leaderTarget
	lookedUpAt time.Time
	lastReason string // the last notice logged, so each is logged once
}

// leaderTarget is where live reads go: the leader's base URL, or why
// there is none to go to.
type leaderTarget struct {
	url    *url.URL
	reason string
}

// newLeaderProxy returns the proxy of the replica h; closing is the web
// server's Closing.
func newLeaderProxy(h *ha, closing func() <-chan struct{}, log *slog.Logger) *leaderProxy {
	return &leaderProxy{
		leading: func() bool { return h.elector.Epoch() != 0 },
		self:    h.elector.Holder(),
		lease:   h.elector.Name(),
		find:    h.st,
		transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		log:     log.With("component", "leader-proxy"),
		closing: closing,
	}
}

// wrap is web.Options.LiveReads.
func (p *leaderProxy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case p.leading():
			w.Header().Set(headerServedBy, "leader")
			next.ServeHTTP(w, r)
		case r.Header.Get(headerProxied) != "":
			// The sender took this replica for the leader; it falls back
			// on its own answer when it sees this one is a follower's.
			p.local(w, r, next, "the replica named as the leader is not leading")
		default:
			t := p.lookup(r.Context())
			if t.url == nil {
				p.local(w, r, next, t.reason)
				return
			}
			p.pass(w, r, next, t.url)
		}
	})
}

// lookup returns where the leader is, reading the lease row at most every
// leaderLookupEvery.
func (p *leaderProxy) lookup(ctx context.Context) leaderTarget {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.lookedUpAt.IsZero() && time.Since(p.lookedUpAt) < leaderLookupEvery {
		return p.target
	}
	// The answer is shared: a client leaving must not cut the lookup short.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	li, err := p.find.Leader(ctx, p.lease)
	var t leaderTarget
	switch {
	case err != nil:
		t.reason = "looking up the leader in the database failed: " + err.Error()
	case li.Holder == "" || !li.Live:
		t.reason = "no replica holds the leader lease; one takes over within leader_lease"
	case li.Holder == p.self:
		t.reason = "this replica is taking over the leadership"
	case li.URL == "":
		t.reason = fmt.Sprintf("the leader (%s) has no advertise_url configured", li.Holder)
	default:
		u, perr := url.Parse(li.URL)
		if perr != nil || u.Host == "" {
			t.reason = fmt.Sprintf("the leader (%s) advertises %q, which is not a URL", li.Holder, li.URL)
		} else {
			t.url = u
		}
	}
	p.target, p.lookedUpAt = t, time.Now()
	return t
}

// forget drops what lookup read, so the next request reads the lease row
// again.
func (p *leaderProxy) forget() {
	p.mu.Lock()
	p.lookedUpAt = time.Time{}
	p.mu.Unlock()
}

// errNotLeading is a passed-on request answered by a replica that no
// longer leads.
var errNotLeading = errors.New("it answered as a follower")

// pass sends r to the leader at target and streams its answer back; when
// that fails before anything was written, r is served here with a notice.
func (p *leaderProxy) pass(w http.ResponseWriter, r *http.Request, next http.Handler, target *url.URL) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	closing := p.closing()
	go func() {
		select {
		case <-closing: // shutting down: end event streams too
			cancel()
		case <-ctx.Done():
		}
	}()
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header.Set(headerProxied, p.self)
		},
		Transport:     p.transport,
		FlushInterval: -1, // the event stream flushes every event
		ModifyResponse: func(resp *http.Response) error {
			if resp.Header.Get(headerServedBy) != "leader" {
				return errNotLeading
			}
			switch resp.StatusCode {
			case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
				return fmt.Errorf("it answered %s", resp.Status)
			}
			p.mu.Lock()
			if p.lastReason != "" {
				p.lastReason = ""
				p.log.Info("passing live reads to the leader again", "leader", target.Redacted())
			}
			p.mu.Unlock()
			if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "text/event-stream" {
				// The stream outlives this server's write timeout.
				_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client left
			}
			if ctx.Err() != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `{"error":"this replica is shutting down"}`+"\n")
				return
			}
			p.forget()
			p.local(w, r, next, fmt.Sprintf("passing the request to %s failed: %v", target.Redacted(), err))
		},
		ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
	}
	rp.ServeHTTP(w, r.WithContext(ctx))
}

// local serves r from this replica's memory, saying why in a header and,
// through the request's context, in the JSON the dashboard shows.
func (p *leaderProxy) local(w http.ResponseWriter, r *http.Request, next http.Handler, reason string) {
	notice := noticePrefix + reason
	p.mu.Lock()
	changed := notice != p.lastReason
	p.lastReason = notice
	p.mu.Unlock()
	if changed {
		p.log.Warn("serving live reads from this follower's memory", "reason", reason)
	}
	w.Header().Set(headerServedBy, "follower")
	w.Header().Set(headerNotice, headerSafe(notice))
	next.ServeHTTP(w, r.WithContext(web.WithFollowerNotice(r.Context(), notice)))
}

// headerSafe makes s a single-line printable header value.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r > 0x7e {
			return ' '
		}
		return r
	}, s)
}
