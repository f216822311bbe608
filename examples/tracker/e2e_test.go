package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

var (
	buildOnce sync.Once
	binDir    string // removed by TestMain
	binPath   string
	buildErr  error
)

// trackerBinary builds the command once per test run, with -race when the
// tests run with it.
func trackerBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "tracker-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "tracker")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running tracker.
type proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr lockedBuilder
}

// lockedBuilder is a strings.Builder that the process's stderr copier may
// write while a failing test reads it.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startTracker(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(trackerBinary(t), args...)}
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewReader(out)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	return p
}

// addr reads the listening address the tracker prints first.
func (p *proc) addr(t *testing.T) string {
	t.Helper()
	return strings.TrimSuffix(p.scanLine(t, "first", "tracker: listening on %s"), ",")
}

// scanLine reads the next line of standard output, the nth (for messages),
// and returns the word that format's one %s matches there.
func (p *proc) scanLine(t *testing.T, nth, format string) string {
	t.Helper()
	line, err := p.stdout.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the %s line: %v; stderr:\n%s", nth, err, p.stderr.String())
	}
	var word string
	if _, err := fmt.Sscanf(line, format, &word); err != nil {
		t.Fatalf("%s line %q: %v", nth, line, err)
	}
	return word
}

// exit waits for the process and returns its exit code and the rest of its
// standard output.
func (p *proc) exit(t *testing.T) (int, string) {
	t.Helper()
	rest, _ := io.ReadAll(p.stdout)
	err := p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(rest)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(rest)
}

// checkRecorded reads the events file and checks that the request with id
// prefix+i is in it exactly once if status[i] is 201 and not at all
// otherwise, that no other line is (a partial or merged one), and that the
// file does not end in a partial line. It returns how many requests got
// each status, 0 for no HTTP answer.
func checkRecorded(t *testing.T, events, prefix string, status []atomic.Int32) map[int32]int {
	t.Helper()
	data, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("the file ends in a partial line: %q", data[max(len(data)-40, 0):])
	}
	lines := make(map[string]int)
	for l := range strings.Lines(string(data)) {
		lines[strings.TrimSuffix(l, "\n")]++
	}
	counts := map[int32]int{}
	for i := range status {
		id := prefix + strconv.Itoa(i)
		s := status[i].Load()
		counts[s]++
		switch got := lines[id]; {
		case s == 201 && got != 1:
			t.Errorf("%s got 201 and is in the file %d times", id, got)
		case s != 201 && got != 0:
			t.Errorf("%s got %d and is in the file %d times", id, s, got)
		}
		delete(lines, id)
	}
	for l, c := range lines {
		t.Errorf("line %q (%d times) is no request's id: a partial or merged line", l, c)
	}
	return counts
}

// The end-to-end test: SIGTERM under load loses no 201's event and
// records nothing else. With no drain delay, requests are in flight when the
// listener closes; with a short one, some are answered 503 first and the
// rest meet a closed listener.
func TestServeSIGTERMUnderLoad(t *testing.T) {
	for _, drain := range []string{"0s", "100ms"} {
		t.Run("drain "+drain, func(t *testing.T) { testSIGTERMUnderLoad(t, drain) })
	}
}

func testSIGTERMUnderLoad(t *testing.T, drain string) {
	const (
		n           = 3000
		concurrency = 64
		timeout     = 5 * time.Second
	)
	events := filepath.Join(t.TempDir(), "events.log")
	p := startTracker(t, "-serve", "-addr", "127.0.0.1:0", "-events", events,
		"-shutdown-timeout", timeout.String(), "-drain-delay", drain,
		// Longer than the HTTP server takes to shut down, so that an event
		// not tracked by the group would be lost and fail the test.
		"-latency", "50ms")
	base := "http://" + p.addr(t)

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = concurrency
	client := &http.Client{Transport: tr}
	defer client.CloseIdleConnections()

	status := make([]atomic.Int32, n) // 0: no HTTP answer
	var answered atomic.Int32
	termed := make(chan time.Time, 1)
	var reqs waitgroup.Group
	reqs.SetLimit(concurrency)
	for i := range n {
		reqs.Go(func(context.Context) error {
			resp, err := client.Post(fmt.Sprintf("%s/event?id=e2e-%d", base, i), "", nil)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status[i].Store(int32(resp.StatusCode))
			}
			if answered.Add(1) == n/3 {
				termed <- time.Now()
				if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := reqs.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	sigAt := <-termed
	code, out := p.exit(t)
	took := time.Since(sigAt)
	if code != 0 {
		t.Fatalf("exit code %d, want 0; stdout %q; stderr:\n%s", code, out, p.stderr.String())
	}
	if took > timeout {
		t.Errorf("shutdown took %v, more than the %v deadline", took, timeout)
	}

	counts := checkRecorded(t, events, "e2e-", status)
	t.Logf("%d requests: %d×201, %d×503, %d without answer; shutdown %v; stdout %q",
		n, counts[201], counts[503], counts[0], took.Round(time.Millisecond), out)
	if counts[201] < n/3 || counts[201] == n {
		t.Errorf("%d of %d requests got 201: SIGTERM was not sent mid-load", counts[201], n)
	}
	if len(counts) > 3 || counts[201]+counts[503]+counts[0] != n {
		t.Errorf("unexpected statuses: %v", counts)
	}
}

// From SIGINT (or SIGTERM) on, through the drain delay, the readiness probe
// answers 503 and new events are refused with 503; then the listener closes.
func TestServeHealthzDuringDrain(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.log")
	p := startTracker(t, "-serve", "-addr", "127.0.0.1:0", "-events", events, "-drain-delay", "1s")
	base := "http://" + p.addr(t)
	// A fresh connection each time: a kept-alive one would outlive the
	// listener and hide when it closes.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	do := func(method, path string) (int, error) {
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := do("GET", "/healthz"); code != 200 {
		t.Fatalf("healthz before the signal = %d, %v; want 200", code, err)
	}
	sigAt := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// Signal delivery is asynchronous: poll until the probe flips. It must
	// flip to 503 long before the 1s delay ends and the listener closes.
	code, err := do("GET", "/healthz")
	for code == 200 && time.Since(sigAt) < 500*time.Millisecond {
		code, err = do("GET", "/healthz")
	}
	if code != 503 {
		t.Fatalf("healthz after SIGINT = %d, %v; want 503", code, err)
	}
	if code, err := do("POST", "/event?id=late"); code != 503 {
		t.Errorf("event during the drain delay = %d, %v; want 503", code, err)
	}
	exit, _ := p.exit(t)
	if exit != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", exit, p.stderr.String())
	}
	if d := time.Since(sigAt); d < time.Second {
		t.Errorf("exited %v after SIGINT, before the 1s drain delay ended", d)
	}
	if _, err := do("GET", "/healthz"); err == nil {
		t.Error("healthz still answers after exit")
	}
	if data, _ := os.ReadFile(events); len(data) != 0 {
		t.Errorf("events file = %q, want empty", data)
	}
	for _, want := range []string{`reason="signal interrupt"`, `msg="graceful: draining" delay=1s`, "shutdown complete"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("log does not contain %q:\n%s", want, p.stderr.String())
		}
	}
}

// A port in use is a clear error and a non-zero exit, and nothing starts:
// not even the events file is created.
func TestServePortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	events := filepath.Join(t.TempDir(), "events.log")
	p := startTracker(t, "-serve", "-addr", busy.Addr().String(), "-events", events)
	code, out := p.exit(t)
	if code != 1 || out != "" {
		t.Errorf("exit code %d, stdout %q; want 1 and nothing", code, out)
	}
	want := "tracker: cannot listen: listen tcp " + busy.Addr().String() + ": bind: address already in use"
	if !strings.Contains(p.stderr.String(), want) {
		t.Errorf("stderr %q does not contain %q", p.stderr.String(), want)
	}
	if _, err := os.Stat(events); !os.IsNotExist(err) {
		t.Errorf("events file exists after a failed start: %v", err)
	}
}

// An event that cannot be written in time makes the shutdown stop at its
// deadline, exit 1, and name the event; it does not hang.
func TestServeDeadlineNamesStuckEvent(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.log")
	p := startTracker(t, "-serve", "-addr", "127.0.0.1:0", "-events", events,
		"-shutdown-timeout", "1s", "-drain-delay", "0", "-latency", "1h")
	base := "http://" + p.addr(t)
	resp, err := http.Post(base+"/event?id=slowpoke", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("status %d, want 201", resp.StatusCode)
	}
	begin := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, _ := p.exit(t)
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("exit took %v with a 1s deadline", d)
	}
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	// The writer's stage has 400ms of the 1s: 4/10 of what is left after
	// the (zero) drain delay.
	for _, want := range []string{`"event slowpoke"`, `in group "events"`, `stage \"events\" did not stop within 400ms`} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr does not contain %q:\n%s", want, p.stderr.String())
		}
	}
}

// The no-flag demo, as a newcomer runs it: exit 0 and "lost 0". With its
// default write latency (3ms) events end within the 250ms drain delay, so a
// demo tracking them with bare goroutines might get lucky; with a latency
// longer than the delay it would not.
func TestDemo(t *testing.T) {
	for _, args := range [][]string{nil, {"-latency", "400ms"}, {"-requests", "1"}, {"-fault-rate", "0.2"}, {"-sync"}} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			p := startTracker(t, args...)
			code, out := p.exit(t)
			if code != 0 || !strings.Contains(out, "\nlost 0, unexpected 0, partial lines 0\n") {
				t.Fatalf("exit code %d, output:\n%s\nstderr:\n%s", code, out, p.stderr.String())
			}
			t.Logf("demo output:\n%s", out)
		})
	}
}

// Bad flags are a usage error, exit code 2.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-shutdown-timeout", "0"},
		{"-drain-delay", "-1s"},
		{"-drain-delay", "5s", "-shutdown-timeout", "5s"},
		{"-drain-delay", "15s"},
		{"-fault-rate", "1.5"},
		{"-fault-rate", "NaN"},
		{"-nonsense"},
		{"extra-argument"},
	} {
		var stdout, stderr strings.Builder
		if code := run(args, &stdout, &stderr); code != 2 || stderr.Len() == 0 {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and a message", args, code, stderr.String())
		}
	}
}
