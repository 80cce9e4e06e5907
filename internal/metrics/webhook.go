package metrics

import "github.com/prometheus/client_golang/prometheus"

// WebhookQueueStats reports the webhook's queue cap: how many distinct queue
// ids it tracks and how many samples of further queues it dropped.
type WebhookQueueStats func() (queues int, dropped uint64)

// ObserveWebhookQueues registers queuewatch_webhook_queues and
// queuewatch_webhook_dropped_samples_total, read from f on each scrape.
func (m *Metrics) ObserveWebhookQueues(f WebhookQueueStats) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "queuewatch_webhook_queues",
			Help: "Distinct queue ids the webhook tracks (at most its queue limit).",
		}, func() float64 { q, _ := f(); return float64(q) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "queuewatch_webhook_dropped_samples_total",
			Help: "Webhook samples dropped because their queue is new and the queue limit is reached.",
		}, func() float64 { _, d := f(); return float64(d) }),
	)
}
