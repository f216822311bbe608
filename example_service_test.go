package waitgroup_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// Service runs a TCP echo server with the Start/Wait/Close lifecycle.
type Service struct {
	wg       *waitgroup.Group // everything the service runs; waits for conns last
	conns    *waitgroup.Group // one task per connection
	l        net.Listener
	listener waitgroup.ID // done once the listener is closed
}

// Start listens on addr and accepts connections in the background.
func (s *Service) Start(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err // nothing started, nothing to stop
	}
	s.l = l
	s.wg = waitgroup.New(waitgroup.GroupName("service"))
	s.conns = s.wg.Sub(waitgroup.GroupName("conns"))
	s.listener = s.wg.Add(waitgroup.Name("listener"))
	s.wg.Go(s.accept, waitgroup.Name("accept loop"))
	return nil
}

// Close stops accepting, gives open connections until drain to finish, then
// closes them, and waits for everything until ctx ends.
func (s *Service) Close(ctx context.Context, drain time.Duration) error {
	errs := []error{s.l.Close(), s.wg.Done(s.listener)} // 1. stop accepting
	dctx, cancel := context.WithTimeout(ctx, drain)
	defer cancel()
	if s.conns.Wait(dctx) != nil { // 2. drain
		s.conns.Cancel(errors.New("drain deadline passed")) // 3. force-close
	}
	return errors.Join(append(errs, s.wg.Wait(ctx))...) // 4. all stopped
}

// Wait blocks until the service has stopped and returns its errors.
func (s *Service) Wait() error { return s.wg.Wait(context.Background()) }

func (s *Service) accept(ctx context.Context) error {
	for {
		c, err := s.l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return nil // Close closed the listener
		}
		if err != nil {
			return err
		}
		s.conns.Go(func(ctx context.Context) error { return echo(ctx, c) },
			waitgroup.Name("conn "+c.RemoteAddr().String()))
	}
}

// echo copies lines back until the client hangs up or ctx is cancelled.
func echo(ctx context.Context, c net.Conn) error {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() }) // force-close
	defer stop()
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		if _, err := fmt.Fprintln(c, sc.Text()); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil // closed on purpose
	}
	return sc.Err()
}

// The seed's Start/Wait/Close service, working: Close closes the listener
// first, drains connections with a deadline, then force-closes the rest.
func Example_service() {
	var s Service
	if err := s.Start("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	stopped := make(chan error, 1)
	go func() { stopped <- s.Wait() }()

	// A client that finishes, and one that stays idle until forced out.
	busy, _ := net.Dial("tcp", s.l.Addr().String())
	fmt.Fprintln(busy, "hello")
	line, _ := bufio.NewReader(busy).ReadString('\n')
	fmt.Print("echo: ", line)
	busy.Close()
	idle, _ := net.Dial("tcp", s.l.Addr().String())
	defer idle.Close()
	fmt.Fprintln(idle, "ping")
	bufio.NewReader(idle).ReadString('\n') // its handler is running

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("close:", s.Close(ctx, 50*time.Millisecond))
	fmt.Println("wait:", <-stopped)
	_, err := net.Dial("tcp", s.l.Addr().String())
	fmt.Println("new connections refused:", err != nil)
	// Output:
	// echo: hello
	// close: <nil>
	// wait: <nil>
	// new connections refused: true
}
