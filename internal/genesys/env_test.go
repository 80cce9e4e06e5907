package genesys_test

import (
	"testing"

	"github.com/queuewatch/queuewatch/internal/genesys"
)

func TestHosts(t *testing.T) {
	tests := []struct {
		env, api, login, apps string
		wantErr               bool
	}{
		{env: "", api: "https://api.mypurecloud.com", login: "https://login.mypurecloud.com", apps: "https://apps.mypurecloud.com"},
		{env: "us_east_1", api: "https://api.mypurecloud.com", login: "https://login.mypurecloud.com", apps: "https://apps.mypurecloud.com"},
		{env: "us-east-1", api: "https://api.mypurecloud.com", login: "https://login.mypurecloud.com", apps: "https://apps.mypurecloud.com"},
		{env: " US-EAST-1 ", api: "https://api.mypurecloud.com", login: "https://login.mypurecloud.com", apps: "https://apps.mypurecloud.com"},
		{env: "us-east-2", api: "https://api.use2.us-gov-pure.cloud", login: "https://login.use2.us-gov-pure.cloud", apps: "https://apps.use2.us-gov-pure.cloud"},
		{env: "us-west-2", api: "https://api.usw2.pure.cloud", login: "https://login.usw2.pure.cloud", apps: "https://apps.usw2.pure.cloud"},
		{env: "ca-central-1", api: "https://api.cac1.pure.cloud", login: "https://login.cac1.pure.cloud", apps: "https://apps.cac1.pure.cloud"},
		{env: "sa-east-1", api: "https://api.sae1.pure.cloud", login: "https://login.sae1.pure.cloud", apps: "https://apps.sae1.pure.cloud"},
		{env: "mx-central-1", api: "https://api.mxc1.pure.cloud", login: "https://login.mxc1.pure.cloud", apps: "https://apps.mxc1.pure.cloud"},
		{env: "eu-west-1", api: "https://api.mypurecloud.ie", login: "https://login.mypurecloud.ie", apps: "https://apps.mypurecloud.ie"},
		{env: "eu-west-2", api: "https://api.euw2.pure.cloud", login: "https://login.euw2.pure.cloud", apps: "https://apps.euw2.pure.cloud"},
		{env: "eu-central-1", api: "https://api.mypurecloud.de", login: "https://login.mypurecloud.de", apps: "https://apps.mypurecloud.de"},
		{env: "eu-central-2", api: "https://api.euc2.pure.cloud", login: "https://login.euc2.pure.cloud", apps: "https://apps.euc2.pure.cloud"},
		{env: "eusc-de-east-1", api: "https://api.edee1.eusc-pure.cloud", login: "https://login.edee1.eusc-pure.cloud", apps: "https://apps.edee1.eusc-pure.cloud"},
		{env: "me-central-1", api: "https://api.mec1.pure.cloud", login: "https://login.mec1.pure.cloud", apps: "https://apps.mec1.pure.cloud"},
		{env: "ap-south-1", api: "https://api.aps1.pure.cloud", login: "https://login.aps1.pure.cloud", apps: "https://apps.aps1.pure.cloud"},
		{env: "ap-southeast-1", api: "https://api.apse1.pure.cloud", login: "https://login.apse1.pure.cloud", apps: "https://apps.apse1.pure.cloud"},
		{env: "ap_southeast_2", api: "https://api.mypurecloud.com.au", login: "https://login.mypurecloud.com.au", apps: "https://apps.mypurecloud.com.au"},
		{env: "ap-northeast-1", api: "https://api.mypurecloud.jp", login: "https://login.mypurecloud.jp", apps: "https://apps.mypurecloud.jp"},
		{env: "ap-northeast-2", api: "https://api.apne2.pure.cloud", login: "https://login.apne2.pure.cloud", apps: "https://apps.apne2.pure.cloud"},
		{env: "ap-northeast-3", api: "https://api.apne3.pure.cloud", login: "https://login.apne3.pure.cloud", apps: "https://apps.apne3.pure.cloud"},
		{env: "mypurecloud.com", api: "https://api.mypurecloud.com", login: "https://login.mypurecloud.com", apps: "https://apps.mypurecloud.com"},
		{env: "usw2.pure.cloud", api: "https://api.usw2.pure.cloud", login: "https://login.usw2.pure.cloud", apps: "https://apps.usw2.pure.cloud"},
		{env: "api.mypurecloud.de", api: "https://api.mypurecloud.de", login: "https://login.mypurecloud.de", apps: "https://apps.mypurecloud.de"},
		// A region opened after this table was written still works.
		{env: "xyz9.pure.cloud", api: "https://api.xyz9.pure.cloud", login: "https://login.xyz9.pure.cloud", apps: "https://apps.xyz9.pure.cloud"},
		{env: "mars-north-1", wantErr: true},
		{env: "https://api.mypurecloud.com", wantErr: true},
		{env: "mypurecloud.com/", wantErr: true},
		{env: "my purecloud.com", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			api, login, apps, err := genesys.Hosts(tt.env)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Hosts(%q) = %q, want an error", tt.env, api)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if api != tt.api || login != tt.login || apps != tt.apps {
				t.Errorf("Hosts(%q) = %q, %q, %q; want %q, %q, %q", tt.env, api, login, apps, tt.api, tt.login, tt.apps)
			}
		})
	}
}

func TestEveryRegionResolves(t *testing.T) {
	if n := len(genesys.Regions()); n != 18 {
		t.Errorf("%d regions, want the 18 of the reference", n)
	}
	for _, r := range genesys.Regions() {
		if _, err := genesys.Domain(r); err != nil {
			t.Errorf("region %s: %v", r, err)
		}
	}
}

func TestQueueAdminURL(t *testing.T) {
	got := genesys.QueueAdminURL("eu-central-1", "1d1af111-b11c-11f1-b111-1cf1c11111fc")
	want := "https://apps.mypurecloud.de/#/admin/routing/queues/1d1af111-b11c-11f1-b111-1cf1c11111fc"
	if got != want {
		t.Errorf("QueueAdminURL = %q, want %q", got, want)
	}
	if got := genesys.QueueAdminURL("nowhere", "x"); got != "" {
		t.Errorf("QueueAdminURL of a bad environment = %q, want empty", got)
	}
}

func TestNewChecksOptions(t *testing.T) {
	tests := []struct {
		name string
		opts genesys.Options
	}{
		{"no credentials", genesys.Options{Environment: "us-east-1"}},
		{"bad environment", genesys.Options{Environment: "nowhere", ClientID: "a", ClientSecret: "b"}},
		{"bad api url", genesys.Options{APIURL: "ftp://x", LoginURL: "http://y", ClientID: "a", ClientSecret: "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := genesys.New(tt.opts); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
	// Overrides make any environment acceptable.
	if _, err := genesys.New(genesys.Options{Environment: "nowhere", APIURL: "http://127.0.0.1:1", LoginURL: "http://127.0.0.1:1", ClientID: "a", ClientSecret: "b"}); err != nil {
		t.Errorf("New with URL overrides: %v", err)
	}
}
