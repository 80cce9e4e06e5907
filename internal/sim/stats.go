package sim

import "time"

// WindowStats counts what happened in a queue over the rolling window
// (Config.Window) that ends at the time it was taken. Answers and abandons
// count when they happen, offers when the interaction arrives.
type WindowStats struct {
	Offered          int           // interactions that entered the queue (nOffered)
	Answered         int           // interactions answered by an agent (tAnswered count)
	AnsweredInTarget int           // of those, answered within the queue's TargetAnswer
	Abandoned        int           // interactions abandoned while waiting (tAbandon count)
	AnswerWait       time.Duration // total time to answer of Answered (tAnswered sum)
	AbandonWait      time.Duration // total time to abandon of Abandoned (tAbandon sum)
}

func (w *WindowStats) add(o outcome, target time.Duration, sign int) {
	if o.answered {
		w.Answered += sign
		w.AnswerWait += time.Duration(sign) * o.wait
		if o.wait <= target {
			w.AnsweredInTarget += sign
		}
		return
	}
	w.Abandoned += sign
	w.AbandonWait += time.Duration(sign) * o.wait
}

// ServiceLevel returns the share, in percent, of answered and abandoned
// interactions that were answered within the target time, as Genesys
// computes oServiceLevel with its default switches; it is 100 when there
// were none.
func (w WindowStats) ServiceLevel() float64 {
	n := w.Answered + w.Abandoned
	if n == 0 {
		return 100
	}
	return 100 * float64(w.AnsweredInTarget) / float64(n)
}

// AbandonRate returns abandoned interactions as a percentage of offered
// ones, capped at 100 (abandons in the window may come from interactions
// offered before it); it is 0 when nothing was offered or abandoned.
func (w WindowStats) AbandonRate() float64 {
	if w.Abandoned == 0 {
		return 0
	}
	if w.Offered <= w.Abandoned {
		return 100
	}
	return 100 * float64(w.Abandoned) / float64(w.Offered)
}

// ASA returns the average speed of answer, or 0 when nothing was answered.
func (w WindowStats) ASA() time.Duration {
	if w.Answered == 0 {
		return 0
	}
	return w.AnswerWait / time.Duration(w.Answered)
}

// Totals counts what happened in a queue since the simulation began,
// including any warm-up. Subtracting two snapshots' Totals gives the
// figures for the interval between them, which is how a fake Genesys
// server can answer aggregate queries over any interval.
type Totals struct {
	Offered          int64
	Answered         int64
	AnsweredInTarget int64
	Abandoned        int64
	Completed        int64         // answered interactions whose handling ended
	AnswerWait       time.Duration // total time to answer
	AbandonWait      time.Duration // total time to abandon
	Handle           time.Duration // total handle time of Completed
}

func (t *Totals) add(o outcome, target time.Duration) {
	if o.answered {
		t.Answered++
		t.AnswerWait += o.wait
		if o.wait <= target {
			t.AnsweredInTarget++
		}
		return
	}
	t.Abandoned++
	t.AbandonWait += o.wait
}

// QueueState is one queue's figures at one instant of simulated time, as a
// fake Genesys server would serve them from its observation and aggregate
// endpoints.
type QueueState struct {
	ID            string
	Name          string
	MediaType     string
	TargetPercent float64
	TargetAnswer  time.Duration
	At            time.Time

	Waiting     int // oWaiting
	Alerting    int // oAlerting
	Interacting int // oInteracting
	// OldestWaiting is when the oldest waiting interaction entered the
	// queue (what oLongestWaiting reports, as epoch milliseconds), or the
	// zero time when nobody waits.
	OldestWaiting time.Time
	LongestWait   time.Duration

	MemberAgents    int // agents who are members of the queue (QueueSpec.Agents)
	RosteredAgents  int // agents workforce management scheduled for now
	OnQueueAgents   int // agents on queue: idle, alerting or interacting
	AvailableAgents int // agents on queue and idle (routing status IDLE)
	// Incidents lists the kinds of incident in force on the queue.
	Incidents []IncidentKind

	Window WindowStats
	Totals Totals
}

// OffQueueAgents returns the members who are not on queue.
func (s QueueState) OffQueueAgents() int { return max(s.MemberAgents-s.OnQueueAgents, 0) }

// InteractionState is where an interaction is in a queue.
type InteractionState string

// The states an interaction in a queue can be in.
const (
	StateWaiting     InteractionState = "waiting"
	StateAlerting    InteractionState = "alerting"
	StateInteracting InteractionState = "interacting"
)

// Interaction is one interaction currently in a queue, for the detail
// observations (observations[]) of a fake Genesys server.
type Interaction struct {
	ConversationID string
	State          InteractionState
	Entered        time.Time // when it entered the queue
	Since          time.Time // when it entered State
}
