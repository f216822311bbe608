// Command service demonstrates a Start/Wait/Close service built on
// waitgroup: a TCP echo server whose Close stops in stages (a
// waitgroup.Stages): it stops accepting, then drains its connections within
// a deadline, force-closes what is left and waits for every goroutine it
// started.
//
// Run it with no arguments: it starts the server on an ephemeral port of
// 127.0.0.1, has a few clients echo some lines, closes the server while one
// request is still being served, checks what each client saw, and prints a
// summary. It exits 1 if anything was lost.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		os.Exit(1)
	}
}

// A summary is what the demo observed, from the clients' side.
type summary struct {
	clients, echoed int    // idle clients, and lines echoed to them
	inFlightReply   string // what the client whose request straddled Close got
	closedByServer  int    // idle clients whose connection the drain closed
	refusedAfter    bool   // a connection attempted after Close was refused
	closeTook       time.Duration
}

const (
	demoClients = 3
	demoLines   = 3
	slowWork    = 100 * time.Millisecond
)

func run(w io.Writer) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	started := make(chan struct{}, 1)
	svc := &Service{
		DrainTimeout: 2 * time.Second,
		Handle: func(line string) string {
			job, slow := strings.CutPrefix(line, "slow ")
			if !slow {
				return line
			}
			started <- struct{}{}
			time.Sleep(slowWork) // a request that takes a while
			return "done " + job
		},
	}
	if err := svc.Start(l); err != nil {
		return err
	}
	addr := svc.Addr().String()
	fmt.Fprintf(w, "listening on %s\n", addr)

	s, err := exercise(svc, addr, started)
	if err != nil {
		_ = svc.Close()
		return err
	}
	fmt.Fprintf(w, "%d clients echoed %d lines\n", s.clients, s.echoed)
	fmt.Fprintf(w, "request in flight during Close answered: %q\n", s.inFlightReply)
	fmt.Fprintf(w, "idle connections closed by the drain: %d of %d\n", s.closedByServer, s.clients)
	fmt.Fprintf(w, "connection after Close refused: %v\n", s.refusedAfter)
	fmt.Fprintf(w, "Close took %v (drain deadline %v)\n", s.closeTook.Round(time.Millisecond), svc.DrainTimeout)
	if s.echoed != demoClients*demoLines || s.inFlightReply != "done job-42" ||
		s.closedByServer != demoClients || !s.refusedAfter {
		return errors.New("the shutdown lost something")
	}
	return nil
}

// exercise has the clients use svc, closes it while a request is in flight,
// and reports what the clients saw.
func exercise(svc *Service, addr string, started <-chan struct{}) (summary, error) {
	var s summary
	var idle []*bufio.ReadWriter
	for c := range demoClients {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return s, err
		}
		defer conn.Close()
		rw := bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn))
		for i := range demoLines {
			msg := fmt.Sprintf("client %d line %d", c, i)
			got, err := roundTrip(rw, msg)
			if err != nil {
				return s, err
			}
			if got != msg {
				return s, fmt.Errorf("sent %q, got %q back", msg, got)
			}
			s.echoed++
		}
		idle = append(idle, rw)
	}
	s.clients = len(idle)

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		return s, err
	}
	defer slow.Close()
	slowRW := bufio.NewReadWriter(bufio.NewReader(slow), bufio.NewWriter(slow))
	if _, err := slowRW.WriteString("slow job-42\n"); err != nil {
		return s, err
	}
	if err := slowRW.Flush(); err != nil {
		return s, err
	}
	<-started // the server is now serving the slow request

	begin := time.Now()
	if err := svc.Close(); err != nil {
		return s, fmt.Errorf("close: %w", err)
	}
	s.closeTook = time.Since(begin)

	reply, err := slowRW.ReadString('\n')
	if err != nil {
		return s, fmt.Errorf("in-flight request: %w", err)
	}
	s.inFlightReply = strings.TrimSuffix(reply, "\n")
	for _, rw := range idle {
		if _, err := rw.ReadString('\n'); errors.Is(err, io.EOF) {
			s.closedByServer++
		}
	}
	if c, err := net.Dial("tcp", addr); err != nil {
		s.refusedAfter = true
	} else {
		c.Close()
	}
	return s, nil
}

func roundTrip(rw *bufio.ReadWriter, msg string) (string, error) {
	if _, err := rw.WriteString(msg + "\n"); err != nil {
		return "", err
	}
	if err := rw.Flush(); err != nil {
		return "", err
	}
	reply, err := rw.ReadString('\n')
	return strings.TrimSuffix(reply, "\n"), err
}
