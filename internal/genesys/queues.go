package genesys

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"time"

	"github.com/queuewatch/queuewatch/internal/metric"
)

// queuePageSize is the page size used to list queues.
const queuePageSize = 100

// maxQueuePages stops a listing whose paging never ends.
const maxQueuePages = 10000

// ServiceLevel is a queue's service-level target for one media type:
// Percent of interactions answered within Threshold.
type ServiceLevel struct {
	Percent   float64       // 0-100 (Genesys stores a fraction 0-1)
	Threshold time.Duration // durationMs
}

// Queue is a routing queue and the settings queuewatch uses.
type Queue struct {
	ID                string
	Name              string
	Description       string
	DivisionID        string
	DivisionName      string
	MemberCount       int
	JoinedMemberCount int
	// Targets holds the service-level target per analytics media type
	// ("voice", "chat", "email", "callback", "message", …); the queue
	// setting "call" is reported as "voice".
	Targets map[string]ServiceLevel
}

// AnalyticsMediaType maps a queue mediaSettings key to the media type
// analytics uses: "call" is "voice"; the others are the same.
func AnalyticsMediaType(setting string) string {
	if setting == "call" {
		return "voice"
	}
	return setting
}

// Target returns the queue's target for a media type, or for the queue as
// a whole when mediaType is "": the voice target when there is one, else
// that of the first media type in lexical order.
func (q Queue) Target(mediaType string) (ServiceLevel, bool) {
	if mediaType != "" {
		t, ok := q.Targets[mediaType]
		return t, ok
	}
	if t, ok := q.Targets["voice"]; ok {
		return t, true
	}
	keys := make([]string, 0, len(q.Targets))
	for k := range q.Targets {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return ServiceLevel{}, false
	}
	sort.Strings(keys)
	return q.Targets[keys[0]], true
}

// TargetSamples returns service_level_target samples of the queue: one per
// media type and one for the queue as a whole (see Target).
func (q Queue) TargetSamples(at time.Time, src metric.Source) []metric.Sample {
	keys := make([]string, 0, len(q.Targets))
	for k := range q.Targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []metric.Sample
	if t, ok := q.Target(""); ok {
		out = append(out, metric.Sample{QueueID: q.ID, QueueName: q.Name, Metric: metric.ServiceLevelTarget, Value: t.Percent, At: at, Source: src})
	}
	for _, k := range keys {
		out = append(out, metric.Sample{QueueID: q.ID, QueueName: q.Name, MediaType: k, Metric: metric.ServiceLevelTarget, Value: q.Targets[k].Percent, At: at, Source: src})
	}
	return out
}

// wireQueue is the API's Queue, reduced to the fields used.
type wireQueue struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Division    *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"division"`
	MemberCount       int `json:"memberCount"`
	JoinedMemberCount int `json:"joinedMemberCount"`
	MediaSettings     map[string]struct {
		ServiceLevel *struct {
			Percentage float64 `json:"percentage"`
			DurationMs float64 `json:"durationMs"`
		} `json:"serviceLevel"`
	} `json:"mediaSettings"`
}

func (w wireQueue) queue() Queue {
	q := Queue{ID: w.ID, Name: w.Name, Description: w.Description, MemberCount: w.MemberCount,
		JoinedMemberCount: w.JoinedMemberCount, Targets: map[string]ServiceLevel{}}
	if w.Division != nil {
		q.DivisionID, q.DivisionName = w.Division.ID, w.Division.Name
	}
	for k, ms := range w.MediaSettings {
		// Genesys gives the target as a fraction; a value outside 0-1 (or a
		// negative duration) is no target at all.
		if sl := ms.ServiceLevel; sl == nil || !(sl.Percentage >= 0 && sl.Percentage <= 1) || !(sl.DurationMs >= 0 && sl.DurationMs <= maxSum) {
			continue
		}
		q.Targets[AnalyticsMediaType(k)] = ServiceLevel{
			Percent:   ms.ServiceLevel.Percentage * 100,
			Threshold: time.Duration(ms.ServiceLevel.DurationMs * float64(time.Millisecond)),
		}
	}
	return q
}

// queueListing is the API's QueueEntityListing.
type queueListing struct {
	Entities   []wireQueue `json:"entities"`
	PageSize   int         `json:"pageSize"`
	PageNumber int         `json:"pageNumber"`
	Total      int         `json:"total"`
	PageCount  int         `json:"pageCount"`
	NextURI    string      `json:"nextUri"`
}

// ListQueuesOptions narrows ListQueues.
type ListQueuesOptions struct {
	// Name is an exact name, or one with a leading and/or trailing "*".
	Name string
	// IDs limits the listing to these queue ids.
	IDs []string
}

// ListQueues returns every queue matching opts (all queues when opts is
// zero), paging through GET /api/v2/routing/queues 100 at a time. The
// queues are remembered, so that analytics results carry their names and
// targets.
func (c *Client) ListQueues(ctx context.Context, opts ListQueuesOptions) ([]Queue, error) {
	var out []Queue
	for page := 1; page <= maxQueuePages; page++ {
		q := url.Values{
			"pageSize":   {strconv.Itoa(queuePageSize)},
			"pageNumber": {strconv.Itoa(page)},
		}
		if opts.Name != "" {
			q.Set("name", opts.Name)
		}
		for _, id := range opts.IDs {
			q.Add("id", id)
		}
		var l queueListing
		if err := c.do(ctx, call{endpoint: EndpointQueues, method: "GET", path: "/api/v2/routing/queues", query: q, out: &l}); err != nil {
			return out, fmt.Errorf("genesys: listing queues (page %d): %w", page, err)
		}
		for _, w := range l.Entities {
			out = append(out, w.queue())
		}
		last := l.NextURI == ""
		if l.PageCount > 0 {
			last = page >= l.PageCount
		}
		if len(l.Entities) == 0 || last {
			break
		}
	}
	c.remember(out...)
	return out, nil
}

// GetQueue returns one queue by id. An unknown id gives an *APIError with
// Status 404.
func (c *Client) GetQueue(ctx context.Context, id string) (Queue, error) {
	var w wireQueue
	if err := c.do(ctx, call{endpoint: EndpointQueue, method: "GET", path: "/api/v2/routing/queues/" + url.PathEscape(id), out: &w}); err != nil {
		return Queue{}, err
	}
	q := w.queue()
	c.remember(q)
	return q, nil
}

// remember adds queues to the client's directory.
func (c *Client) remember(qs ...Queue) {
	c.mu.Lock()
	for _, q := range qs {
		c.queues[q.ID] = q
	}
	c.mu.Unlock()
}

// KnownQueue returns a queue the client listed or fetched before.
func (c *Client) KnownQueue(id string) (Queue, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	q, ok := c.queues[id]
	return q, ok
}

// SelectQueues returns the queues matching any of include and none of
// exclude, in their order. A pattern matches a queue whose id it equals, or
// whose name it matches as a path.Match glob ("*" matches every queue).
// Malformed patterns match nothing.
func SelectQueues(queues []Queue, include, exclude []string) []Queue {
	var out []Queue
	for _, q := range queues {
		if matchAny(include, q) && !matchAny(exclude, q) {
			out = append(out, q)
		}
	}
	return out
}

func matchAny(patterns []string, q Queue) bool {
	for _, p := range patterns {
		if p == q.ID || p == "*" {
			return true
		}
		if ok, _ := path.Match(p, q.Name); ok {
			return true
		}
	}
	return false
}

// QueueIDs returns the ids of queues, in order.
func QueueIDs(queues []Queue) []string {
	out := make([]string, len(queues))
	for i, q := range queues {
		out[i] = q.ID
	}
	return out
}
