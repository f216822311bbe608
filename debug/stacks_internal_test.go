package debug

import (
	"slices"
	"strings"
	"testing"
)

func TestParseProfile(t *testing.T) {
	const profile = "goroutine profile: total 7\n" +
		"3 @ 0x1 0x2 0x3\n" +
		"# labels: {\"tenant\":\"t1\", \"waitgroup.group\":\"a/b \\\"c\\\"\", \"waitgroup.task\":\"x\\ty\"}\n" +
		"#\t0x47a1b2\tpkg.(*T).run+0x32\t\t/src/pkg/t.go:12\n" +
		"#\t0x47a1c0\tgithub.com/x/waitgroup.(*goTask).run+0x55\t/src/wg/group.go:220\n" +
		"\n" +
		"2 @ 0x4 0x5\n" +
		"#\t0x47a1b2\tpkg.other+0x32\t/src/pkg/o.go:3\n" +
		"\n" +
		"1 @ 0x6\n" +
		"# labels: {\"waitgroup.group\":\"a\"}\n" +
		"#\t0x47a1b2\tpkg.onlyGroup+0x1\t/src/pkg/o.go:9\n" +
		"\n" +
		"1 @ 0x7\n" +
		"# labels: {\"waitgroup.group\":\"a/b \\\"c\\\"\", \"waitgroup.task\":\"x\\ty\"}\n" +
		"#\t0x47a1b2\tpkg.child+0x1\t/src/pkg/c.go:1\n" +
		"\n" +
		"4 @ 0x8\n" + // the same frames, with other runtime frames
		"# labels: {\"waitgroup.group\":\"a/b \\\"c\\\"\", \"waitgroup.task\":\"x\\ty\"}\n" +
		"#\t0x47a1b3\tpkg.child+0x1\t/src/pkg/c.go:1\n"
	ix, err := parseProfile(strings.NewReader(profile))
	if err != nil {
		t.Fatal(err)
	}
	got := ix.lookup(`a/b "c"`, "x\ty")
	want := []stackView{ // merged, most goroutines first
		{5, []string{"pkg.child /src/pkg/c.go:1"}},
		{3, []string{"pkg.(*T).run /src/pkg/t.go:12", "github.com/x/waitgroup.(*goTask).run /src/wg/group.go:220"}},
	}
	if !slices.EqualFunc(got, want, func(a, b stackView) bool {
		return a.Goroutines == b.Goroutines && slices.Equal(a.Frames, b.Frames)
	}) {
		t.Errorf("lookup = %+v, want %+v", got, want)
	}
	if n := len(ix.byTask); n != 1 {
		t.Errorf("%d label sets indexed, want 1 (unlabelled and group-only records are not tasks')", n)
	}
}

func TestParseProfileBoundsFrames(t *testing.T) {
	var b strings.Builder
	b.WriteString("1 @ 0x1\n# labels: {\"waitgroup.group\":\"g\", \"waitgroup.task\":\"t\"}\n")
	for range maxFrames + 5 {
		b.WriteString("#\t0x1\tpkg.f+0x1\t/f.go:1\n")
	}
	ix, err := parseProfile(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	s := ix.lookup("g", "t")
	if len(s) != 1 || len(s[0].Frames) != maxFrames+1 || s[0].Frames[maxFrames] != "…" {
		t.Errorf("frames %q, want %d and …", s, maxFrames)
	}
}

func TestParseLabelsRejectsGarbage(t *testing.T) {
	for _, s := range []string{`{"a":"b"`, `{"a" "b"}`, `"a":"b"}`, `{a:"b"}`, `{"a":b}`} {
		if m, err := parseLabels(s); err == nil {
			t.Errorf("parseLabels(%q) = %v, want an error", s, m)
		}
	}
	m, err := parseLabels(`{}`)
	if err != nil || len(m) != 0 {
		t.Errorf("parseLabels({}) = %v, %v", m, err)
	}
}

// TestTaskText covers the restart fields, which no public API sets yet.
func TestTaskText(t *testing.T) {
	in := 2.5
	for _, tc := range []struct {
		task        taskView
		state, desc string
	}{
		{taskView{ID: "#1", Name: "n", Where: "pkg.f (f.go:1)", State: "running"},
			"running", `#1 "n", pkg.f (f.go:1)`},
		{taskView{ID: "#2", Where: "Add at pkg/f.go:2", State: "running"},
			"running", `#2 Add at pkg/f.go:2`},
		{taskView{ID: "#3", Name: "poller", Where: "pkg.poll", State: "in restart backoff", Attempt: 3, LastError: "dial: refused\nagain", RestartInSeconds: &in},
			"in restart backoff (attempt 3), restarts in 2.5s", `#3 "poller", pkg.poll; last error: dial: refused | again`},
		{taskView{ID: "#4", Where: "pkg.poll", State: "running", Attempt: 1, LastError: "boom"},
			"running (attempt 1)", `#4 pkg.poll; last error: boom`},
	} {
		if got := tc.task.state(); got != tc.state {
			t.Errorf("state() = %q, want %q", got, tc.state)
		}
		if got := tc.task.describe(); got != tc.desc {
			t.Errorf("describe() = %q, want %q", got, tc.desc)
		}
	}
}
