package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// TutorialEventType is the only tutorial event_type that is evaluated.
const TutorialEventType = "com.genesiscloud.queue.metric"

// maxQueueID bounds the length of a queue id (Genesys ids are 36-byte UUIDs).
const maxQueueID = 128

// tutorialAliases maps the metric names relays and the tutorials use (in
// lower case, with '-', ' ' and '.' written as '_') to the vocabulary.
// queuewatch's own names are accepted as they are.
var tutorialAliases = map[string]metric.Name{
	"sla":                     metric.ServiceLevel,
	"sla_percentage":          metric.ServiceLevel,
	"slapercentage":           metric.ServiceLevel,
	"current_sla":             metric.ServiceLevel,
	"service_level_percent":   metric.ServiceLevel,
	"oservicelevel":           metric.ServiceLevel,
	"sla_target":              metric.ServiceLevelTarget,
	"target_sla":              metric.ServiceLevelTarget,
	"targetsla":               metric.ServiceLevelTarget,
	"slatarget":               metric.ServiceLevelTarget,
	"wait_time":               metric.LongestWait,
	"wait_time_seconds":       metric.LongestWait,
	"longest_wait_time":       metric.LongestWait,
	"longest_waiting":         metric.LongestWait,
	"olongestwaiting":         metric.LongestWait,
	"calls_in_queue":          metric.Waiting,
	"calls_waiting":           metric.Waiting,
	"queue_depth":             metric.Waiting,
	"owaiting":                metric.Waiting,
	"ointeracting":            metric.Interacting,
	"oalerting":               metric.Alerting,
	"agents_available":        metric.AvailableAgents,
	"idle_agents":             metric.AvailableAgents,
	"agents_on_queue":         metric.OnQueueAgents,
	"oonqueueusers":           metric.OnQueueAgents,
	"abandonment_rate":        metric.AbandonRate,
	"noffered":                metric.Offered,
	"calls_offered":           metric.Offered,
	"average_speed_of_answer": metric.ASA,
	"avg_speed_of_answer":     metric.ASA,
}

// unitFactors gives, per unit of the vocabulary, the factor that converts a
// value written in each accepted unit name (normalised) into that unit.
var unitFactors = map[metric.Unit]map[string]float64{
	metric.Seconds: {
		"": 1, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
		"ms": 0.001, "msec": 0.001, "millis": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
		"m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
		"h": 3600, "hour": 3600, "hours": 3600,
	},
	metric.Percent: {
		"": 1, "%": 1, "percent": 1, "pct": 1, "percentage": 1,
		"ratio": 100, "fraction": 100,
	},
	metric.Count: {
		"": 1, "count": 1, "number": 1, "calls": 1, "interactions": 1,
		"conversations": 1, "contacts": 1, "agents": 1, "users": 1,
	},
}

// unitHelp lists the usual unit names of each unit, for error messages.
var unitHelp = map[metric.Unit]string{
	metric.Seconds: "seconds, ms or minutes",
	metric.Percent: "percent or ratio",
	metric.Count:   "count",
}

// nameReplacer writes '-', ' ' and '.' as '_'.
var nameReplacer = strings.NewReplacer("-", "_", " ", "_", ".", "_")

// normName lower-cases a metric or unit name and writes '-', ' ' and '.' as '_'.
func normName(s string) string {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '%'
	}
	if plain {
		return s // already normal: the common case
	}
	return nameReplacer.Replace(strings.ToLower(strings.TrimSpace(s)))
}

// tutorialMetric maps a tutorial metric name to the vocabulary.
func tutorialMetric(name string) (metric.Name, bool) {
	n := normName(name)
	if _, ok := metric.Lookup(metric.Name(n)); ok {
		return metric.Name(n), true
	}
	m, ok := tutorialAliases[n]
	return m, ok
}

// convertUnit converts v, written in unit, into the unit of metric m, and
// checks that the result is a plausible value of m.
func convertUnit(m metric.Name, unit string, v float64) (float64, error) {
	info, _ := metric.Lookup(m)
	f, ok := unitFactors[info.Unit][normName(unit)]
	if !ok {
		return 0, fmt.Errorf("field data.unit: %s is not a unit of %s; use %s", quote(unit), m, unitHelp[info.Unit])
	}
	v *= f
	if v < 0 {
		return 0, fmt.Errorf("field data.value: %s cannot be negative", m)
	}
	if v > maxValue {
		return 0, fmt.Errorf("field data.value: %g is implausibly large for %s", v, m)
	}
	if info.Unit == metric.Percent && v > 100+1e-9 {
		return 0, fmt.Errorf("field data.value: %s is a percentage; %g is over 100", m, v)
	}
	return v, nil
}

// checkQueueID rejects empty, overlong or unprintable queue ids.
func checkQueueID(id, field string) error {
	switch {
	case id == "":
		return fmt.Errorf("missing field %s", field)
	case len(id) > maxQueueID:
		return fmt.Errorf("field %s: a queue id is at most %d bytes", field, maxQueueID)
	case !printableASCII(id) && strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\uFFFD' }) >= 0:
		return fmt.Errorf("field %s: %s contains spaces or control characters", field, quote(id))
	}
	return nil
}

// printableASCII reports whether s is ASCII without spaces or control
// characters.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// normMedia normalises a media type: lower case, "call" is "voice".
func normMedia(m string) string {
	m = strings.ToLower(strings.TrimSpace(m))
	if m == "call" {
		return "voice"
	}
	return m
}

// tutorial decodes the tutorial envelope from its top-level fields.
func (d *decoder) tutorial(keys map[string]json.RawMessage) (event, error) {
	return d.tutorialFrom(tutorialRaw{eventID: keys["event_id"], id: keys["id"], timestamp: keys["timestamp"],
		time: keys["time"], eventType: keys["event_type"], data: keys["data"]})
}

// tutorialFrom decodes the tutorial envelope from the raw values of its
// fields.
func (d *decoder) tutorialFrom(f tutorialRaw) (event, error) {
	ev := event{kind: kindTutorial}
	var err error
	for _, fld := range []struct {
		name string
		raw  json.RawMessage
	}{{"event_id", f.eventID}, {"id", f.id}} {
		if ev.id, err = asString(fld.raw, fld.name); err != nil {
			return event{}, err
		}
		if ev.id != "" {
			ev.key = kindTutorial + ":" + ev.id
			break
		}
	}
	for _, fld := range []struct {
		name string
		raw  json.RawMessage
	}{{"timestamp", f.timestamp}, {"time", f.time}} {
		if ev.at, err = asTime(fld.raw, fld.name); err != nil {
			return event{}, err
		}
		if !ev.at.IsZero() {
			break
		}
	}
	typ, err := asString(f.eventType, "event_type")
	if err != nil {
		return event{}, err
	}
	if typ != TutorialEventType {
		ev.ignored = fmt.Sprintf("event_type %s is not %s", quote(typ), TutorialEventType)
		return ev, nil
	}
	raw := f.data
	if isNull(raw) {
		return event{}, errors.New("missing field data")
	}
	data := f.fields
	if data == nil {
		data = &tutorialData{}
		if err := json.Unmarshal(raw, data); err != nil {
			return event{}, fmt.Errorf("field data: expected an object, got %s", jsonKind(raw))
		}
	}
	s := metric.Sample{At: d.sampleTime(ev.at), Source: metric.SourceWebhook}
	if s.QueueID, err = asString(data.QueueID, "data.queue_id"); err != nil {
		return event{}, err
	}
	if err := checkQueueID(s.QueueID, "data.queue_id"); err != nil {
		return event{}, err
	}
	if s.QueueName, err = asString(data.QueueName, "data.queue_name"); err != nil {
		return event{}, err
	}
	media, err := asString(data.MediaType, "data.media_type")
	if err != nil {
		return event{}, err
	}
	s.MediaType = normMedia(media)
	name, err := asString(data.Metric, "data.metric")
	if err != nil {
		return event{}, err
	}
	if name == "" {
		return event{}, errors.New("missing field data.metric")
	}
	m, ok := tutorialMetric(name)
	if !ok {
		return event{}, fmt.Errorf("field data.metric: %s is not a known metric; use one of %s", quote(name), knownMetrics())
	}
	s.Metric = m
	if isNull(data.Value) {
		return event{}, errors.New("missing field data.value")
	}
	v, err := asNumber(data.Value, "data.value")
	if err != nil {
		return event{}, err
	}
	unit, err := asString(data.Unit, "data.unit")
	if err != nil {
		return event{}, err
	}
	if s.Value, err = convertUnit(m, unit, v); err != nil {
		return event{}, err
	}
	ev.samples = []metric.Sample{s}
	return ev, nil
}

// knownMetrics lists the vocabulary for error messages.
func knownMetrics() string {
	names := metric.Names()
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return strings.Join(out, ", ")
}
