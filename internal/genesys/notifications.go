package genesys

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxTopicsPerChannel is how many topics one channel may hold; Genesys
// answers 400 beyond it.
const MaxTopicsPerChannel = 1000

// MaxChannels is how many channels one OAuth client may have; creating one
// more evicts the least recently used.
const MaxChannels = 20

// Topic name parts of the analytics queue topics.
const (
	topicQueuePrefix       = "v2.analytics.queues."
	topicObservationSuffix = ".observations"
	topicActivitySuffix    = ".activity"
)

// ObservationsTopic returns the topic of a queue's observation events,
// v2.analytics.queues.{id}.observations.
func ObservationsTopic(queueID string) string {
	return topicQueuePrefix + queueID + topicObservationSuffix
}

// ActivityTopic returns the topic of a queue's activity events (waiting,
// interacting, alerting and longest wait per media type),
// v2.analytics.queues.{id}.activity.
func ActivityTopic(queueID string) string {
	return topicQueuePrefix + queueID + topicActivitySuffix
}

// QueueTopics returns the observations and activity topics of each queue.
func QueueTopics(queueIDs []string) []string {
	return StreamTopics(queueIDs, true)
}

// StreamTopics returns the observations topic of each queue and, when
// activity is true, its activity topic after it.
func StreamTopics(queueIDs []string, activity bool) []string {
	out := make([]string, 0, TopicsPerQueue(activity)*len(queueIDs))
	for _, id := range queueIDs {
		out = append(out, ObservationsTopic(id))
		if activity {
			out = append(out, ActivityTopic(id))
		}
	}
	return out
}

// TopicsPerQueue is how many topics StreamTopics gives each queue.
func TopicsPerQueue(activity bool) int {
	if activity {
		return 2
	}
	return 1
}

// ParseQueueTopic returns the queue id and kind ("observations" or
// "activity") of an analytics queue topic.
func ParseQueueTopic(topic string) (queueID, kind string, ok bool) {
	rest, ok := strings.CutPrefix(topic, topicQueuePrefix)
	if !ok {
		return "", "", false
	}
	for _, k := range []string{topicObservationSuffix, topicActivitySuffix} {
		if id, ok := strings.CutSuffix(rest, k); ok && id != "" && !strings.Contains(id, ".") {
			return id, k[1:], true
		}
	}
	return "", "", false
}

// Channel is a notification channel.
type Channel struct {
	ID string `json:"id"`
	// ConnectURI is the WebSocket URL of the channel; always use the one
	// Genesys returns.
	ConnectURI string    `json:"connectUri"`
	Expires    time.Time `json:"expires"`
}

// TopicState is a topic of a channel's subscription list.
type TopicState struct {
	ID                 string   `json:"id"`
	State              string   `json:"state,omitempty"` // Permitted | Rejected
	RejectionReason    string   `json:"rejectionReason,omitempty"`
	MissingPermissions []string `json:"missingPermissions,omitempty"`
}

// CreateChannel creates a notification channel. An OAuth client holds at
// most 20: the 21st evicts the least recently used, so reuse channels
// (ListChannels, ChannelExists) rather than creating one per start.
func (c *Client) CreateChannel(ctx context.Context) (Channel, error) {
	var ch Channel
	err := c.do(ctx, call{endpoint: EndpointChannels, method: http.MethodPost, path: "/api/v2/notifications/channels", out: &ch})
	if err != nil {
		return Channel{}, fmt.Errorf("genesys: creating a notification channel: %w", err)
	}
	return ch, nil
}

// ListChannels lists existing channels; include is "" (this token's),
// "token" or "oauthclient" (all of this OAuth client's).
func (c *Client) ListChannels(ctx context.Context, include string) ([]Channel, error) {
	var q url.Values
	if include != "" {
		q = url.Values{"includechannels": {include}}
	}
	var l struct {
		Entities []Channel `json:"entities"`
	}
	if err := c.do(ctx, call{endpoint: EndpointChannels, method: http.MethodGet, path: "/api/v2/notifications/channels", query: q, out: &l}); err != nil {
		return nil, fmt.Errorf("genesys: listing notification channels: %w", err)
	}
	return l.Entities, nil
}

// ChannelExists reports whether a channel still exists (HEAD).
func (c *Client) ChannelExists(ctx context.Context, channelID string) (bool, error) {
	err := c.do(ctx, call{endpoint: EndpointChannels, method: http.MethodHead, path: channelPath(channelID)})
	switch StatusOf(err) {
	case 0:
		if err != nil {
			return false, err
		}
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, err
}

func channelPath(id string) string {
	return "/api/v2/notifications/channels/" + url.PathEscape(id)
}

// Subscribe sets a channel's topics: replace true replaces the list (PUT),
// false adds to it (POST). Subscribing again also keeps the channel alive
// for another 24 hours. It returns the channel's topics with their state;
// topics Genesys rejected have State "Rejected".
func (c *Client) Subscribe(ctx context.Context, channelID string, topics []string, replace bool) ([]TopicState, error) {
	if len(topics) > MaxTopicsPerChannel {
		return nil, fmt.Errorf("genesys: %d topics is more than the %d a channel holds", len(topics), MaxTopicsPerChannel)
	}
	body := make([]TopicState, len(topics))
	for i, t := range topics {
		body[i] = TopicState{ID: t}
	}
	method := http.MethodPost
	if replace {
		method = http.MethodPut
	}
	var l struct {
		Entities []TopicState `json:"entities"`
	}
	err := c.do(ctx, call{endpoint: EndpointSubscriptions, method: method, path: channelPath(channelID) + "/subscriptions",
		query: url.Values{"ignoreErrors": {"false"}}, body: body, out: &l})
	if err != nil {
		return nil, fmt.Errorf("genesys: subscribing channel %s to %d topics: %w", channelID, len(topics), err)
	}
	return l.Entities, nil
}

// Subscriptions returns a channel's topics.
func (c *Client) Subscriptions(ctx context.Context, channelID string) ([]TopicState, error) {
	var l struct {
		Entities []TopicState `json:"entities"`
	}
	if err := c.do(ctx, call{endpoint: EndpointSubscriptions, method: http.MethodGet, path: channelPath(channelID) + "/subscriptions", out: &l}); err != nil {
		return nil, fmt.Errorf("genesys: listing the topics of channel %s: %w", channelID, err)
	}
	return l.Entities, nil
}

// Unsubscribe removes every topic of a channel.
func (c *Client) Unsubscribe(ctx context.Context, channelID string) error {
	if err := c.do(ctx, call{endpoint: EndpointSubscriptions, method: http.MethodDelete, path: channelPath(channelID) + "/subscriptions"}); err != nil {
		return fmt.Errorf("genesys: removing the topics of channel %s: %w", channelID, err)
	}
	return nil
}
