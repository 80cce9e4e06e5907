package notify

import (
	"context"
	"testing"
	"time"
)

// journaledNotifier is a fakeNotifier that takes a journal.
type journaledNotifier struct {
	fakeNotifier
	j Journal
}

func (n *journaledNotifier) UseJournal(j Journal) { n.j = j }

// TestDispatcherHandsJournalKeptInStore: a notifier that wants a journal
// gets one per destination; its notes live in the store, apart from the
// episodes' refs and from other destinations' notes, and survive a new
// dispatcher on the same store (a restart).
func TestDispatcherHandsJournalKeptInStore(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	a, b := &journaledNotifier{}, &journaledNotifier{}
	NewDispatcher(st, []Destination{{Name: "a", Notifier: a}, {Name: "b", Notifier: b}}, Options{})
	if a.j == nil || b.j == nil {
		t.Fatal("a Journaled notifier got no journal")
	}
	if err := a.j.Put(ctx, "slack-post/7", "posting 1"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := b.j.Get(ctx, "slack-post/7"); err != nil || ok {
		t.Errorf("destination b sees a's note (ok %v, err %v)", ok, err)
	}
	if _, err := st.GetRef(ctx, "a", "slack-post/7"); err == nil {
		t.Error("the note is readable as an episode's ref")
	}
	again := &journaledNotifier{}
	NewDispatcher(st, []Destination{{Name: "a", Notifier: again}}, Options{})
	v, at, ok, err := again.j.Get(ctx, "slack-post/7")
	if err != nil || !ok || v != "posting 1" {
		t.Fatalf("after a restart: %q, %v, %v; want the note", v, ok, err)
	}
	if time.Since(at) > time.Hour || at.IsZero() {
		t.Errorf("note written at %v", at)
	}
}
