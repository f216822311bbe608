package graceful_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
)

// A service's main: start the tasks, and let Run stop them on SIGTERM.
// Here the example sends the signal itself, through the Signals option, so
// that it does not signal the process running it.
func ExampleRun() {
	sigs := make(chan os.Signal, 1)
	err := graceful.Run(context.Background(), func(g *waitgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			fmt.Println("worker: started")
			sigs <- syscall.SIGTERM // in production, the orchestrator sends it
			<-ctx.Done()
			fmt.Println("worker: stopping:", context.Cause(ctx))
			return nil
		}, waitgroup.Name("worker"))
		return nil
	}, graceful.Signals(sigs), graceful.ShutdownTimeout(10*time.Second))
	fmt.Println("Run returned", err)
	// Output:
	// worker: started
	// worker: stopping: graceful: shutting down: received terminated
	// Run returned <nil>
}

// An HTTP service with a readiness probe. The listener is opened before Run
// starts anything, so that a port in use fails at once.
func ExampleServeHTTP() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ready := new(graceful.Readiness)
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", ready)
	srv := &http.Server{Handler: mux}
	url := "http://" + ln.Addr().String() + "/healthz"

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	err = graceful.Run(ctx, func(g *waitgroup.Group) error {
		reqs := g.Sub(waitgroup.GroupName("requests"))
		g.Go(graceful.ServeHTTP(reqs, srv, ln, 5*time.Second), waitgroup.Name("http"))
		g.Go(func(context.Context) error {
			resp, err := http.Get(url)
			if err != nil {
				return err
			}
			resp.Body.Close()
			fmt.Println("healthz:", resp.Status)
			stop() // as a signal would
			return nil
		}, waitgroup.Name("probe"))
		return nil
	}, graceful.WithReadiness(ready))
	fmt.Println("Run returned", err)
	_, err = http.Get(url)
	fmt.Println("after shutdown, refused:", err != nil)
	// Output:
	// healthz: 200 OK
	// Run returned <nil>
	// after shutdown, refused: true
}

// A raw TCP service: each connection runs in a connection group that is
// drained after the listener closes.
func ExampleServeTCP() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	greet := func(ctx context.Context, c net.Conn) error {
		name, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return nil // this connection's problem, not the service's
		}
		fmt.Fprintf(c, "hello, %s", name)
		return nil
	}
	sigs := make(chan os.Signal, 1)
	err = graceful.Run(context.Background(), func(g *waitgroup.Group) error {
		conns := g.Sub(waitgroup.GroupName("conns"))
		g.Go(graceful.ServeTCP(conns, ln, greet, 5*time.Second), waitgroup.Name("accept"))
		g.Go(func(context.Context) error {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return err
			}
			defer c.Close()
			fmt.Fprintln(c, "gopher")
			reply, err := bufio.NewReader(c).ReadString('\n')
			fmt.Print(reply)
			sigs <- syscall.SIGTERM
			return err
		}, waitgroup.Name("client"))
		return nil
	}, graceful.Signals(sigs))
	fmt.Println("Run returned", err)
	// Output:
	// hello, gopher
	// Run returned <nil>
}

// A service whose writer must flush what the intake accepted, and whose
// file must be closed last: the intake is Run's group, the writer and the
// file are later stages. The writer's context is cancelled only once the
// intake has stopped, so the event accepted during the shutdown is written.
func ExampleThen() {
	var stages waitgroup.Stages
	flush := stages.Add("flush", 5*time.Second)
	files := stages.Add("close", time.Second)
	events := make(chan string, 100)
	var file []string // stands for the events file

	sigs := make(chan os.Signal, 1)
	err := graceful.Run(context.Background(), func(g *waitgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			events <- "accepted before the signal"
			sigs <- syscall.SIGTERM
			<-ctx.Done()
			events <- "accepted while stopping" // a request in flight
			return nil
		}, waitgroup.Name("intake"))
		flush.Go(func(ctx context.Context) error {
			for {
				select {
				case e := <-events:
					file = append(file, e)
				case <-ctx.Done(): // the intake has stopped: nothing more comes
					for len(events) > 0 {
						file = append(file, <-events)
					}
					return nil
				}
			}
		}, waitgroup.Name("writer"))
		files.Go(func(ctx context.Context) error {
			<-ctx.Done()
			fmt.Println("closing the file with", file)
			return nil
		}, waitgroup.Name("file"))
		return nil
	}, graceful.Signals(sigs), graceful.GroupName("intake"), graceful.StageTimeout(5*time.Second), graceful.Then(&stages))
	fmt.Println("Run returned", err)
	// Output:
	// closing the file with [accepted before the signal accepted while stopping]
	// Run returned <nil>
}
