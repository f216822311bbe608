// Command tracker is an HTTP service that answers 201 Created to each
// POST /event?id=ID and records the event asynchronously, and that loses no
// event when it is stopped with SIGTERM under load. It is the service of
// the "incomplete work" article, built on waitgroup and graceful.
//
// Without flags it runs a self-contained demo: it serves on an ephemeral
// port of 127.0.0.1, fires a few thousand concurrent requests at itself,
// sends itself SIGTERM while they are in flight, drains, and prints what
// was sent, accepted, recorded and lost. It exits 0 only if nothing was
// lost.
//
//	go run ./examples/tracker
//
// With -serve it is a plain server for outside load:
//
//	go run ./examples/tracker -serve -addr 127.0.0.1:8080 -events events.log
//
// POST /event?id=ID answers 201 and later appends the line ID to the events
// file, exactly once per 201; GET /healthz answers 200 while serving and
// 503 from SIGTERM on. On SIGTERM or SIGINT the server answers 503 during
// the drain delay, then stops accepting connections, finishes the requests
// in flight, writes every accepted event, and exits 0; if that takes longer
// than -shutdown-timeout it exits 1 naming the unfinished work. A second
// signal stops waiting at once.
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
	serve    bool
	addr     string
	events   string
	timeout  time.Duration
	drain    time.Duration
	latency  time.Duration
	requests int // demo only
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
	fs.DurationVar(&cfg.drain, "drain-delay", 1500*time.Millisecond, "time between SIGTERM and closing the listener, answering 503 (demo default: 250ms)")
	fs.DurationVar(&cfg.latency, "latency", 3*time.Millisecond, "simulated write latency of one event")
	fs.IntVar(&cfg.requests, "requests", 3000, "number of requests the demo sends")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tracker: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if cfg.timeout <= 0 || cfg.drain < 0 || cfg.latency < 0 || cfg.requests <= 0 {
		fmt.Fprintln(stderr, "tracker: -shutdown-timeout and -requests must be positive, -drain-delay and -latency not negative")
		return 2
	}
	if !cfg.serve {
		drainSet := false
		fs.Visit(func(f *flag.Flag) { drainSet = drainSet || f.Name == "drain-delay" })
		if !drainSet {
			cfg.drain = 250 * time.Millisecond // a demo should not idle
		}
		return demo(cfg, stdout, stderr)
	}

	// Open what can fail before anything starts: a port in use is reported
	// at once, with nothing to undo.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintf(stderr, "tracker: cannot listen: %v\n", err)
		return 1
	}
	f, err := os.OpenFile(cfg.events, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "tracker: cannot open the events file: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "tracker: listening on %v, recording events to %s\n", ln.Addr(), cfg.events)
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	tr, err := serve(context.Background(), cfg, ln, f, logger, nil)
	if err != nil {
		fmt.Fprintf(stderr, "tracker: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "tracker: stopped cleanly, %d events recorded\n", tr.Recorded())
	return 0
}

// serve runs the service on ln until it is told to stop, then closes f. It
// returns once every event accepted is in f, or with an error saying what
// was left. extra, if not nil, is called when the service has started, to
// start more tasks (the demo's load) in groups of its own.
func serve(ctx context.Context, cfg config, ln net.Listener, f *os.File, logger *slog.Logger, extra func()) (*Tracker, error) {
	ready := new(graceful.Readiness)
	var tr *Tracker
	// The HTTP stage gets half the time left after the drain delay, so that
	// the events accepted by the last requests still have time to be
	// written before the overall deadline.
	httpStage := max((cfg.timeout-cfg.drain)/2, time.Millisecond)
	opts := []graceful.Option{
		graceful.WithReadiness(ready),
		graceful.DrainDelay(cfg.drain),
		graceful.ShutdownTimeout(cfg.timeout),
	}
	if logger != nil {
		opts = append(opts, graceful.Logger(logger))
	}
	err := graceful.Run(ctx, func(g *waitgroup.Group) error {
		// Events are a sub-group: Run's Wait waits for them after the HTTP
		// server, and a failed event does not stop the service.
		tr = NewTracker(g.Sub(waitgroup.GroupName("events")), f, cfg.latency)
		a := &app{ready: ready, track: tr}
		srv := &http.Server{
			Handler:           a.routes(),
			ReadHeaderTimeout: 5 * time.Second,
			ErrorLog:          errorLog(logger),
		}
		g.Go(graceful.ServeHTTP(srv, ln, httpStage), waitgroup.Name("http server"))
		if extra != nil {
			extra()
		}
		return nil
	}, opts...)
	// Only now, with the events group drained (or given up on), may the
	// file close; a late event's write then fails and is not lost silently.
	cerr := errors.Join(f.Sync(), f.Close())
	if cerr != nil {
		cerr = fmt.Errorf("closing the events file: %w", cerr)
	}
	return tr, errors.Join(err, cerr)
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
