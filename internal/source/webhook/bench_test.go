package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// discardObserver accepts every sample.
type discardObserver struct{}

func (discardObserver) Observe(context.Context, ...metric.Sample) error { return nil }

// benchWriter is a ResponseWriter that keeps only the status.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkHandlerTutorialEvent measures the handler's own work for one
// signed tutorial event per request, as qwbench sends them: HMAC check,
// decoding, duplicate check, queue totals and the answer, with an
// Observer that does nothing (the engine is measured on its own).
func BenchmarkHandlerTutorialEvent(b *testing.B) {
	secret := []byte("bench-secret")
	h, err := New(Config{Secret: secret, Logger: slog.New(slog.DiscardHandler)}, discardObserver{})
	if err != nil {
		b.Fatal(err)
	}
	const queues = 3000
	ids := make([]string, queues)
	for i := range ids {
		ids[i] = "7a0c0cde-0000-4000-8000-" + strconv.FormatInt(int64(100000000000+i), 10)
	}
	// Signed bodies made in advance, each with its own event id: one more
	// than the duplicate check remembers, so that none repeats within it.
	type signed struct {
		body   []byte
		header http.Header
	}
	all := make([]signed, DefaultDedupSize+1)
	now := time.Now().UTC()
	for i := range all {
		var body []byte
		body = append(body, `{"event_id":"bench-`...)
		body = strconv.AppendInt(body, int64(i), 10)
		body = append(body, `","event_type":"com.genesiscloud.queue.metric","source":"qwbench","timestamp":"`...)
		body = now.AppendFormat(body, time.RFC3339Nano)
		body = append(body, `","data":{"queue_id":"`...)
		body = append(body, ids[i%queues]...)
		body = append(body, `","queue_name":"Queue `...)
		body = strconv.AppendInt(body, int64(i%queues), 10)
		body = append(body, `","media_type":"voice","metric":"longest_wait","value":`...)
		body = strconv.AppendInt(body, int64(i%240), 10)
		body = append(body, "}}"...)
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		all[i] = signed{body, http.Header{"X-Genesys-Cloud-Signature": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}}
	}
	w := &benchWriter{h: http.Header{}}
	req, _ := http.NewRequest(http.MethodPost, "/webhook/genesys", nil)
	rd := bytes.NewReader(nil)
	body := io.NopCloser(rd)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s := &all[i%len(all)]
		rd.Reset(s.body)
		req.Header, req.Body, req.ContentLength = s.header, body, int64(len(s.body))
		clear(w.h)
		h.ServeHTTP(w, req)
		if w.code != http.StatusAccepted {
			b.Fatalf("status %d", w.code)
		}
	}
}
