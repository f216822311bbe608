package graceful_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/graceful"
)

// helperEnv, when set, makes the test binary run helperMain instead of the
// tests: a small service that shuts down on real signals.
const helperEnv = "GRACEFUL_TEST_HELPER"

// helperMain is the service: a worker that stops when told and, in mode
// "stuck", a task that never stops. It prints "ready" once its signal
// handling is in place and "worker stopped" when the worker has stopped.
func helperMain(mode string) int {
	release := make(chan struct{}) // never closed: "stuck" ignores its context
	// Another package's handler, registered first: Run must not take the
	// signal away from it.
	other := make(chan os.Signal, 1)
	signal.Notify(other, syscall.SIGTERM)
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	err := graceful.Run(context.Background(), func(g *waitgroup.Group) error {
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			fmt.Println("worker stopped")
			return nil
		}, waitgroup.Name("worker"))
		if mode == "stuck" {
			g.Go(func(context.Context) error { <-release; return nil }, waitgroup.Name("stuck"))
		}
		fmt.Println("ready")
		return nil
	}, graceful.Logger(logger), graceful.ShutdownTimeout(time.Minute))
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	select {
	case sig := <-other:
		fmt.Println("other handler got", sig)
	case <-time.After(10 * time.Second): // delivery to each channel is asynchronous
		fmt.Println("other handler got nothing")
	}
	fmt.Println("clean exit")
	return 0
}

// service is a running helper process.
type service struct {
	cmd    *exec.Cmd
	lines  chan string // stdout, line by line; closed at EOF
	stderr strings.Builder
}

func startService(t *testing.T, mode string) *service {
	t.Helper()
	s := &service{cmd: exec.Command(os.Args[0], "-test.run=^$"), lines: make(chan string, 16)}
	s.cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	s.cmd.Stderr = &s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go s.scan(out)
	t.Cleanup(func() {
		// A failed test must not leave a service behind.
		s.cmd.Process.Kill()
		for range s.lines {
		}
	})
	s.expect(t, "ready")
	return s
}

func (s *service) scan(r io.Reader) {
	defer close(s.lines)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		s.lines <- sc.Text()
	}
}

// expect waits for the service to print line.
func (s *service) expect(t *testing.T, line string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatalf("service exited before printing %q; stderr:\n%s", line, s.stderr.String())
			}
			if l == line {
				return
			}
		case <-timeout:
			t.Fatalf("service did not print %q in 30s", line)
		}
	}
}

// wait waits for the service to exit and returns its exit code.
func (s *service) wait(t *testing.T) int {
	t.Helper()
	for range s.lines {
	}
	err := s.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

// A real SIGTERM, sent to another process, goes through signal.Notify and
// shuts the service down cleanly with exit code 0, and another handler of
// the same signal still gets it.
func TestRealSIGTERM(t *testing.T) {
	s := startService(t, "polite")
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.expect(t, "worker stopped")
	s.expect(t, "other handler got terminated")
	s.expect(t, "clean exit")
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, s.stderr.String())
	}
	for _, want := range []string{"shutdown started", "reason=\"signal terminated\"", "shutdown complete"} {
		if !strings.Contains(s.stderr.String(), want) {
			t.Errorf("log does not contain %q:\n%s", want, s.stderr.String())
		}
	}
}

// A second real signal ends a shutdown that is stuck well before its one
// minute deadline, and the error names the stuck task.
func TestRealSecondSignal(t *testing.T) {
	s := startService(t, "stuck")
	begin := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.expect(t, "worker stopped") // the shutdown is under way
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := s.wait(t)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, s.stderr.String())
	}
	if d := time.Since(begin); d > 30*time.Second {
		t.Errorf("exit took %v, want well below the 1m deadline", d)
	}
	for _, want := range []string{"second signal", `"stuck"`, "abandoned"} {
		if !strings.Contains(s.stderr.String(), want) {
			t.Errorf("stderr does not contain %q:\n%s", want, s.stderr.String())
		}
	}
}
