package waitgrouptest_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/waitgrouptest"
)

// fakeService is a Start/Close service with a listener tracked by an ID and
// a loop started by Go, and switches for the faults the helpers must catch.
type fakeService struct {
	g    *waitgroup.Group
	quit chan struct{}
	id   waitgroup.ID

	startErr  error // Start fails with it
	hangIn    *gate // Start (if hangStart) or Close blocks on it
	hangStart bool
	leak      *gate // Start leaves a grandchild goroutine blocked on it
	leakLine  atomic.Int64
	skipDone  bool  // Close forgets the listener's ID
	closeErr  error // Close fails with it
}

func newFakeService() *fakeService {
	return &fakeService{g: waitgroup.New(waitgroup.GroupName("fake")), quit: make(chan struct{})}
}

func (s *fakeService) Start() error {
	if s.startErr != nil {
		return s.startErr
	}
	if s.hangStart {
		<-s.hangIn.ch
	}
	s.id = s.g.Add(waitgroup.Name("listener"))
	if !s.skipDone {
		s.g.Go(func(context.Context) error { <-s.quit; return nil }, waitgroup.Name("loop"))
	}
	if s.leak != nil {
		// The parent exits at once: the grandchild is still the service's.
		go func() { go s.leaked() }()
	}
	return nil
}

func (s *fakeService) leaked() {
	s.leakLine.Store(int64(line() + 1))
	<-s.leak.ch
}

func (s *fakeService) Close() error {
	close(s.quit)
	if s.hangIn != nil && !s.hangStart {
		<-s.hangIn.ch
	}
	if !s.skipDone {
		if err := s.g.Done(s.id); err != nil {
			return err
		}
		if err := s.g.Wait(context.Background()); err != nil {
			return err
		}
	}
	return s.closeErr
}

// thisFile is the path of this file, as stacks show it.
func thisFile() string {
	_, file, _, _ := runtime.Caller(0)
	return file
}

func TestStartStopClean(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeService()
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			s := waitgrouptest.Start(tb, svc.Start, svc.Close, waitgrouptest.Groups(svc.g))
			s.Stop()
			s.Stop() // a second Stop, and the cleanup, do nothing
		})
		ft.finish()
		wantMessages(t, ft)
	})
}

func TestStartStopByCleanup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeService()
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Start(tb, svc.Start, svc.Close) })
		select {
		case <-svc.quit:
			t.Fatal("Close called before the cleanup")
		default:
		}
		ft.finish()
		wantMessages(t, ft)
		select {
		case <-svc.quit:
		default:
			t.Fatal("the cleanup did not call Close")
		}
	})
}

// TestStopLeakedGoroutine proves that a goroutine started by a goroutine
// that Start started, and left running by Close, fails the test with its
// stack, and that each problem is reported once.
func TestStopLeakedGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeService()
		svc.leak = newGate()
		svc.closeErr = errors.New("flush failed")
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			waitgrouptest.Start(tb, svc.Start, svc.Close, waitgrouptest.Timeout(2*time.Second)).Stop()
		})
		wantMessages(t, ft,
			"Errorf: waitgrouptest: Close failed: flush failed",
			fmt.Sprintf(`Errorf: waitgrouptest: 1 goroutine started by the service still running 2s after Stop began:
	1 goroutine:
		github.com/gowaitgroup/waitgroup/waitgrouptest_test.(*fakeService).leaked
			%s:%d`, thisFile(), svc.leakLine.Load()))
		svc.leak.open()
	})
}

// TestStopGoroutineEndsInTime proves that a goroutine that ends on its own
// before the deadline is not a leak, in fake time as in real time.
func TestStopGoroutineEndsInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			s := waitgrouptest.Start(tb,
				func() error { return nil },
				func() error { go time.Sleep(time.Second); return nil },
				waitgrouptest.Timeout(2*time.Second))
			s.Stop()
		})
		wantMessages(t, ft)
	})
}

func TestStopCloseHangs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeService()
		svc.hangIn = newGate()
		ft := &fakeTB{}
		var closeLine int
		ft.run(func(tb waitgrouptest.TB) {
			closeLine = closeHangLine()
			waitgrouptest.Start(tb, svc.Start, svc.Close,
				waitgrouptest.Timeout(2*time.Second), waitgrouptest.Groups(svc.g)).Stop()
		})
		wantMessages(t, ft, fmt.Sprintf(`Errorf: waitgrouptest: Close did not return within 2s
1 task pending:
	"listener" (Add at waitgrouptest_test/service_test.go:47) in group "fake", pending 2s
1 goroutine of the service:
	1 goroutine:
		github.com/gowaitgroup/waitgroup/waitgrouptest_test.(*fakeService).Close
			%s:%d`, thisFile(), closeLine))
		svc.hangIn.open()
		synctest.Wait() // let Close, left behind, end
	})
}

// closeHangLine is the line where fakeService.Close blocks on hangIn.
func closeHangLine() int { return funcLine((*fakeService).Close) + 3 }

// funcLine returns the line where the function f is declared.
func funcLine(f any) int {
	fn := runtime.FuncForPC(reflect.ValueOf(f).Pointer())
	_, l := fn.FileLine(fn.Entry())
	return l
}

func TestStopPendingAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeService()
		svc.skipDone = true
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			s := waitgrouptest.Start(tb, svc.Start, svc.Close, waitgrouptest.Groups(svc.g))
			time.Sleep(time.Second)
			s.Stop()
		})
		wantMessages(t, ft, `Errorf: waitgrouptest: 1 task still pending after Close returned:
	"listener" (Add at waitgrouptest_test/service_test.go:47) in group "fake", pending 1s`)
	})
}

func TestStartFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeService()
		svc.startErr = errors.New("address already in use")
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) { waitgrouptest.Start(tb, svc.Start, svc.Close) })
		ft.finish()
		wantMessages(t, ft, "Fatalf: waitgrouptest: Start failed: address already in use")
	})
}

func TestStartHangs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeService()
		svc.hangIn, svc.hangStart = newGate(), true
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			waitgrouptest.Start(tb, svc.Start, svc.Close, waitgrouptest.Timeout(time.Second))
		})
		ft.finish()
		wantMessages(t, ft, fmt.Sprintf(`Fatalf: waitgrouptest: Start did not return within 1s
1 goroutine of the service:
	1 goroutine:
		github.com/gowaitgroup/waitgroup/waitgrouptest_test.(*fakeService).Start
			%s:%d`, thisFile(), funcLine((*fakeService).Start)+5))
		svc.hangIn.open()
		synctest.Wait()
		// Start went on after the test gave up on it; stop what it started.
		if err := svc.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunClean(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			s := waitgrouptest.Run(tb, func(ctx context.Context) error {
				g := waitgroup.WithContext(ctx)
				for range 3 {
					g.Go(func(ctx context.Context) error {
						<-ctx.Done()
						return ctx.Err()
					})
				}
				<-ctx.Done()
				return g.Wait(context.Background())
			})
			time.Sleep(time.Second)
			s.Stop()
		})
		wantMessages(t, ft)
	})
}

func TestRunFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			waitgrouptest.Run(tb, func(ctx context.Context) error { return errors.New("bad config") })
		})
		ft.finish()
		wantMessages(t, ft, "Errorf: waitgrouptest: run failed: bad config")
	})
}

// ignoresContext returns a run function that ignores its context. It is
// not inlined so that its closure keeps the name the test expects.
//
//go:noinline
func ignoresContext(stuck *gate) func(context.Context) error {
	return func(context.Context) error {
		<-stuck.ch
		return nil
	}
}

func TestRunIgnoresCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stuck := newGate()
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			waitgrouptest.Run(tb, ignoresContext(stuck), waitgrouptest.Timeout(3*time.Second)).Stop()
		})
		wantMessages(t, ft, fmt.Sprintf(`Errorf: waitgrouptest: run did not return within 3s
1 goroutine of the service:
	1 goroutine:
		github.com/gowaitgroup/waitgroup/waitgrouptest_test.ignoresContext.func1
			%s:%d`, thisFile(), funcLine(ignoresContext)+2))
		stuck.open()
		synctest.Wait()
	})
}

// TestStopRealTime runs the goroutine check outside a bubble, where it polls,
// and proves that goroutines the test (or a test running in parallel) starts
// are not blamed on the service.
func TestStopRealTime(t *testing.T) {
	unrelated := newGate()
	go func() { <-unrelated.ch }()
	defer unrelated.open()

	svc := newFakeService()
	ft := &fakeTB{}
	ft.run(func(tb waitgrouptest.TB) {
		waitgrouptest.Start(tb, svc.Start, svc.Close, waitgrouptest.Groups(svc.g)).Stop()
	})
	wantMessages(t, ft)

	leaky := newFakeService()
	leaky.leak = newGate()
	defer leaky.leak.open()
	ft = &fakeTB{}
	ft.run(func(tb waitgrouptest.TB) {
		waitgrouptest.Start(tb, leaky.Start, leaky.Close, waitgrouptest.Timeout(50*time.Millisecond)).Stop()
	})
	wantMessages(t, ft, fmt.Sprintf(`Errorf: waitgrouptest: 1 goroutine started by the service still running 50ms after Stop began:
	1 goroutine:
		github.com/gowaitgroup/waitgroup/waitgrouptest_test.(*fakeService).leaked
			%s:%d`, thisFile(), leaky.leakLine.Load()))
}

// TestStopClosePanics proves that a panic in Close fails the test with the
// panic and its stack instead of crashing the test binary.
func TestStopClosePanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			waitgrouptest.Start(tb, func() error { return nil }, func() error { panic("nil map") }).Stop()
		})
		msgs := ft.messages()
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "Errorf: waitgrouptest: Close failed: panic: nil map\n\ngoroutine ") ||
			!strings.Contains(msgs[0], "TestStopClosePanics") {
			t.Fatalf("got %q, want Close's panic with a stack that names the test", msgs)
		}
	})
}

// TestStartGoexit proves that a start function that calls t.FailNow, from
// the goroutine Start runs it in, is reported rather than taken for a hang.
func TestStartGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			waitgrouptest.Start(tb, func() error { runtime.Goexit(); return nil }, func() error { return nil })
		})
		wantMessages(t, ft, "Fatalf: waitgrouptest: Start failed: it called runtime.Goexit (t.FailNow or t.Fatal outside the test's goroutine?); it runs in a goroutine of its own and must return an error instead")
	})
}

// TestRunKeepsLabelThroughPprofDo proves that a run function that adds
// profiler labels of its own, from its context, does not hide its
// goroutines from the check.
func TestRunKeepsLabelThroughPprofDo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stuck := newGate()
		ft := &fakeTB{}
		ft.run(func(tb waitgrouptest.TB) {
			waitgrouptest.Run(tb, func(ctx context.Context) error {
				pprof.Do(ctx, pprof.Labels("component", "indexer"), func(context.Context) {
					go stuck.wait(ctx)
				})
				<-ctx.Done()
				return nil
			}, waitgrouptest.Timeout(time.Second)).Stop()
		})
		msgs := ft.messages()
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "Errorf: waitgrouptest: 1 goroutine started by the service still running 1s after Stop began:\n\t1 goroutine:\n\t\tgithub.com/gowaitgroup/waitgroup/waitgrouptest_test.(*gate).wait\n") {
			t.Errorf("got %q, want the goroutine started under pprof.Do reported", msgs)
		}
		stuck.open()
	})
}
