package genesys

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// DefaultDomain is the domain of region us-east-1, the Genesys default.
const DefaultDomain = "mypurecloud.com"

// regions maps every region key of the Genesys SDKs (with underscores) to
// the domain suffix of its hosts.
var regions = map[string]string{
	"us_east_1":      "mypurecloud.com",
	"us_east_2":      "use2.us-gov-pure.cloud",
	"us_west_2":      "usw2.pure.cloud",
	"ca_central_1":   "cac1.pure.cloud",
	"sa_east_1":      "sae1.pure.cloud",
	"mx_central_1":   "mxc1.pure.cloud",
	"eu_west_1":      "mypurecloud.ie",
	"eu_west_2":      "euw2.pure.cloud",
	"eu_central_1":   "mypurecloud.de",
	"eu_central_2":   "euc2.pure.cloud",
	"eusc_de_east_1": "edee1.eusc-pure.cloud",
	"me_central_1":   "mec1.pure.cloud",
	"ap_south_1":     "aps1.pure.cloud",
	"ap_southeast_1": "apse1.pure.cloud",
	"ap_southeast_2": "mypurecloud.com.au",
	"ap_northeast_1": "mypurecloud.jp",
	"ap_northeast_2": "apne2.pure.cloud",
	"ap_northeast_3": "apne3.pure.cloud",
}

// Regions returns the known region keys (with underscores) in lexical order.
func Regions() []string {
	out := make([]string, 0, len(regions))
	for k := range regions {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Domain resolves an environment to its domain suffix. env is a region key
// ("us-east-1" and "us_east_1" are the same), or a domain suffix such as
// "mypurecloud.com" or "usw2.pure.cloud"; a host of that domain such as
// "api.mypurecloud.de" is accepted too. Unknown domains are taken as they
// are, because Genesys opens regions before client libraries know them. An
// empty env means DefaultDomain.
func Domain(env string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(env))
	if e == "" {
		return DefaultDomain, nil
	}
	if d, ok := regions[strings.ReplaceAll(e, "-", "_")]; ok {
		return d, nil
	}
	if strings.ContainsAny(e, "/: ") || strings.HasPrefix(e, ".") || strings.HasSuffix(e, ".") || !strings.Contains(e, ".") {
		return "", fmt.Errorf("genesys: environment %q is neither a known region (such as us-east-1) nor a domain (such as mypurecloud.com)", env)
	}
	for _, p := range []string{"api.", "login.", "apps."} {
		if rest, ok := strings.CutPrefix(e, p); ok && strings.Contains(rest, ".") {
			return rest, nil
		}
	}
	return e, nil
}

// Hosts returns the base URLs of the API, the login (token) host and the
// web application of an environment (see Domain), such as
// "https://api.mypurecloud.com", "https://login.mypurecloud.com" and
// "https://apps.mypurecloud.com".
func Hosts(env string) (api, login, apps string, err error) {
	d, err := Domain(env)
	if err != nil {
		return "", "", "", err
	}
	return "https://api." + d, "https://login." + d, "https://apps." + d, nil
}

// QueueAdminURL returns a link to a queue's page in the Genesys Cloud admin
// UI, for alerts to point at, or "" when env is not valid. The fragment
// route is the one of the current admin UI (an assumption: the web UI's
// routes are not part of the API contract).
func QueueAdminURL(env, queueID string) string {
	_, _, apps, err := Hosts(env)
	if err != nil {
		return ""
	}
	return apps + "/#/admin/routing/queues/" + url.PathEscape(queueID)
}
