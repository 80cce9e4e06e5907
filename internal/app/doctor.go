package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/queuewatch/queuewatch/internal/config"
	"github.com/queuewatch/queuewatch/internal/genesys"
	"github.com/queuewatch/queuewatch/internal/metric"
	"github.com/queuewatch/queuewatch/internal/notify"
	"github.com/queuewatch/queuewatch/internal/notify/opsgenie"
	"github.com/queuewatch/queuewatch/internal/notify/slack"
)

// Outcomes of a doctor check.
const (
	checkPass = "PASS"
	checkFail = "FAIL"
	checkWarn = "WARN"
	checkSkip = "SKIP"
)

const (
	// doctorTimeout bounds each request doctor sends.
	doctorTimeout = 15 * time.Second
	// doctorHeartbeatInterval is the interval of the OpsGenie heartbeats
	// doctor creates: serve pings every minute while healthy, so a
	// heartbeat pages after about five missed pings.
	doctorHeartbeatInterval = 5 * time.Minute
	// probeQueueID stands in for a queue when the OAuth client sees none,
	// so that the analytics permissions can still be probed.
	probeQueueID = "00000000-0000-4000-8000-000000000000"
	// roleHint says where the permissions of a client-credentials token
	// come from.
	roleHint = "the role is the one assigned to the OAuth client under Admin > Integrations > OAuth > <client> > Roles"
)

// genesysPermission is a permission the OAuth client's role needs, and
// which metrics depend on it.
type genesysPermission struct {
	name    string
	ui      string // where it is in Admin > Roles / Permissions > <role> > Permissions
	feature string
	// metrics are the rule metrics that need it; nil means queuewatch
	// needs it whatever the rules.
	metrics []metric.Name
}

var (
	permQueueView = genesysPermission{
		name: "routing:queue:view", ui: "Routing > Queue > View",
		feature: "listing the queues and their service-level targets",
	}
	permQueueObservation = genesysPermission{
		name: "analytics:queueObservation:view", ui: "Analytics > Queue Observation > View",
		feature: "current figures (waiting, longest wait, agents) and the queue topics",
		metrics: []metric.Name{metric.Waiting, metric.LongestWait, metric.Interacting, metric.Alerting, metric.OnQueueAgents, metric.AvailableAgents},
	}
	permConversationAggregate = genesysPermission{
		name: "analytics:conversationAggregate:view", ui: "Analytics > Conversation Aggregate > View",
		feature: "interval figures (service level, abandon rate, offered, ASA)",
		metrics: []metric.Name{metric.ServiceLevel, metric.AbandonRate, metric.Offered, metric.ASA},
	}
)

// Doctor checks that a configuration works against the real services and
// prints one line per check to out: PASS, FAIL, WARN or SKIP, what was
// checked, and for problems what to do about them. It checks, in order:
//
//   - the configuration (already valid when it was loaded);
//   - the Genesys Cloud hosts the environment resolves to (names are not
//     looked up; the token request proves the login host is reachable);
//   - the OAuth client credentials, by requesting a token;
//   - each permission the OAuth client's role needs, by the cheapest call
//     that needs it, mapping a 403 answer to the missing permission;
//   - how many queues genesys.queues and genesys.exclude select;
//   - whether the queue topics are permitted, by subscribing a new
//     notification channel to one queue's two topics and removing the
//     subscription again (a new process holds a new token, and Genesys
//     hides the ids of other tokens' channels, so there is none to reuse;
//     when the OAuth client already has twenty channels, Genesys evicts
//     the least recently used unconnected one, so the connected channel of
//     a running serve is left alone);
//   - each destination's authentication: OpsGenie/JSM by an authenticated
//     read (and its heartbeat, created when missing), Slack by auth.test
//     and the bot's membership of the channel, PagerDuty by the shape of
//     its routing key; webhooks are skipped.
//
// No secret is printed. Doctor returns an error when any check failed.
func Doctor(ctx context.Context, cfg *config.Config, out io.Writer) error {
	d := &doctor{cfg: cfg, out: out, client: &http.Client{}, counts: map[string]int{}, secrets: configSecrets(cfg)}
	file := cfg.File
	if file == "" {
		file = "the configuration"
	}
	d.report(checkPass, "config", fmt.Sprintf("%s is valid: %d rules, %d destinations", file, len(cfg.Rules), len(cfg.Destinations)), "")
	d.genesys(ctx)
	d.destinations(ctx)
	total := 0
	for _, n := range d.counts {
		total += n
	}
	fmt.Fprintf(out, "doctor: %d checks: %d passed, %d failed, %d warned, %d skipped\n",
		total, d.counts[checkPass], d.counts[checkFail], d.counts[checkWarn], d.counts[checkSkip])
	if n := d.counts[checkFail]; n > 0 {
		return fmt.Errorf("%d of %d checks failed", n, total)
	}
	return nil
}

// doctor holds the state of one Doctor run.
type doctor struct {
	cfg     *config.Config
	out     io.Writer
	client  *http.Client
	counts  map[string]int
	secrets []string
}

// report prints one check's line: "STATUS what — detail; fix: fix".
func (d *doctor) report(status, what, detail, fix string) {
	d.counts[status]++
	line := status + " " + what + " — " + detail
	if fix != "" {
		line += "; fix: " + fix
	}
	for _, s := range d.secrets {
		line = strings.ReplaceAll(line, s, "[redacted]")
	}
	fmt.Fprintln(d.out, line)
}

// configSecrets returns every secret of the configuration, so that report
// can remove any that an answer happened to echo.
func configSecrets(cfg *config.Config) []string {
	all := []config.Secret{cfg.APIToken, cfg.Genesys.ClientSecret, cfg.Webhook.Secret}
	all = append(all, cfg.Webhook.Tokens...)
	for _, d := range cfg.Destinations {
		all = append(all, d.APIKey, d.Token, d.RoutingKey, d.Secret)
	}
	var out []string
	for _, s := range all {
		// Very short values would mangle ordinary words.
		if v := s.Value(); len(v) >= 4 {
			out = append(out, v)
		}
	}
	return out
}

// ruleUses reports whether any rule watches one of the metrics.
func (d *doctor) ruleUses(metrics []metric.Name) bool {
	for _, r := range d.cfg.Rules {
		if slices.Contains(metrics, metric.Name(r.Metric)) {
			return true
		}
	}
	return false
}

// genesys runs the Genesys Cloud checks.
func (d *doctor) genesys(ctx context.Context) {
	g := d.cfg.Genesys
	if g.ClientID == "" {
		d.report(checkSkip, "genesys", "no client_id configured: queuewatch only listens to its webhook ("+d.cfg.Webhook.Path+")", "")
		return
	}
	opts := genesys.OptionsFromConfig(g)
	opts.HTTPClient = d.client
	opts.RequestTimeout = doctorTimeout
	c, err := genesys.New(opts)
	if err != nil {
		d.report(checkFail, "genesys client", err.Error(), "check genesys.environment, api_url and login_url")
		return
	}
	login := d.hosts(g, c)
	if !d.token(ctx, c, login) {
		d.report(checkSkip, "genesys permissions, queues and topics", "they need a token", "")
		return
	}

	all, err := c.ListQueues(ctx, genesys.ListQueuesOptions{})
	listed := d.permission(permQueueView, err, fmt.Sprintf("listed %d queues", len(all)))
	var selected []genesys.Queue
	if listed {
		selected = d.queues(all)
	} else {
		d.report(checkSkip, "genesys queues", "the queues could not be listed", "")
	}
	probe := probeQueueID
	switch {
	case len(selected) > 0:
		probe = selected[0].ID
	case len(all) > 0:
		probe = all[0].ID
	}
	_, err = c.QueueObservations(ctx, []string{probe})
	d.permission(permQueueObservation, err, "the observation query was answered")
	now := time.Now()
	_, err = c.ConversationAggregates(ctx, []string{probe}, genesys.Interval{Start: now.Add(-15 * time.Minute), End: now})
	d.permission(permConversationAggregate, err, "the aggregate query was answered")

	switch {
	case g.Stream != nil && !*g.Stream:
		d.report(checkSkip, "genesys topics", "genesys.stream is off: queuewatch only polls", "")
	case len(all) == 0:
		d.report(checkSkip, "genesys topics", "there is no queue to subscribe to", "")
	default:
		q := all[0]
		if len(selected) > 0 {
			q = selected[0]
		}
		d.topics(ctx, c, q)
	}
}

// hosts reports the Genesys hosts in use and returns the login host.
func (d *doctor) hosts(g config.Genesys, c *genesys.Client) string {
	api, login, _, _ := genesys.Hosts(g.Environment)
	if g.APIURL != "" {
		api = strings.TrimRight(g.APIURL, "/")
	}
	if g.LoginURL != "" {
		login = strings.TrimRight(g.LoginURL, "/")
	}
	if g.APIURL != "" && g.LoginURL != "" {
		d.report(checkPass, "genesys hosts", fmt.Sprintf("API %s, login %s (set by api_url and login_url)", api, login), "")
		return login
	}
	domain, _ := genesys.Domain(g.Environment)
	region := ""
	for _, key := range genesys.Regions() {
		if dom, _ := genesys.Domain(key); dom == domain {
			region = strings.ReplaceAll(key, "_", "-")
		}
	}
	if region == "" {
		d.report(checkWarn, "genesys region", fmt.Sprintf("environment %q is not a region queuewatch knows; using API %s, login %s", g.Environment, api, login),
			"check the spelling against Genesys' region list (mypurecloud.com, usw2.pure.cloud, mypurecloud.de, …); a region newer than queuewatch is fine")
		return login
	}
	d.report(checkPass, "genesys region", fmt.Sprintf("%s: API %s, login %s (the token request proves the login host answers)", region, c.APIURL(), login), "")
	return login
}

// token requests a token and reports whether one was obtained.
func (d *doctor) token(ctx context.Context, c *genesys.Client, login string) bool {
	err := c.Authenticate(ctx)
	what := "genesys credentials"
	if err == nil {
		d.report(checkPass, what, fmt.Sprintf("token obtained from %s for client_id %s", login, d.cfg.Genesys.ClientID), "")
		return true
	}
	var ae *genesys.AuthError
	if !errors.As(err, &ae) {
		d.report(checkFail, what, err.Error(), "")
		return false
	}
	switch {
	case ae.Status == 0:
		d.report(checkFail, what, fmt.Sprintf("no answer from %s: %v", login, ae.Err),
			"check genesys.environment (or login_url) and that this machine can reach the host (proxy, firewall)")
	case ae.Status == http.StatusTooManyRequests:
		d.report(checkFail, what, fmt.Sprintf("the token endpoint is rate limiting this client (retry after %s)", ae.RetryAfter),
			"run doctor again later")
	case ae.Code == "unsupported_grant_type" || ae.Code == "unauthorized_client":
		d.report(checkFail, what, fmt.Sprintf("token refused: HTTP %d %s: %s", ae.Status, ae.Code, ae.Description),
			"the OAuth client must use the Client Credentials grant (Admin > Integrations > OAuth > <client> > Grant Types)")
	case ae.Status == http.StatusBadRequest || ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden:
		d.report(checkFail, what, fmt.Sprintf("token refused: HTTP %d %s: %s", ae.Status, ae.Code, ae.Description),
			"check genesys.client_id and genesys.client_secret: they must be those of a Client Credentials OAuth client "+
				"(Admin > Integrations > OAuth) of the org in this region; a client of another region is refused too")
	default:
		d.report(checkFail, what, strings.TrimPrefix(err.Error(), "genesys: "), "")
	}
	return false
}

// permission reports the outcome of a call that needs p and whether it
// succeeded.
func (d *doctor) permission(p genesysPermission, err error, okDetail string) bool {
	if err == nil {
		d.report(checkPass, p.name, okDetail+" (needed for "+p.feature+")", "")
		return true
	}
	var ae *genesys.APIError
	errors.As(err, &ae)
	switch genesys.StatusOf(err) {
	case http.StatusForbidden:
		status, detail := checkFail, "the OAuth client's role lacks it"
		if p.metrics != nil && !d.ruleUses(p.metrics) {
			status, detail = checkWarn, "the OAuth client's role lacks it; no rule needs it now, but rules on "+joinMetrics(p.metrics)+" would"
		}
		if ae != nil && ae.Message != "" {
			detail += fmt.Sprintf(" (Genesys: %s: %s)", ae.Code, ae.Message)
		}
		d.report(status, p.name, detail, "Admin > Roles / Permissions > <role> > Permissions > "+p.ui+"; "+roleHint)
	case http.StatusUnauthorized:
		d.report(checkFail, p.name, "the API refused the token: "+apiMessage(err),
			"the API and login hosts must be in the same region (check genesys.api_url and login_url)")
	case http.StatusTooManyRequests:
		d.report(checkWarn, p.name, "not checked: Genesys is rate limiting this client ("+apiMessage(err)+")",
			"run doctor again in a minute; a running serve shares the OAuth client's limit")
	default:
		d.report(checkFail, p.name, "the check failed: "+apiMessage(err), "")
	}
	return false
}

// apiMessage describes a Genesys error without the package prefixes.
func apiMessage(err error) string {
	var ae *genesys.APIError
	if errors.As(err, &ae) {
		s := fmt.Sprintf("HTTP %d", ae.Status)
		if ae.Code != "" {
			s += " " + ae.Code
		}
		if ae.Message != "" {
			s += ": " + ae.Message
		}
		return s
	}
	return err.Error()
}

func joinMetrics(ms []metric.Name) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

// queues reports which queues genesys.queues and genesys.exclude select,
// and returns them.
func (d *doctor) queues(all []genesys.Queue) []genesys.Queue {
	g := d.cfg.Genesys
	include := g.Queues
	if len(include) == 0 {
		include = []string{"*"}
	}
	selected := genesys.SelectQueues(all, include, g.Exclude)
	patterns := fmt.Sprintf("genesys.queues %q", include)
	if len(g.Exclude) > 0 {
		patterns += fmt.Sprintf(" minus genesys.exclude %q", g.Exclude)
	}
	const nameFix = "names are matched exactly and case-sensitively, with * and ? as wildcards; copy them from Admin > Routing > Queues"
	switch {
	case len(all) == 0:
		d.report(checkWarn, "genesys queues", "the OAuth client sees no queue at all",
			"the role's permissions must cover the divisions that hold the queues (Admin > Roles / Permissions > <role> > Permissions, division column); "+roleHint)
		return nil
	case len(selected) == 0:
		d.report(checkWarn, "genesys queues", fmt.Sprintf("none of the %d queues the OAuth client sees match %s", len(all), patterns),
			nameFix+"; queues of divisions the role does not cover are invisible")
		return nil
	}
	names := make([]string, 0, 5)
	for _, q := range selected[:min(len(selected), 5)] {
		names = append(names, fmt.Sprintf("%q", q.Name))
	}
	list := strings.Join(names, ", ")
	if len(selected) > len(names) {
		list += fmt.Sprintf(" and %d more", len(selected)-len(names))
	}
	d.report(checkPass, "genesys queues", fmt.Sprintf("%d of %d queues match %s: %s", len(selected), len(all), patterns, list), "")
	for _, p := range include {
		if len(genesys.SelectQueues(all, []string{p}, nil)) == 0 {
			d.report(checkWarn, "genesys queues pattern "+fmt.Sprintf("%q", p), "matches no queue", nameFix)
		}
	}
	return selected
}

// topics subscribes a new channel to the topics streamed of q (see
// genesys.activity_topics), reports whether Genesys permitted them and
// removes the subscription again.
func (d *doctor) topics(ctx context.Context, c *genesys.Client, q genesys.Queue) {
	const what = "genesys topics"
	topics := genesys.StreamTopics([]string{q.ID}, d.cfg.Genesys.ActivityTopics)
	fix := "add " + permQueueObservation.name + " to the OAuth client's role (Admin > Roles / Permissions > <role> > Permissions > " +
		permQueueObservation.ui + "), or set genesys.stream: false to poll only"
	ch, err := c.CreateChannel(ctx)
	if err != nil {
		d.report(checkFail, what, "could not create a notification channel: "+apiMessage(err), "")
		return
	}
	states, err := c.Subscribe(ctx, ch.ID, topics, true)
	// Leave the channel without topics whatever happened; it lapses
	// within 24 hours.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), doctorTimeout)
	defer cancel()
	if uerr := c.Unsubscribe(cctx, ch.ID); uerr != nil {
		defer d.report(checkWarn, what+" cleanup", fmt.Sprintf("could not remove the test subscription of channel %s (%s); the channel lapses within 24 hours", ch.ID, apiMessage(uerr)), "")
	}
	switch {
	case genesys.StatusOf(err) == http.StatusForbidden:
		d.report(checkFail, what, fmt.Sprintf("subscribing to the topics of queue %q was refused (%s)", q.Name, apiMessage(err)), fix)
		return
	case genesys.StatusOf(err) == http.StatusTooManyRequests:
		d.report(checkWarn, what, "not checked: Genesys is rate limiting this client ("+apiMessage(err)+")", "run doctor again in a minute")
		return
	case err != nil:
		d.report(checkFail, what, fmt.Sprintf("subscribing to the topics of queue %q failed: %s", q.Name, apiMessage(err)), "")
		return
	}
	state := map[string]genesys.TopicState{}
	for _, s := range states {
		state[s.ID] = s
	}
	ok := true
	for _, t := range topics {
		s, found := state[t]
		switch {
		case !found:
			ok = false
			d.report(checkWarn, what, t+" is missing from Genesys' answer", "")
		case !strings.EqualFold(s.State, "Permitted"):
			ok = false
			detail := fmt.Sprintf("Genesys rejected %s (%s", t, s.State)
			if s.RejectionReason != "" {
				detail += ": " + s.RejectionReason
			}
			if len(s.MissingPermissions) > 0 {
				detail += "; missing " + strings.Join(s.MissingPermissions, ", ")
			}
			d.report(checkFail, what, detail+")", fix)
		}
	}
	if ok {
		d.report(checkPass, what, fmt.Sprintf("%s permitted (queue %q; the test subscription was removed)", strings.Join(topics, " and "), q.Name), "")
	}
}

// destinations checks each destination's authentication.
func (d *doctor) destinations(ctx context.Context) {
	if len(d.cfg.Destinations) == 0 {
		d.report(checkWarn, "destinations", "none configured: alerts reach no one", "add a destination (opsgenie, jsm, slack, pagerduty or webhook)")
		return
	}
	dests, err := buildDestinations(d.cfg, d.client)
	if err != nil {
		d.report(checkFail, "destinations", err.Error(), "")
		return
	}
	for i, dc := range d.cfg.Destinations {
		timeout := dc.Timeout.D()
		if timeout <= 0 {
			timeout = notify.DefaultTimeout
		}
		dctx, cancel := context.WithTimeout(ctx, 2*timeout)
		switch n := dests.list[i].Notifier.(type) {
		case *opsgenie.Notifier:
			d.opsgenie(dctx, dc, n)
		case *slack.Notifier:
			d.slack(dctx, dc, n)
		default:
			switch dc.Type {
			case "pagerduty":
				d.pagerduty(dc)
			default:
				d.report(checkSkip, dc.Type+" "+dc.Name, "a webhook has no authentication check that sends nothing; "+
					"run queuewatch test-notify --destination "+dc.Name+" to send a test alert", "")
			}
		}
		cancel()
	}
}

// opsgenie checks an OpsGenie or JSM API key with an authenticated read and,
// when the destination has a heartbeat, makes sure it exists.
func (d *doctor) opsgenie(ctx context.Context, dc config.Destination, n *opsgenie.Notifier) {
	what := dc.Type + " " + dc.Name
	base := strings.TrimRight(dc.URL, "/")
	if base == "" {
		base = opsgenie.OpsGenieURL
		if dc.Type == "jsm" {
			base = opsgenie.JSMURL
		}
	}
	path := "/v2/alerts/count?query=" + url.QueryEscape("status:open")
	if dc.Heartbeat != "" {
		path = "/v2/heartbeats/" + url.PathEscape(dc.Heartbeat)
	}
	ans, err := d.genieGet(ctx, base+path, dc.APIKey.Value())
	keyOK := "API key accepted by " + base + " (only test-notify proves it may create alerts)"
	keyPending := false
	keyFix := "use the API key of an API integration (Settings > Integrations > API) of the account's region: EU accounts use " +
		opsgenie.OpsGenieEUURL + ", JSM integrations " + opsgenie.JSMURL
	switch {
	case err != nil:
		d.report(checkFail, what, "no answer from "+base+": "+err.Error(), "check the destination's url and that this machine can reach it (proxy, firewall)")
		return
	case ans.code == http.StatusOK:
		d.report(checkPass, what, keyOK, "")
	case ans.code == http.StatusNotFound && dc.Heartbeat != "":
		// The heartbeat is missing, or the url is wrong: creating the
		// heartbeat tells which.
		keyPending = true
	case ans.code == http.StatusUnauthorized:
		d.report(checkFail, what, "API key refused: "+ans.describe(), keyFix)
		return
	case ans.code == http.StatusForbidden && ans.errCode == 40301:
		d.report(checkFail, what, "API key refused: "+ans.describe(), "use the key of an API integration (Settings > Integrations > API), not one from API Key Management")
		return
	case ans.code == http.StatusForbidden:
		fix := "allow the integration to read alerts, or run queuewatch test-notify --destination " + dc.Name
		if dc.Heartbeat != "" {
			fix = "lift the integration's \"restrict access to configurations\", or create heartbeat " + dc.Heartbeat + " by hand (Settings > Heartbeats)"
		}
		d.report(checkFail, what, "the key may not read this: "+ans.describe(), fix)
		return
	case ans.code == http.StatusNotFound && dc.Type == "jsm":
		d.report(checkWarn, what, "the JSM integration API offers no read to check the key with ("+ans.describe()+")",
			"run queuewatch test-notify --destination "+dc.Name)
		return
	case ans.code == http.StatusNotFound:
		d.report(checkFail, what, base+path+" is not an OpsGenie API ("+ans.describe()+")",
			"check the destination's url: "+opsgenie.OpsGenieURL+", "+opsgenie.OpsGenieEUURL+" or "+opsgenie.JSMURL)
		return
	case ans.code == http.StatusTooManyRequests || ans.code >= 500:
		d.report(checkWarn, what, "not checked: "+ans.describe(), "run doctor again later")
		return
	default:
		d.report(checkFail, what, "unexpected answer: "+ans.describe(), "")
		return
	}
	if dc.Heartbeat == "" {
		return
	}
	hb := "heartbeat " + dc.Heartbeat
	existed := ans.code == http.StatusOK
	err = n.EnsureHeartbeat(ctx, dc.Heartbeat, doctorHeartbeatInterval)
	switch {
	case errors.Is(err, opsgenie.ErrHeartbeatDisabled):
		d.report(checkFail, hb, "exists but is disabled, so OpsGenie would not page when queuewatch stops",
			"enable it in OpsGenie: Settings > Heartbeats > "+dc.Heartbeat)
	case err != nil:
		detail, fix := notifyError(err)
		if fix == "" {
			fix = fmt.Sprintf("create it in OpsGenie (Settings > Heartbeats) with name %s and an interval of %s", dc.Heartbeat, humanDuration(doctorHeartbeatInterval))
		}
		d.report(checkFail, hb, "could not be checked or created: "+detail, fix)
	case !existed:
		if keyPending {
			d.report(checkPass, what, keyOK, "")
		}
		d.report(checkPass, hb, fmt.Sprintf("created, enabled, expecting a ping every %s; serve pings it every minute while healthy", humanDuration(doctorHeartbeatInterval)), "")
	case ans.heartbeatEvery > 0 && ans.heartbeatEvery < 2*time.Minute:
		d.report(checkWarn, hb, fmt.Sprintf("exists, but expects a ping every %s and serve pings every minute, so one late ping pages", humanDuration(ans.heartbeatEvery)),
			"set its interval to 5 minutes or more (Settings > Heartbeats > "+dc.Heartbeat+")")
	default:
		d.report(checkPass, hb, "exists and is enabled; serve pings it every minute while healthy", "")
	}
}

// humanDuration writes whole minutes as "5 minutes", other durations as
// Go does.
func humanDuration(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "minute"
	case d > 0 && d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

// genieAnswer is the part of an OpsGenie answer doctor reads.
type genieAnswer struct {
	code    int
	message string
	errCode int
	// heartbeatEvery is the interval of a heartbeat answer, 0 otherwise.
	heartbeatEvery time.Duration
}

func (a genieAnswer) describe() string {
	s := fmt.Sprintf("HTTP %d", a.code)
	if a.message != "" {
		s += " " + a.message
	}
	return s
}

// genieGet sends an authenticated GET to OpsGenie. The key goes only in the
// Authorization header; no error carries it.
func (d *doctor) genieGet(ctx context.Context, u, key string) (genieAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return genieAnswer{}, errors.New("the url is not valid")
	}
	req.Header.Set("Authorization", "GenieKey "+key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "queuewatch")
	resp, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return genieAnswer{}, ue.Err
		}
		return genieAnswer{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Message string `json:"message"`
		Code    int    `json:"code"`
		Data    struct {
			Interval     int    `json:"interval"`
			IntervalUnit string `json:"intervalUnit"`
		} `json:"data"`
	}
	_ = json.Unmarshal(raw, &body)
	a := genieAnswer{code: resp.StatusCode, message: body.Message, errCode: body.Code}
	unit := map[string]time.Duration{"minutes": time.Minute, "hours": time.Hour, "days": 24 * time.Hour}[body.Data.IntervalUnit]
	a.heartbeatEvery = time.Duration(body.Data.Interval) * unit
	return a, nil
}

// notifyError splits a notifier's error into what happened and the hint.
func notifyError(err error) (detail, hint string) {
	var ne *notify.Error
	if errors.As(err, &ne) {
		detail = ne.Reason
		// Slack refuses with HTTP 200; only other statuses say something.
		if ne.Code != 0 && ne.Code != http.StatusOK {
			detail = fmt.Sprintf("HTTP %d: %s", ne.Code, ne.Reason)
		}
		return detail, ne.Hint
	}
	return err.Error(), ""
}

// slackChannelID is the shape of a Slack conversation ID.
var slackChannelID = regexp.MustCompile(`^[CGD][A-Z0-9]{6,}$`)

// slack checks a Slack bot token and the bot's membership of the channel.
func (d *doctor) slack(ctx context.Context, dc config.Destination, n *slack.Notifier) {
	what := "slack " + dc.Name
	info, err := n.AuthTest(ctx)
	if err != nil {
		detail, fix := notifyError(err)
		d.report(checkFail, what, "auth.test refused the token: "+detail, fix)
		return
	}
	d.report(checkPass, what, fmt.Sprintf("token works: bot %s (%s) in workspace %s (%s)", info.User, info.UserID, info.Team, info.TeamID), "")
	if info.Scopes != nil && !info.HasScope("chat:write") {
		d.report(checkFail, what+" scopes", "the token lacks chat:write, so it cannot post",
			"add the chat:write scope to the bot token (Slack app > OAuth & Permissions) and reinstall the app")
	}
	what = "slack " + dc.Name + " channel"
	ch := strings.TrimSpace(dc.Channel)
	if !slackChannelID.MatchString(ch) {
		d.report(checkWarn, what, fmt.Sprintf("%q is a name: Slack checks membership by channel ID only", ch),
			"use the channel ID (C…, at the bottom of the channel's details), which also survives renames")
		return
	}
	ci, err := n.ChannelInfo(ctx)
	if err != nil {
		var ne *notify.Error
		errors.As(err, &ne)
		detail, fix := notifyError(err)
		switch {
		case ne != nil && ne.Reason == "missing_scope":
			d.report(checkWarn, what, "membership not checked: the token lacks channels:read (groups:read for a private channel)",
				"add that scope to the bot token, or run queuewatch test-notify --destination "+dc.Name)
		case ne != nil && ne.Retryable:
			d.report(checkWarn, what, "not checked: "+detail, "run doctor again later")
		default:
			d.report(checkFail, what, detail, fix)
		}
		return
	}
	name := "#" + ci.Name
	invite := fmt.Sprintf("invite the bot: /invite @%s in %s", info.User, name)
	switch {
	case ci.IsArchived:
		d.report(checkFail, what, name+" is archived, so posting answers is_archived", "unarchive it or configure another channel")
	case ci.IsMember:
		d.report(checkPass, what, "the bot is a member of "+name, "")
		d.slackHistory(ctx, dc, n)
	case info.HasScope("chat:write.public") && !ci.IsPrivate:
		d.report(checkWarn, what, "the bot is not in "+name+", but chat:write.public lets it post to a public channel",
			invite+", so that it keeps working if the channel becomes private")
	default:
		d.report(checkFail, what, "the bot is not in "+name+", so posting answers not_in_channel",
			invite+" (or give a public channel's bot the chat:write.public scope)")
	}
}

// slackHistory warns when the token cannot read the channel's history,
// which the notifier needs after a crash to find a message it had already
// posted instead of posting it again.
func (d *doctor) slackHistory(ctx context.Context, dc config.Destination, n *slack.Notifier) {
	what := "slack " + dc.Name + " history"
	err := n.CheckHistory(ctx)
	var ne *notify.Error
	switch {
	case err == nil:
		d.report(checkPass, what, "the token can read the channel, so a message is not posted twice after a crash", "")
	case errors.As(err, &ne) && ne.Reason == "missing_scope":
		d.report(checkWarn, what, "the token lacks channels:history (groups:history for a private channel): after a crash a message may be posted twice",
			"add that scope to the bot token (Slack app > OAuth & Permissions) and reinstall the app")
	default:
		detail, _ := notifyError(err)
		d.report(checkWarn, what, "not checked: "+detail, "run doctor again later")
	}
}

// pagerduty checks the shape of a PagerDuty routing key. Only sending an
// event proves PagerDuty accepts it, and every event pages or resolves.
func (d *doctor) pagerduty(dc config.Destination) {
	what := "pagerduty " + dc.Name
	key := dc.RoutingKey.Value()
	fix := "copy the Integration Key of the service's Events API v2 integration (Services > <service> > Integrations)"
	alnum := strings.IndexFunc(key, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9')
	}) < 0
	switch {
	case len(key) != 32:
		d.report(checkFail, what, fmt.Sprintf("the routing key has %d characters; integration keys have 32", len(key)), fix)
	case !alnum:
		d.report(checkFail, what, "the routing key has characters other than letters and digits (a stray space or quote?)", fix)
	default:
		d.report(checkPass, what, "the routing key has the shape of an integration key (32 characters); only queuewatch test-notify --destination "+
			dc.Name+" proves PagerDuty accepts it", "")
	}
}
