package web

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
)

func TestEventsCarryTransitionsAndSilences(t *testing.T) {
	e := newEnv(t, nil)
	s := e.openEvents("", "")
	e.observe(salesID, "Sales", e.now, map[metric.Name]float64{metric.ServiceLevel: 50})
	ev := s.next(t, 5*time.Second, false)
	var tr alert.Transition
	if err := json.Unmarshal([]byte(ev.data), &tr); err != nil {
		t.Fatal(err)
	}
	if ev.typ != EventTransition || tr.QueueName != "Sales" || tr.To != "firing" || tr.Action != "create" || ev.id == "" {
		t.Fatalf("event %s %s, want Sales firing with a create", ev.typ, ev.data)
	}
	if code := e.do("POST", "/api/v1/silences", testToken, `{"queues":["*"],"duration":"1h","comment":"drill"}`, nil); code != 201 {
		t.Fatalf("create silence answered %d", code)
	}
	ev = s.next(t, 5*time.Second, false)
	if ev.typ != EventSilence || !strings.Contains(ev.data, `"change":"created"`) || !strings.Contains(ev.data, `"comment":"drill"`) {
		t.Fatalf("event %s %s, want the created silence", ev.typ, ev.data)
	}
	if c := s.next(t, 5*time.Second, true); !c.comment || !strings.HasPrefix(c.data, ": ping") {
		t.Errorf("idle stream sent %+v, want a heartbeat comment", c)
	}
}

func TestEventsResumeAfterLastEventID(t *testing.T) {
	e := newEnv(t, nil)
	hub := e.srv.Hub()
	for i := 1; i <= 5; i++ {
		hub.Publish(EventDelivery, deliveryJSON{Destination: "oncall", Action: "create", Result: "sent", LatencySecs: float64(i)})
	}
	// A client that saw event 3 gets 4 and 5, in order, then live ones.
	s := e.openEvents("3", "")
	for _, want := range []string{"4", "5"} {
		if ev := s.next(t, 5*time.Second, false); ev.id != want || ev.typ != EventDelivery {
			t.Fatalf("replayed %+v, want event %s", ev, want)
		}
	}
	hub.Publish(EventHealth, Health{Store: "ok"})
	if ev := s.next(t, 5*time.Second, false); ev.id != "6" || ev.typ != EventHealth {
		t.Fatalf("live event %+v, want health 6", ev)
	}

	// Ids from before a restart, or older than the backlog, mean a resync.
	for _, last := range []string{"999", "garbage"} {
		s := e.openEvents(last, "")
		if ev := s.next(t, 5*time.Second, false); ev.typ != EventResync {
			t.Errorf("Last-Event-ID %s: first event %+v, want resync", last, ev)
		}
	}
	for i := 0; i < hubBacklog+10; i++ {
		hub.Publish(EventHealth, Health{Store: "ok"})
	}
	s = e.openEvents("2", "")
	ev := s.next(t, 5*time.Second, false)
	if ev.typ != EventResync || ev.id != strconv.FormatUint(hub.LastID(), 10) {
		t.Errorf("gap beyond the backlog: %+v, want resync at %d", ev, hub.LastID())
	}
	// The query parameter works like the header.
	s = e.openEvents("", "?lastEventId="+strconv.FormatUint(hub.LastID()-1, 10))
	if ev := s.next(t, 5*time.Second, false); ev.id != strconv.FormatUint(hub.LastID(), 10) {
		t.Errorf("lastEventId parameter replayed %+v, want the last event", ev)
	}
}

func TestSlowSubscriberIsCutOff(t *testing.T) {
	hub := NewHub()
	ch, _, _ := hub.subscribe(0, false)
	for i := 0; i < subBuffer+1; i++ {
		hub.Publish(EventHealth, Health{})
	}
	n := 0
	for range ch { // closed once it fell behind
		n++
	}
	if n != subBuffer {
		t.Errorf("slow subscriber got %d events before being cut off, want %d", n, subBuffer)
	}
}

func TestCloseStreamsEndsOpenStreams(t *testing.T) {
	e := newEnv(t, nil)
	s := e.openEvents("", "")
	e.srv.CloseStreams()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-s.ch:
			if !ok {
				return // ended
			}
		case <-deadline:
			t.Fatal("the event stream is still open after CloseStreams")
		}
	}
}
