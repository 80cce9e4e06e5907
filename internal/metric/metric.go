// Package metric defines the queue metric vocabulary and the Sample type that
// every source produces and the engine consumes.
package metric

import (
	"fmt"
	"sort"
	"time"
)

// Name is a metric name from the external contract, such as "service_level".
type Name string

// The metric vocabulary. Units are given by Lookup.
const (
	ServiceLevel       Name = "service_level"
	ServiceLevelTarget Name = "service_level_target"
	LongestWait        Name = "longest_wait"
	Waiting            Name = "waiting"
	Interacting        Name = "interacting"
	Alerting           Name = "alerting"
	OnQueueAgents      Name = "on_queue_agents"
	AvailableAgents    Name = "available_agents"
	AbandonRate        Name = "abandon_rate"
	Offered            Name = "offered"
	ASA                Name = "asa"
)

// Unit is the unit a metric's values are expressed in.
type Unit string

// Units used by the vocabulary.
const (
	Percent Unit = "percent"
	Seconds Unit = "seconds"
	Count   Unit = "count"
)

// Info describes one metric of the vocabulary.
type Info struct {
	Name        Name
	Unit        Unit
	Description string
}

var vocabulary = map[Name]Info{
	ServiceLevel:       {ServiceLevel, Percent, "share of interactions answered within the queue's service-level time, 0-100"},
	ServiceLevelTarget: {ServiceLevelTarget, Percent, "the queue's own service-level target for the media type, 0-100"},
	LongestWait:        {LongestWait, Seconds, "age of the oldest interaction waiting in the queue"},
	Waiting:            {Waiting, Count, "interactions waiting to be answered"},
	Interacting:        {Interacting, Count, "interactions being handled by agents"},
	Alerting:           {Alerting, Count, "interactions ringing at an agent"},
	OnQueueAgents:      {OnQueueAgents, Count, "agents on queue, in any routing status"},
	AvailableAgents:    {AvailableAgents, Count, "agents on queue and idle, ready to take an interaction"},
	AbandonRate:        {AbandonRate, Percent, "share of offered interactions abandoned before answer, 0-100"},
	Offered:            {Offered, Count, "interactions offered to the queue in the current interval"},
	ASA:                {ASA, Seconds, "average speed of answer in the current interval"},
}

// Lookup returns the description of a metric and whether it is known.
func Lookup(n Name) (Info, bool) {
	i, ok := vocabulary[n]
	return i, ok
}

// Names returns every known metric name in lexical order.
func Names() []Name {
	out := make([]Name, 0, len(vocabulary))
	for n := range vocabulary {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Format renders v in the metric's unit for people, e.g. "82.5%" or "4m10s".
func Format(n Name, v float64) string {
	info, _ := Lookup(n)
	switch info.Unit {
	case Percent:
		return trimFloat(v) + "%"
	case Seconds:
		d := time.Duration(v * float64(time.Second)).Round(time.Second)
		return d.String()
	default:
		return trimFloat(v)
	}
}

func trimFloat(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}

// Source names where a sample came from.
type Source string

// Known sources.
const (
	SourceStream  Source = "stream"
	SourcePoll    Source = "poll"
	SourceWebhook Source = "webhook"
	SourceReplay  Source = "replay"
	SourceSim     Source = "sim"
)

// Sample is one observation of one metric of one queue at one time.
//
// MediaType is empty for queue totals across media types, or a Genesys
// analytics media type such as "voice", "chat", "email", "callback" or
// "message" for a per-media figure.
type Sample struct {
	QueueID   string
	QueueName string
	MediaType string
	Metric    Name
	Value     float64
	At        time.Time
	Source    Source
}

// ordinal numbers the vocabulary for compact per-queue storage.
var ordinal = func() map[Name]int {
	m := make(map[Name]int, len(vocabulary))
	for i, n := range Names() {
		m[n] = i
	}
	return m
}()

// Len is the number of metrics in the vocabulary.
var Len = len(vocabulary)

// Index returns a metric's position in Names(), for array-indexed storage.
func Index(n Name) (int, bool) {
	i, ok := ordinal[n]
	return i, ok
}
