// Package metrics holds queuewatch's Prometheus metrics, named as in the
// external contract (prefix queuewatch_), and the adapters that feed them
// from the engine, the sources, the dispatcher and the Genesys client.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/queuewatch/queuewatch/internal/alert"
	"github.com/queuewatch/queuewatch/internal/metric"
)

// Metrics are the process's metrics on their own registry.
type Metrics struct {
	reg *prometheus.Registry

	SamplesReceived     *prometheus.CounterVec   // source
	WebhookRequests     *prometheus.CounterVec   // result
	Transitions         *prometheus.CounterVec   // rule, to
	Notifications       *prometheus.CounterVec   // destination, action, result
	NotificationLatency *prometheus.HistogramVec // destination
	GenesysRequests     *prometheus.CounterVec   // endpoint, code
	GenesysConnected    prometheus.Gauge
}

// New registers every metric, plus the Go runtime and process collectors.
// alerts and pending are read on each scrape: alerts counts open series by
// state, pending the outbox rows owed per destination.
func New(alerts func() map[alert.State]int, pending func(ctx context.Context) (map[string]int, error)) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		SamplesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "queuewatch_samples_received_total", Help: "Queue metric samples received, by source.",
		}, []string{"source"}),
		WebhookRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "queuewatch_webhook_requests_total", Help: "Webhook requests, by result (accepted, duplicate, ignored, unauthorized, …).",
		}, []string{"result"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "queuewatch_transitions_total", Help: "Committed alert state transitions, by rule and new state.",
		}, []string{"rule", "to"}),
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "queuewatch_notifications_total", Help: "Notification attempts, by destination, action and result (sent, retry, dead, or a failure reason).",
		}, []string{"destination", "action", "result"}),
		NotificationLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "queuewatch_notification_latency_seconds",
			Help:    "Time from a transition to its notification being accepted by the destination.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"destination"}),
		GenesysRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "queuewatch_genesys_requests_total", Help: "Genesys Cloud API requests, by endpoint and HTTP status (0: no answer).",
		}, []string{"endpoint", "code"}),
		GenesysConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "queuewatch_genesys_stream_connected", Help: "1 while the Genesys notifications websocket is connected.",
		}),
	}
	m.reg.MustRegister(m.SamplesReceived, m.WebhookRequests, m.Transitions, m.Notifications,
		m.NotificationLatency, m.GenesysRequests, m.GenesysConnected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if alerts != nil {
		m.reg.MustRegister(&alertsCollector{f: alerts})
	}
	if pending != nil {
		m.reg.MustRegister(&pendingCollector{f: pending})
	}
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Transition counts one committed transition.
func (m *Metrics) Transition(t alert.Transition) {
	m.Transitions.WithLabelValues(t.Rule, string(t.To)).Inc()
}

// Samples counts samples received from a source.
func (m *Metrics) Samples(src metric.Source, n int) {
	m.SamplesReceived.WithLabelValues(string(src)).Add(float64(n))
}

// GenesysRequest counts one Genesys API request (genesys.Options.OnRequest).
func (m *Metrics) GenesysRequest(endpoint string, code int) {
	m.GenesysRequests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
}

// Sent implements notify.Observer.
func (m *Metrics) Sent(destination, action string, latency time.Duration) {
	m.Notifications.WithLabelValues(destination, action, "sent").Inc()
	m.NotificationLatency.WithLabelValues(destination).Observe(latency.Seconds())
}

// Failed implements notify.Observer; reason is a short label such as
// rate_limited or server_error.
func (m *Metrics) Failed(destination, action, reason string, retryable bool) {
	result := reason
	if result == "" {
		result = "error"
	}
	m.Notifications.WithLabelValues(destination, action, result).Inc()
}

// Dead implements notify.Observer.
func (m *Metrics) Dead(destination, action, reason string) {
	m.Notifications.WithLabelValues(destination, action, "dead").Inc()
}

var alertsDesc = prometheus.NewDesc("queuewatch_alerts", "Series by alert state (pending, firing, resolving).", []string{"state"}, nil)

type alertsCollector struct{ f func() map[alert.State]int }

func (c *alertsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- alertsDesc }

func (c *alertsCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.f()
	for _, s := range []alert.State{alert.Pending, alert.Firing, alert.Resolving} {
		ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}

var pendingDesc = prometheus.NewDesc("queuewatch_outbox_pending", "Deliveries owed (pending or in flight), by destination.", []string{"destination"}, nil)

type pendingCollector struct {
	f func(ctx context.Context) (map[string]int, error)
}

func (c *pendingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- pendingDesc }

func (c *pendingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.f(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(pendingDesc, err)
		return
	}
	for dest, n := range counts {
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(n), dest)
	}
}
