package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// liveURL reads the line, after the listening address, that says where the
// live view is.
func (p *proc) liveURL(t *testing.T) string {
	t.Helper()
	return p.scanLine(t, "second", "tracker: live view of the groups at %s")
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return string(b)
}

// With -debug-addr the live view names an event stuck in its write, the
// writer with its goroutine's stack, and stays up during the shutdown.
func TestServeLiveView(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.log")
	p := startTracker(t, "-serve", "-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0", "-events", events,
		"-shutdown-timeout", "1s", "-drain-delay", "0", "-latency", "1h")
	base := "http://" + p.addr(t)
	live := p.liveURL(t)
	resp, err := http.Post(base+"/event?id=slowpoke", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("status %d, want 201", resp.StatusCode)
	}

	text := httpGet(t, live)
	for _, want := range []string{
		"\nevents: 2 pending\n",
		`"event writer", main.(*Tracker).Run`,
		`"event slowpoke", Add at main/tracker.go:`,
		"\nfile: 1 pending\n",
		`"events file", main.(*service).serve.func`,
		"\nhttp: 1 pending\n", // Run's group, registered through graceful.GroupOptions
		`"http server", main.(*service).serve.func`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the live view lacks %q:\n%s", want, text)
		}
	}

	var v struct {
		Groups []struct {
			Path  string
			Tasks []struct {
				Name   string
				Stacks []struct{ Frames []string }
			}
		}
	}
	if err := json.Unmarshal([]byte(httpGet(t, live+"?format=json&stacks=1")), &v); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range v.Groups {
		for _, task := range g.Tasks {
			if g.Path == "events" && task.Name == "event writer" && len(task.Stacks) > 0 &&
				strings.Contains(strings.Join(task.Stacks[0].Frames, "\n"), "main.(*Tracker).Run") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no stack of the event writer's goroutine in the JSON view: %+v", v)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.exit(t); code != 1 {
		t.Errorf("exit code %d, want 1: the event could not be written", code)
	}
}

func TestDebugAddrNeedsServe(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := run([]string{"-debug-addr", "127.0.0.1:0"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "-debug-addr needs -serve") {
		t.Errorf("run = %d, stderr %q; want 2 and a message", code, stderr.String())
	}
}
