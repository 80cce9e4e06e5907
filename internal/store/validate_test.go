package store

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/queuewatch/queuewatch/internal/alert"
)

func TestValidateTransition(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	good := func() alert.Transition {
		ep := &alert.Episode{ID: "e1", Key: "k", Start: at}
		return alert.Transition{Key: "k", At: at, Destinations: []string{"a", "a"}, Episode: ep,
			Series: alert.SeriesState{Key: "k", Episode: ep}}
	}
	if err := ValidateTransition(good()); err != nil {
		t.Fatalf("valid transition refused: %v", err)
	}
	for name, spoil := range map[string]func(*alert.Transition){
		"no key":             func(x *alert.Transition) { x.Key = "" },
		"zero at":            func(x *alert.Transition) { x.At = time.Time{} },
		"at out of range":    func(x *alert.Transition) { x.At = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"series key":         func(x *alert.Transition) { x.Series.Key = "other" },
		"episode id":         func(x *alert.Transition) { x.Episode = &alert.Episode{Key: "k"} },
		"series episode key": func(x *alert.Transition) { x.Series.Episode = &alert.Episode{ID: "e", Key: "j"} },
		"episode start": func(x *alert.Transition) {
			x.Episode = &alert.Episode{ID: "e", Key: "k", Start: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}
		},
		"NaN threshold":     func(x *alert.Transition) { x.Threshold = math.NaN() },
		"Inf worst":         func(x *alert.Transition) { x.Episode = &alert.Episode{ID: "e", Key: "k", Worst: math.Inf(-1)} },
		"empty destination": func(x *alert.Transition) { x.Destinations = []string{""} },
	} {
		x := good()
		spoil(&x)
		if err := ValidateTransition(x); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", name, err)
		}
	}
}

func TestValidateRequests(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	for name, err := range map[string]error{
		"claim without owner":   ClaimRequest{Now: now, Lease: time.Second}.Validate(),
		"claim without now":     ClaimRequest{Owner: "w", Lease: time.Second}.Validate(),
		"claim without lease":   ClaimRequest{Owner: "w", Now: now}.Validate(),
		"claim with huge lease": ClaimRequest{Owner: "w", Now: now, Lease: math.MaxInt64}.Validate(),
		"inflight outcome":      Outcome{Status: StatusInflight, At: now}.Validate(),
		"pending without next":  Outcome{Status: StatusPending, At: now}.Validate(),
		"outcome without at":    Outcome{Status: StatusSent}.Validate(),
		"ref without episode":   Ref{Destination: "d"}.Validate(),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", name, err)
		}
	}
	for name, err := range map[string]error{
		"claim":   ClaimRequest{Owner: "w", Now: now, Lease: time.Second}.Validate(),
		"sent":    Outcome{Status: StatusSent, At: now}.Validate(),
		"pending": Outcome{Status: StatusPending, At: now, NextAttemptAt: now}.Validate(),
		"dead":    Outcome{Status: StatusDead, At: now}.Validate(),
		"ref":     Ref{Destination: "d", EpisodeID: "e"}.Validate(),
	} {
		if err != nil {
			t.Errorf("%s refused: %v", name, err)
		}
	}
}
