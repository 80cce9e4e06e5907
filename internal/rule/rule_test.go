package rule

import "testing"

func TestEvaluateLevelsWithHysteresis(t *testing.T) {
	above := []Level{
		{Threshold: Threshold{Value: 120}, Clear: Threshold{Value: 100}, Priority: P3},
		{Threshold: Threshold{Value: 300}, Clear: Threshold{Value: 250}, Priority: P1},
	}
	cases := []struct {
		name   string
		v      float64
		held   int
		level  int
		breach bool
		prio   Priority
	}{
		{"clear when nothing held", 90, -1, -1, false, ""},
		{"band does not open", 110, -1, -1, false, ""},
		{"band holds level 0", 110, 0, 0, false, P3},
		{"at clear counts as cleared", 100, 0, -1, false, ""},
		{"first level", 121, -1, 0, true, P3},
		{"second level straight away", 301, -1, 1, true, P1},
		{"second level held above its clear", 260, 1, 1, true, P1},
		{"second level released below its clear", 240, 1, 0, true, P3},
		{"exactly at threshold is not a breach", 120, -1, -1, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, ok := Evaluate(Above, above, tc.v, 0, false, tc.held)
			if !ok || ev.Level != tc.level || ev.Breach != tc.breach || ev.Priority != tc.prio {
				t.Fatalf("Evaluate(%v, held %d) = %+v ok=%v; want level %d breach %v prio %q", tc.v, tc.held, ev, ok, tc.level, tc.breach, tc.prio)
			}
		})
	}
}

func TestEvaluateTarget(t *testing.T) {
	levels := []Level{{Threshold: Threshold{Target: true}, Clear: Threshold{Target: true, Value: 5}, Priority: P1}}
	if _, ok := Evaluate(Below, levels, 50, 0, false, -1); ok {
		t.Fatal("a target threshold must not evaluate without a target")
	}
	ev, ok := Evaluate(Below, levels, 79, 80, true, -1)
	if !ok || ev.Level != 0 || ev.Threshold != 80 || ev.Clear != 85 {
		t.Fatalf("got %+v", ev)
	}
	if ev, _ := Evaluate(Below, levels, 84, 80, true, 0); ev.Level != 0 {
		t.Fatalf("84 is inside target..target+5 and must hold: %+v", ev)
	}
	if !NeedsTarget(levels) || NeedsTarget([]Level{{Threshold: Threshold{Value: 1}}}) {
		t.Fatal("NeedsTarget")
	}
}

func TestApplies(t *testing.T) {
	r := &Rule{
		Queues:     []string{"Support*", "id-7"},
		Exclude:    []string{"Support - Test"},
		MediaTypes: []string{"voice"},
		Levels:     []Level{{Threshold: Threshold{Value: 80}}},
		Overrides: []Override{
			{Queues: []string{"Support VIP"}, Levels: []Level{{Threshold: Threshold{Value: 95}}}},
			{Queues: []string{"Support Lab"}, Disabled: true},
		},
	}
	cases := []struct {
		id, name, media string
		ok              bool
		thr             float64
	}{
		{"id-1", "Support - Voice", "voice", true, 80},
		{"id-2", "Support - Voice", "chat", false, 0},
		{"id-3", "Support - Test", "voice", false, 0},
		{"id-4", "Sales", "voice", false, 0},
		{"id-7", "Sales", "voice", true, 80},
		{"id-5", "Support VIP", "voice", true, 95},
		{"id-6", "Support Lab", "voice", false, 0},
		{"id-1", "Support - Voice", "", false, 0},
	}
	for _, tc := range cases {
		levels, ok := r.Applies(tc.id, tc.name, tc.media)
		if ok != tc.ok || (ok && levels[0].Threshold.Value != tc.thr) {
			t.Errorf("Applies(%s, %q, %s) = %v %v; want %v %v", tc.id, tc.name, tc.media, levels, ok, tc.ok, tc.thr)
		}
	}
}

func TestAppliesMediaTypes(t *testing.T) {
	levels := []Level{{Threshold: Threshold{Value: 80}}}
	cases := []struct {
		name  string
		media []string
		// totals, voice, chat: whether each kind of sample is watched.
		want [3]bool
	}{
		{"no media types watch totals only", nil, [3]bool{true, false, false}},
		{"listed media types", []string{"voice"}, [3]bool{false, true, false}},
		{"every media type", []string{"*"}, [3]bool{false, true, true}},
	}
	for _, tc := range cases {
		r := &Rule{Queues: []string{"*"}, MediaTypes: tc.media, Levels: levels}
		for i, m := range []string{"", "voice", "chat"} {
			if _, ok := r.Applies("q", "Support", m); ok != tc.want[i] {
				t.Errorf("%s: Applies(media %q) = %v, want %v", tc.name, m, ok, tc.want[i])
			}
		}
	}
}

func TestThresholdString(t *testing.T) {
	for th, want := range map[Threshold]string{
		{Value: 80}:                "80",
		{Target: true}:             "target",
		{Target: true, Value: -5}:  "target-5",
		{Target: true, Value: 2.5}: "target+2.5",
	} {
		if got := th.String(); got != want {
			t.Errorf("%+v: %q want %q", th, got, want)
		}
	}
}
