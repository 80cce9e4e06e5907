package web

import (
	"context"
	"net/http"
)

// noticeKey carries a follower notice in a request's context.
type noticeKey struct{}

// WithFollowerNotice returns ctx carrying notice, the sentence a follower
// serving live reads from its own memory adds to them (as follower_notice)
// for the dashboard to show as a banner: why the leader's live data could
// not be had.
func WithFollowerNotice(ctx context.Context, notice string) context.Context {
	return context.WithValue(ctx, noticeKey{}, notice)
}

// followerNotice returns the notice r carries, or "".
func followerNotice(r *http.Request) string {
	n, _ := r.Context().Value(noticeKey{}).(string)
	return n
}

// live wraps a read that comes from this process's memory (the engine's
// series, the chart history, the event hub, the sources' health) with
// Options.LiveReads, which may serve it from another replica instead.
func (s *Server) live(h http.HandlerFunc) http.HandlerFunc {
	if s.opts.LiveReads == nil {
		return h
	}
	return s.opts.LiveReads(h).ServeHTTP
}

// withNotice adds r's follower notice, if any, to a JSON body.
func withNotice(r *http.Request, body map[string]any) map[string]any {
	if n := followerNotice(r); n != "" {
		body["follower_notice"] = n
	}
	return body
}
