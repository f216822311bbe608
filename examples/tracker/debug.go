package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/debug"
)

// debugOptions are the options of the tracker's groups: with -debug-addr
// they are listed in the live view and their tasks' goroutines labelled.
// (The group of graceful.Run, which holds the HTTP server's task, is made
// by graceful and not listed; its Sub of requests is.)
func (cfg config) debugOptions() []waitgroup.Option {
	if cfg.debugAddr == "" {
		return nil
	}
	return []waitgroup.Option{waitgroup.Registered(), waitgroup.Labels()}
}

// serveDebug serves the live view at /debug/waitgroup on addr, if it is not
// empty, and returns its URL. The view stays up through the shutdown, when
// it matters most, until stop is called as the tracker exits.
func serveDebug(addr string) (stop func(), url string, err error) {
	if addr == "" {
		return func() {}, "", nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/waitgroup", debug.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	g := waitgroup.New(waitgroup.GroupName("debug server"))
	g.Go(func(context.Context) error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, waitgroup.Name("live view"))
	return func() {
		srv.Close()
		g.Wait(context.Background())
	}, fmt.Sprintf("http://%v/debug/waitgroup", ln.Addr()), nil
}
