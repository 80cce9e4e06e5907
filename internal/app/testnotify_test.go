package app

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/queuewatch/queuewatch/internal/config"
	fakeog "github.com/queuewatch/queuewatch/internal/fake/opsgenie"
	fakeslack "github.com/queuewatch/queuewatch/internal/fake/slack"
)

func TestTestNotify(t *testing.T) {
	og, sl := fakeog.New(), fakeslack.New()
	ogURL, slURL := og.Start(t), sl.Start(t)
	yaml := fmt.Sprintf(`
destinations:
  - {name: oncall, type: opsgenie, url: %q, api_key: %q}
  - {name: cc-slack, type: slack, url: %q, token: %q, channel: %q}
  - {name: broken, type: slack, url: %q, token: xoxb-wrong, channel: %q}
`, ogURL, fakeog.DefaultKey, slURL, fakeslack.DefaultToken, fakeslack.DefaultChannel, slURL, fakeslack.DefaultChannel)
	cfg, err := config.Parse("t.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = TestNotify(context.Background(), cfg, "", &out)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 destinations failed") {
		t.Fatalf("err %v\n%s", err, out.String())
	}
	for _, want := range []string{"oncall ", "create   ok", "resolve  ok", "broken", "FAILED", "invalid_auth"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	alerts := og.Alerts()
	if len(alerts) != 1 || alerts[0].Status != "closed" || !strings.Contains(alerts[0].Message, "queuewatch test") {
		t.Fatalf("opsgenie alerts %+v", alerts)
	}
	msgs := sl.Messages(fakeslack.DefaultChannel)
	if len(msgs) != 1 || msgs[0].Edits != 1 {
		t.Fatalf("slack: one test message updated to resolved, got %+v", msgs)
	}
	// Only the named destination.
	out.Reset()
	if err := TestNotify(context.Background(), cfg, "oncall", &out); err != nil || strings.Contains(out.String(), "cc-slack") {
		t.Fatalf("--destination oncall: %v\n%s", err, out.String())
	}
	if err := TestNotify(context.Background(), cfg, "nope", &out); err == nil {
		t.Fatal("unknown destination accepted")
	}
}
