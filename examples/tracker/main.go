// Command tracker is an HTTP service that answers 201 Created to each
// POST /event?id=ID and records the event asynchronously, and that loses no
// event when it is stopped with SIGTERM under load, nor when its disk
// fails. It is the service of the "incomplete work" article, built on
// waitgroup and graceful.
//
// Without flags it runs a self-contained demo: it serves on an ephemeral
// port of 127.0.0.1, fires a few thousand concurrent requests at itself,
// sends itself SIGTERM while they are in flight, drains, and prints what
// was sent, accepted, refused, recorded and lost. It exits 0 only if
// nothing was lost. With -fault-rate 0.2 a fifth of its writes fail:
//
//	go run ./examples/tracker
//	go run ./examples/tracker -fault-rate 0.2
//
// With -serve it is a plain server for outside load:
//
//	go run ./examples/tracker -serve -addr 127.0.0.1:8080 -events events.log
//
// With -debug-addr it also serves the live view of its groups and pending
// tasks (package github.com/gowaitgroup/waitgroup/debug) at
// /debug/waitgroup on a listener of its own, until it exits. The view shows
// event ids, request paths and code locations: give it a loopback address,
// as for pprof:
//
//	go run ./examples/tracker -serve -debug-addr 127.0.0.1:6061
//	curl 'http://127.0.0.1:6061/debug/waitgroup?stacks=1'
//
// # What a 201 means
//
// POST /event?id=ID answers 201 once the event is queued for the writer,
// which appends the line ID to the events file, exactly once per 201, in
// batches; with -sync, only once the event's batch is written and synced.
// Otherwise it answers 503: while draining, while the events file is
// failing, or when too many events wait. GET /healthz answers 200 while the
// service takes events and 503 while it does not (draining, or the file
// failing).
//
// A write that fails is taken back whole, so the file never holds part of
// a line, and retried with a backoff (10ms doubling to 1s, plus up to half
// of that at random) until it succeeds; every failure is logged when it
// happens, and events are refused with 503 until a write succeeds. Before
// each write the tracker checks that the events file is still the file at
// its path; if it was deleted or replaced, it reopens the path (or, if that
// fails, keeps failing loudly as above), and at exit it checks again.
// -fault-rate P makes each write fail with probability P, after writing a
// random part of its batch, to show all this; the failures are the same
// for the same -seed.
//
// On SIGTERM or SIGINT the server answers 503 during the drain delay, then
// stops in three stages, each with a bound of its own inside
// -shutdown-timeout: the HTTP server stops accepting connections and
// finishes the requests in flight; then the writer, told to stop only
// now, writes every event still queued; then the file is synced and
// closed. It exits 0 if every accepted event is written and synced, and 1
// otherwise, saying how many accepted events were not written and naming
// the stage and the work that did not finish. A second signal stops
// waiting at once.
//
// Events are queued in memory between the 201 and the write: those still
// queued are lost if the process is killed with SIGKILL (or crashes), and
// those written but not yet synced may be lost if the machine fails. Use
// -sync when a 201 must mean "on disk"; it costs a sync per batch and the
// wait for it in every request.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags say.
type config struct {
	serve     bool
	addr      string
	events    string
	timeout   time.Duration
	drain     time.Duration
	latency   time.Duration
	faultRate float64
	seed      uint64
	sync      bool
	requests  int // demo only
	debugAddr string
}

// run is main with its inputs and outputs made explicit; it returns the
// exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tracker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.BoolVar(&cfg.serve, "serve", false, "serve for outside load instead of running the demo")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on with -serve")
	fs.StringVar(&cfg.events, "events", "events.log", "`file` to append recorded event ids to with -serve")
	fs.DurationVar(&cfg.timeout, "shutdown-timeout", 10*time.Second, "bound on the whole shutdown, drain delay included")
	fs.DurationVar(&cfg.drain, "drain-delay", 1500*time.Millisecond, "time between SIGTERM and closing the listener, answering 503 (demo default: 250ms); less than -shutdown-timeout")
	fs.DurationVar(&cfg.latency, "latency", 3*time.Millisecond, "simulated latency of each write of a batch of events")
	fs.Float64Var(&cfg.faultRate, "fault-rate", 0, "probability `P` that a write fails, after writing part of its batch")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the injected faults and of the retry jitter")
	fs.BoolVar(&cfg.sync, "sync", false, "answer 201 only once the event is written and synced")
	fs.IntVar(&cfg.requests, "requests", 3000, "number of requests the demo sends")
	fs.StringVar(&cfg.debugAddr, "debug-addr", "", "`host:port` to serve the live view of the groups on, at /debug/waitgroup, with -serve; a loopback address, as for pprof (default: off)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tracker: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if !cfg.serve {
		drainSet := false
		fs.Visit(func(f *flag.Flag) { drainSet = drainSet || f.Name == "drain-delay" })
		if !drainSet {
			cfg.drain = 250 * time.Millisecond // a demo should not idle
		}
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintf(stderr, "tracker: %v\n", err)
		return 2
	}
	if !cfg.serve {
		return demo(cfg, stdout, stderr)
	}

	// Open what can fail before anything starts: a port in use is reported
	// at once, with nothing to undo.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintf(stderr, "tracker: cannot listen: %v\n", err)
		return 1
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	stopDebug, debugURL, err := serveDebug(cfg.debugAddr)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "tracker: cannot listen for -debug-addr: %v\n", err)
		return 1
	}
	defer stopDebug()
	s, err := newService(cfg, cfg.events, logger)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "tracker: cannot open the events file: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "tracker: listening on %v, recording events to %s\n", ln.Addr(), cfg.events)
	if debugURL != "" {
		fmt.Fprintf(stdout, "tracker: live view of the groups at %s\n", debugURL)
	}
	if err := s.serve(context.Background(), ln, nil); err != nil {
		fmt.Fprintf(stderr, "tracker: %v\n", err)
		fmt.Fprintf(stdout, "tracker: stopped with errors: %d events recorded, %d accepted but not written\n", s.track.Recorded(), s.track.Unwritten())
		return 1
	}
	fmt.Fprintf(stdout, "tracker: stopped cleanly, %d events recorded\n", s.track.Recorded())
	return 0
}

// check refuses flags that cannot work.
func (cfg config) check() error {
	switch {
	case cfg.timeout <= 0 || cfg.requests <= 0:
		return errors.New("-shutdown-timeout and -requests must be positive")
	case cfg.drain < 0 || cfg.latency < 0:
		return errors.New("-drain-delay and -latency must not be negative")
	case cfg.drain >= cfg.timeout:
		return fmt.Errorf("-drain-delay (%v) must be shorter than -shutdown-timeout (%v), or no event could be written after it", cfg.drain, cfg.timeout)
	case !(cfg.faultRate >= 0 && cfg.faultRate <= 1):
		return fmt.Errorf("-fault-rate %v is not a probability", cfg.faultRate)
	case cfg.debugAddr != "" && !cfg.serve:
		return errors.New("-debug-addr needs -serve")
	}
	return nil
}

// bounds divides the time the shutdown has after the drain delay among its
// stages: the HTTP server's own limit (then its connections are closed),
// the HTTP stage (handlers that outlive their connection), the writer's
// budget and its stage, and the file's stage.
type bounds struct {
	http, httpStage, budget, events, file time.Duration
}

func (cfg config) bounds() bounds {
	rest := cfg.timeout - cfg.drain
	return bounds{
		http:      rest * 3 / 10,
		httpStage: rest * 4 / 10,
		budget:    rest * 3 / 10,
		events:    rest * 4 / 10,
		file:      rest * 2 / 10,
	}
}

// service is the tracker's parts.
type service struct {
	cfg    config
	log    *slog.Logger     // nil: log nothing
	stages waitgroup.Stages // after the HTTP server's: events, then file
	events *waitgroup.Group // the writer, and one task per queued event
	file   *waitgroup.Group // the task that closes the events file
	track  *Tracker
}

// newService opens the events file at path and makes the writer.
func newService(cfg config, path string, logger *slog.Logger) (*service, error) {
	s := &service{cfg: cfg, log: logger}
	b := cfg.bounds()
	open := openFile
	if cfg.faultRate > 0 {
		open = faultyOpen(cfg.faultRate, cfg.seed)
	}
	s.events = s.stages.Add("events", b.events, append(cfg.debugOptions(), waitgroup.CancelOnError())...)
	s.file = s.stages.Add("file", b.file, cfg.debugOptions()...)
	var err error
	s.track, err = NewTracker(s.events, TrackerConfig{
		Path: path, Open: open, Latency: cfg.latency, Sync: cfg.sync,
		Budget: b.budget, Seed: cfg.seed, Logger: logger,
	})
	return s, err
}

// serve runs the service on ln until it is told to stop, and closes the
// events file. It returns nil once every event accepted is written and
// synced, or an error saying what was left. extra, if not nil, is called
// when the service has started, to start more tasks (the demo's load) in
// groups of its own.
func (s *service) serve(ctx context.Context, ln net.Listener, extra func()) error {
	b := s.cfg.bounds()
	ready := new(graceful.Readiness)
	opts := []graceful.Option{
		graceful.WithReadiness(ready),
		graceful.DrainDelay(s.cfg.drain),
		graceful.ShutdownTimeout(s.cfg.timeout),
		graceful.GroupName("http"),
		graceful.GroupOptions(s.cfg.debugOptions()...),
		graceful.StageTimeout(b.httpStage),
		graceful.Then(&s.stages),
	}
	if s.log != nil {
		opts = append(opts, graceful.Logger(s.log))
	}
	started := false
	err := graceful.Run(ctx, func(g *waitgroup.Group) error {
		started = true
		s.events.Go(s.track.Run, waitgroup.Name("event writer"))
		s.file.Go(func(ctx context.Context) error {
			<-ctx.Done() // the writer has stopped
			if err := s.track.Close(); err != nil {
				return fmt.Errorf("closing the events file: %w", err)
			}
			return nil
		}, waitgroup.Name("events file"))
		a := &app{ready: ready, track: s.track, sync: s.cfg.sync}
		srv := &http.Server{
			Handler: a.routes(),
			// A client that sends its request slowly, or not at all, must
			// not hold its connection past the HTTP stage: these bound
			// how long a connection can stay busy, so that the shutdown
			// keeps its deadline whatever the clients do.
			ReadHeaderTimeout: min(5*time.Second, b.http/2),
			ReadTimeout:       min(5*time.Second, b.http/2),
			WriteTimeout:      min(10*time.Second, b.http),
			IdleTimeout:       30 * time.Second,
			MaxHeaderBytes:    8 << 10,
			ErrorLog:          errorLog(s.log),
		}
		reqs := g.Sub(waitgroup.GroupName("requests")) // registered with Run's group
		g.Go(graceful.ServeHTTP(reqs, srv, ln, b.http), waitgroup.Name("http server"))
		if extra != nil {
			extra()
		}
		return nil
	}, opts...)
	if !started {
		ln.Close()
	}
	// Closed already by its stage, unless Run gave up before it.
	return errors.Join(err, s.track.Close())
}

// errorLog sends the HTTP server's own complaints (malformed requests,
// Accept errors) to logger, or nowhere without one: the demo's clients
// that give up mid-shutdown would only add noise.
func errorLog(logger *slog.Logger) *log.Logger {
	if logger == nil {
		return slog.NewLogLogger(slog.DiscardHandler, slog.LevelWarn)
	}
	return slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
}
