package notify

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/store"
)

func TestFromConfig(t *testing.T) {
	n := &fakeNotifier{}
	got := FromConfig(config.Destination{
		Name: "oncall", Type: "opsgenie", APIKey: "secret", Timeout: config.Duration(7 * time.Second),
		Rate: 5, Burst: 10, Workers: 16, Retry: config.Retry{Initial: config.Duration(time.Second),
			Max: config.Duration(time.Minute), MaxRetryAfter: config.Duration(2 * time.Minute)},
	}, n)
	want := Destination{Name: "oncall", Type: "opsgenie", Notifier: n, Timeout: 7 * time.Second, Rate: 5, Burst: 10, Workers: 16,
		Backoff: Backoff{Initial: time.Second, Max: time.Minute, MaxRetryAfter: 2 * time.Minute}}
	if got.Name != want.Name || got.Type != want.Type || got.Notifier != want.Notifier || got.Timeout != want.Timeout ||
		got.Rate != want.Rate || got.Burst != want.Burst || got.Workers != want.Workers || got.Backoff.Initial != want.Backoff.Initial ||
		got.Backoff.Max != want.Backoff.Max || got.Backoff.MaxRetryAfter != want.Backoff.MaxRetryAfter {
		t.Errorf("FromConfig = %+v, want %+v", got, want)
	}
}

// syncBuffer is a bytes.Buffer safe for the dispatcher's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogs(t *testing.T) {
	st, c := openStore(t), newFakeClock(base)
	var logs syncBuffer
	n := &fakeNotifier{fn: func(context.Context, store.Delivery, *store.Ref) (Receipt, error) {
		return Receipt{}, &Error{Reason: "not_in_channel", Hint: "invite the bot to the channel", Code: 200}
	}}
	commit(t, st, tr("q1_sla", "e1", alert.ActionCreate, base, "cc-slack", "gone"))
	start(t, NewDispatcher(st, []Destination{{Name: "cc-slack", Type: "slack", Notifier: n}},
		Options{Clock: c, Tick: time.Hour, Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	waitFor(t, "the dead letter", func() bool { return countStatus(t, st, "cc-slack", store.StatusDead) == 1 })
	out := logs.String()
	for _, want := range []string{
		`destination=gone pending=1`,
		`destination=cc-slack type=slack delivery=1 key=q1_sla action=create attempt=1 code=200 ` +
			`reason="not_in_channel (invite the bot to the channel)"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if testing.Verbose() {
		t.Log(out)
	}
}
