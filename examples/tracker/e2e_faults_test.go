package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// The fault test: with a fifth of the writes failing after writing
// part of their batch, 3 000 requests sent at once (3 000 connections, well
// within the 20 000 descriptors of the test machine) and SIGTERM once a
// third are answered, every 201's event is in the file exactly once, no
// line is partial, nothing else is there, and the exit code is 0. With
// seed 1 the first write fails, so the fault path is always taken.
func TestServeFaultsUnderLoad(t *testing.T) {
	const n = 3000
	raiseFileLimit(t, 2*n+200)
	events := filepath.Join(t.TempDir(), "events.log")
	p := startTracker(t, "-serve", "-addr", "127.0.0.1:0", "-events", events,
		"-shutdown-timeout", "10s", "-drain-delay", "0", "-latency", "5ms",
		"-fault-rate", "0.2", "-seed", "1")
	base := "http://" + p.addr(t)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	status := make([]atomic.Int32, n) // 0: no HTTP answer
	var answered atomic.Int32
	var reqs waitgroup.Group
	for i := range n {
		reqs.Go(func(context.Context) error {
			resp, err := client.Post(fmt.Sprintf("%s/event?id=f-%d", base, i), "", nil)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status[i].Store(int32(resp.StatusCode))
			}
			if answered.Add(1) == n/3 {
				return p.cmd.Process.Signal(syscall.SIGTERM)
			}
			return nil
		})
	}
	if err := reqs.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, out := p.exit(t)
	if code != 0 {
		t.Fatalf("exit code %d, want 0; stdout %q; stderr:\n%s", code, out, p.stderr.String())
	}
	counts := checkRecorded(t, events, "f-", status)
	failures := strings.Count(p.stderr.String(), `msg="tracker: writing events failed"`)
	t.Logf("%d requests: %d×201, %d×503, %d without answer; %d failed writes logged; stdout %q",
		n, counts[201], counts[503], counts[0], failures, out)
	if failures == 0 {
		t.Error("no write failed: the fault path was not taken")
	}
	if counts[201] == 0 || counts[201] == n {
		t.Errorf("%d of %d requests got 201: SIGTERM was not sent mid-load", counts[201], n)
	}
}

// With a device that fails every write, the first event is accepted (no
// write has failed yet), and from the first failure on readiness answers
// 503, every event is refused with 503, each failure is logged, and the
// exit is non-zero with the count of the events not written.
func TestServeDevFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	p := startTracker(t, "-serve", "-addr", "127.0.0.1:0", "-events", "/dev/full",
		"-shutdown-timeout", "3s", "-drain-delay", "0", "-latency", "0")
	base := "http://" + p.addr(t)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	do := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	if code, body := do("POST", "/event?id=first"); code != 201 {
		t.Fatalf("first event: %d %q, want 201", code, body)
	}
	// The first write fails soon after; readiness must say so.
	deadline := time.Now().Add(10 * time.Second)
	code, body := do("GET", "/healthz")
	for code == 200 && time.Now().Before(deadline) {
		code, body = do("GET", "/healthz")
	}
	if code != 503 || !strings.Contains(body, "events file failing") || !strings.Contains(body, "no space left on device") {
		t.Fatalf("healthz after the first failure: %d %q, want 503 naming the failure", code, body)
	}
	for i := range 50 {
		if code, body := do("POST", fmt.Sprintf("/event?id=late-%d", i)); code != 503 || !strings.Contains(body, "events file is failing") {
			t.Errorf("event after the first failure: %d %q, want 503", code, body)
		}
	}
	if code, _ := do("GET", "/healthz"); code != 503 {
		t.Errorf("healthz = %d, want 503 while the file fails", code)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exit, out := p.exit(t)
	stderr := p.stderr.String()
	if exit != 1 {
		t.Errorf("exit code %d, want 1", exit)
	}
	if !strings.Contains(out, "0 events recorded, 1 accepted but not written") ||
		!strings.Contains(stderr, `tracker: 1 events accepted were not written (the first: "first")`) {
		t.Errorf("the exit does not count the event not written: stdout %q, stderr:\n%s", out, stderr)
	}
	// One line per failed attempt, as it happens: attempt 1, 2, 3, ...
	attempts := regexp.MustCompile(`msg="tracker: writing events failed" err="write /dev/full: no space left on device" attempt=(\d+) events=1 `).FindAllStringSubmatch(stderr, -1)
	if len(attempts) < 3 {
		t.Fatalf("%d failures logged, want one per attempt, several; stderr:\n%s", len(attempts), stderr)
	}
	for i, m := range attempts {
		if m[1] != strconv.Itoa(i+1) {
			t.Errorf("failure line %d is attempt %s: a failure was not logged", i+1, m[1])
		}
	}
}

// One client sending its body a byte every 2s, 1 000 idle kept-alive
// connections and 1 000 connections that never sent a request (2 000 in
// all, within the 20 000 descriptors of the test machine) cannot make the
// shutdown miss its deadline: the exit is clean and well within it.
func TestServeSlowAndIdleClients(t *testing.T) {
	const idle = 1000
	raiseFileLimit(t, 2*(2*idle+10)+200)
	events := filepath.Join(t.TempDir(), "events.log")
	// The HTTP server's limit is 3/10 of the 10s, its read timeout half
	// that: a slow client is cut off 1.5s after it began its request.
	p := startTracker(t, "-serve", "-addr", "127.0.0.1:0", "-events", events,
		"-shutdown-timeout", "10s", "-drain-delay", "0")
	addr := p.addr(t)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		return c
	}
	for i := range idle {
		c := dial()
		fmt.Fprintf(c, "POST /event?id=idle-%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("idle client %d: %v %v", i, resp, err)
		}
		resp.Body.Close() // the connection stays open, idle
	}
	for range idle {
		dial() // never sends a byte
	}
	slow := dial()
	start := time.Now()
	fmt.Fprintf(slow, "POST /event?id=slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nx")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Second):
				if _, err := slow.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	// The handler answers at once, but the server reads the rest of the
	// body before it sends the answer: the connection stays busy. Once the
	// event is in the file, the handler has run; the answer, which comes
	// when the server gives up reading, must come after the SIGTERM.
	answered := make(chan time.Time, 1)
	go func() {
		http.ReadResponse(bufio.NewReader(slow), nil)
		answered <- time.Now()
	}()
	for !strings.Contains(readFile(t, events), "slow\n") {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the slow client's event was not recorded in 10s")
		}
	}
	begin := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, out := p.exit(t)
	took := time.Since(begin)
	if code != 0 {
		t.Fatalf("exit code %d after %v, want 0; stdout %q; stderr:\n%s", code, took, out, p.stderr.String())
	}
	if took > 10*time.Second {
		t.Errorf("shutdown took %v, more than its 10s deadline", took)
	}
	if at := <-answered; at.Before(begin) {
		t.Errorf("the slow request ended %v before the SIGTERM: the shutdown did not meet it", begin.Sub(at))
	}
	t.Logf("shutdown with %d idle, %d silent and 1 slow connection took %v", idle, idle, took)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// raiseFileLimit raises the soft limit on open files of the test process,
// which the tracker it starts inherits, to n, or skips the test if the hard
// limit is lower.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot read the open file limit: %v", err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("needs %d open files; the hard limit is %d", n, lim.Max)
	}
	old := lim.Cur
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot raise the open file limit: %v", err)
	}
	t.Cleanup(func() {
		lim.Cur = old
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	})
}
