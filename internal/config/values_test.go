package config

import (
	"testing"
	"time"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in      string
		want    Threshold
		wantErr bool
	}{
		{in: "80", want: Threshold{Value: 80}},
		{in: "80.5", want: Threshold{Value: 80.5}},
		{in: "-3", want: Threshold{Value: -3}},
		{in: "1e2", want: Threshold{Value: 100}},
		{in: " 7 ", want: Threshold{Value: 7}},
		{in: "target", want: Threshold{Target: true}},
		{in: "Target", want: Threshold{Target: true}},
		{in: "target-5", want: Threshold{Target: true, Value: -5}},
		{in: "target - 5", want: Threshold{Target: true, Value: -5}},
		{in: "target+2.5", want: Threshold{Target: true, Value: 2.5}},
		{in: "target-0", want: Threshold{Target: true}},
		{in: "eighty", wantErr: true},
		{in: "", wantErr: true},
		{in: "target*2", wantErr: true},
		{in: "targets", wantErr: true},
		{in: "target5", wantErr: true},
		{in: "target+", wantErr: true},
		{in: "target+x", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "inf", wantErr: true},
		{in: "-Infinity", wantErr: true},
		{in: "0x10", wantErr: true},
		{in: "1_000", wantErr: true},
		{in: "80%", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseThreshold(tt.in)
		if tt.wantErr {
			if err == nil || err.Error() != `must be a number or "target"` {
				t.Errorf("parseThreshold(%q) = %+v, %v; want the threshold error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseThreshold(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestThresholdInYAML(t *testing.T) {
	src := `rules:
  - name: a
    metric: service_level
    below: 80
    clear: 85.5
  - name: b
    metric: service_level
    below: target-5
    clear: "target"
  - name: c
    metric: waiting
    above: 1e1
`
	c := mustParse(t, src, nil)
	want := []struct{ t, clear Threshold }{
		{Threshold{Value: 80}, Threshold{Value: 85.5}},
		{Threshold{Target: true, Value: -5}, Threshold{Target: true}},
		{Threshold{Value: 10}, Threshold{Value: 10}},
	}
	for i, w := range want {
		r := c.Rules[i]
		th := single(r.Above, r.Below)
		if th == nil || *th != w.t || r.Clear == nil || *r.Clear != w.clear {
			t.Errorf("rules[%d] threshold %v clear %v, want %v and %v", i, th, r.Clear, w.t, w.clear)
		}
	}
}

func TestThresholdString(t *testing.T) {
	tests := []struct {
		t   Threshold
		str string
	}{
		{Threshold{Value: 80}, "80"},
		{Threshold{Value: 2.5}, "2.5"},
		{Threshold{Target: true}, "target"},
		{Threshold{Target: true, Value: -5}, "target-5"},
		{Threshold{Target: true, Value: 2.5}, "target+2.5"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
		back, err := parseThreshold(tt.str)
		if err != nil || back != tt.t {
			t.Errorf("parseThreshold(%q) = %+v, %v; want %+v", tt.str, back, err, tt.t)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in     string
		want   time.Duration
		errMsg string
	}{
		{in: "90s", want: 90 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: "1h", want: time.Hour},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "0s", want: 0},
		{in: "0", want: 0},
		{in: "30", errMsg: "needs a unit (use 30s)"},
		{in: "1.5", errMsg: "needs a unit (use 1.5s)"},
		{in: "-1m", errMsg: "must not be negative"},
		{in: "-5", errMsg: "must not be negative"},
		{in: "soon", errMsg: `must be a duration like "30s", "5m" or "1m30s"`},
		{in: "1d", errMsg: `must be a duration like "30s", "5m" or "1m30s"`},
		{in: "", errMsg: `must be a duration like "30s", "5m" or "1m30s"`},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if tt.errMsg != "" {
			if err == nil || err.Error() != tt.errMsg {
				t.Errorf("parseDuration(%q) = %v, %v; want error %q", tt.in, got, err, tt.errMsg)
			}
			continue
		}
		if err != nil || got.D() != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if s := Duration(90 * time.Second).String(); s != "1m30s" {
		t.Errorf("String() = %q, want 1m30s", s)
	}
}
