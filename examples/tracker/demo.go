package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// demoConcurrency is how many requests the demo keeps in flight.
const demoConcurrency = 128

// outcome of one demo request.
const (
	pending        int32 = iota
	created              // 201: its event must be in the file
	refusedBusy          // 503: draining
	refusedFailing       // 503: the events file is failing (or too many events wait)
	failed               // no HTTP answer (connection refused or reset) or another status
)

// demo serves on an ephemeral port, loads the server from inside the
// process, sends the process SIGTERM once a third of the requests were
// answered, and checks the events file against the answers.
func demo(cfg config, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "tracker: cannot listen: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "tracker-demo-")
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "tracker: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "events.log")
	svc, err := newService(cfg, path, nil)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "tracker: %v\n", err)
		return 1
	}

	l := newLoad(cfg.requests, "http://"+ln.Addr().String())
	fmt.Fprintf(stdout, "tracker demo: %d POST /event to %v, %d at a time; SIGTERM after %d answers",
		cfg.requests, ln.Addr(), demoConcurrency, l.sigAfter)
	if cfg.faultRate > 0 {
		fmt.Fprintf(stdout, "; writes fail with probability %v (seed %d)", cfg.faultRate, cfg.seed)
	}
	if cfg.sync {
		fmt.Fprint(stdout, "; 201 once synced")
	}
	fmt.Fprintln(stdout)
	start := time.Now()
	err = svc.serve(context.Background(), ln, l.start)
	stopped := time.Now()

	// The load ends quickly once the server is gone: connections are
	// refused. Its groups are waited for like any other.
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if werr := l.wait(wctx); werr != nil {
		fmt.Fprintf(stderr, "tracker: load: %v\n", werr)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "tracker: %v\n", err)
	}
	s, rerr := l.check(path)
	if rerr != nil {
		fmt.Fprintf(stderr, "tracker: %v\n", rerr)
		return 1
	}
	fmt.Fprintf(stdout, "sent      %d requests\n", cfg.requests)
	fmt.Fprintf(stdout, "201       %d (event accepted)\n", s.created)
	fmt.Fprintf(stdout, "503       %d (draining)\n", s.busy)
	fmt.Fprintf(stdout, "503       %d (events file failing)\n", s.failing)
	fmt.Fprintf(stdout, "failed    %d (refused after the listener closed)\n", s.failed)
	fmt.Fprintf(stdout, "writes    %d failed and retried\n", svc.track.Failures())
	fmt.Fprintf(stdout, "recorded  %d events\n", s.recorded)
	fmt.Fprintf(stdout, "lost %d, unexpected %d, partial lines %d\n", s.lost, s.unexpected, s.partial)
	fmt.Fprintf(stdout, "shutdown  %dms from SIGTERM to the last event written (drain delay %v); whole run %dms\n",
		stopped.Sub(l.sigAt()).Milliseconds(), cfg.drain, stopped.Sub(start).Milliseconds())
	if err != nil || s.lost != 0 || s.unexpected != 0 || s.partial != 0 || s.created == 0 {
		fmt.Fprintln(stdout, "FAIL: not every 201 was recorded exactly once")
		return 1
	}
	fmt.Fprintln(stdout, "ok: every 201 was recorded exactly once")
	return 0
}

// load is the demo's client: its requests are tasks of a group too.
type load struct {
	base     string
	client   *http.Client
	outcome  []atomic.Int32 // by request id
	answered atomic.Int64
	sigAfter int64

	sigOnce sync.Once
	sigTime atomic.Pointer[time.Time]

	dispatch waitgroup.Group // the loop that issues the requests
	requests waitgroup.Group // one task per request, limited
}

func newLoad(n int, base string) *load {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = demoConcurrency
	l := &load{
		base:     base,
		client:   &http.Client{Transport: tr},
		outcome:  make([]atomic.Int32, n),
		sigAfter: max(int64(n/3), 1), // at least one answer, or it would never signal
	}
	l.requests.SetLimit(demoConcurrency)
	l.dispatch.Link(&l.requests)
	return l
}

// start issues the requests from a task, so that the service's start
// function does not block on the limit.
func (l *load) start() {
	l.dispatch.Go(func(context.Context) error {
		for i := range l.outcome {
			l.requests.Go(func(context.Context) error { l.send(i); return nil })
		}
		return nil
	}, waitgroup.Name("dispatch"))
}

func (l *load) send(i int) {
	o := failed
	resp, err := l.client.Post(l.base+"/event?id=ev-"+strconv.Itoa(i), "", nil)
	var body []byte
	if err == nil {
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusCreated:
			o = created
		case http.StatusServiceUnavailable:
			o = refusedFailing
			if bytes.Contains(body, []byte("shutting down")) {
				o = refusedBusy
			}
		}
	}
	l.outcome[i].Store(o)
	if l.answered.Add(1) == l.sigAfter {
		l.sigOnce.Do(l.sigterm)
	}
}

// sigterm does what an orchestrator does: it signals the process.
func (l *load) sigterm() {
	now := time.Now()
	l.sigTime.Store(&now)
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		err = p.Signal(syscall.SIGTERM)
	}
	if err != nil {
		panic(fmt.Sprintf("tracker: cannot send SIGTERM to itself: %v", err))
	}
}

func (l *load) sigAt() time.Time {
	if t := l.sigTime.Load(); t != nil {
		return *t
	}
	return time.Now()
}

func (l *load) wait(ctx context.Context) error {
	err := l.dispatch.Wait(ctx)
	l.client.CloseIdleConnections()
	return err
}

type summary struct {
	created, busy, failing, failed int
	recorded                       int
	lost                           int // 201s whose event is not in the file
	unexpected                     int // lines that are not exactly one 201's event
	partial                        int // 1 if the file does not end with a whole line
}

// check compares the events file with the answers the clients got.
func (l *load) check(path string) (summary, error) {
	var s summary
	data, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		s.partial = 1
	}
	seen := make(map[string]int)
	for line := range strings.Lines(string(data)) {
		seen[strings.TrimSuffix(line, "\n")]++
		s.recorded++
	}
	for i := range l.outcome {
		id := "ev-" + strconv.Itoa(i)
		n := seen[id]
		delete(seen, id)
		switch l.outcome[i].Load() {
		case created:
			s.created++
			if n == 0 {
				s.lost++
			}
			s.unexpected += max(n-1, 0)
		case refusedBusy:
			s.busy++
			s.unexpected += n
		case refusedFailing:
			s.failing++
			s.unexpected += n
		default:
			s.failed++
			s.unexpected += n
		}
	}
	for _, n := range seen {
		s.unexpected += n
	}
	return s, nil
}
