package waitgroup_test

// Fan-out behaviour that rests on core changes of issue 13, made in the
// group's internals: an error that wraps the group's cause is an echo
// (errors.Is, not identity); a panic is never an echo, even inside a
// *TaskError; a user error whose Is, As or Unwrap panics is contained; a
// *PanicError names its task. Until those changes land, these tests fail
// (TestFanOutPanickingErrorMethodsContained by a crash of its subprocess).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// TestMapWrappedCauseIsEcho is the net/http case of the issue: with
// CancelOnError, one item fails and the others return an error that wraps
// the cause; Map's error is the one failure.
func TestMapWrappedCauseIsEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := waitgroup.Map(context.Background(), []int{0, 1, 2, 3}, func(ctx context.Context, i int) (int, error) {
			if i == 2 {
				time.Sleep(time.Second)
				return 0, errItem
			}
			<-ctx.Done()
			return 0, fmt.Errorf("sibling stopped: %w", context.Cause(ctx))
		}, waitgroup.CancelOnError())
		if got := indexes(taskErrors(t, err)); len(got) != 1 || got[0] != 2 {
			t.Errorf("Map error %q, want item 2's failure alone", err)
		}
	})
}

// TestMapPanicOfCanceledIsNotEcho panics with ctx.Err() after the group's
// context is cancelled: a panic is a real error even when its value is
// context.Canceled, and even inside the *TaskError of a Map.
func TestMapPanicOfCanceledIsNotEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := waitgroup.Map(context.Background(), []int{0, 1}, func(ctx context.Context, i int) (int, error) {
			if i == 0 {
				time.Sleep(time.Second)
				return 0, errItem
			}
			<-ctx.Done()
			panic(ctx.Err())
		}, waitgroup.CancelOnError())
		var pe *waitgroup.PanicError
		if got := indexes(taskErrors(t, err)); len(got) != 2 || !errors.As(err, &pe) {
			t.Errorf("Map error %q, want item 0's failure and item 1's panic", err)
		}
	})
}

func panicInFetch(ctx context.Context) (int, error) { panic("kaboom") }

// TestFanOutPanicErrorNamesTask checks that the message of a *PanicError
// from a Results task says which task: its name, or its function.
func TestFanOutPanicErrorNamesTask(t *testing.T) {
	var r waitgroup.Results[int]
	r.Go(func(ctx context.Context) (int, error) { panic("kaboom") }, waitgroup.Name("fetch a"))
	r.Go(panicInFetch)
	_, err := r.Wait(context.Background())
	for _, te := range taskErrors(t, err) {
		var pe *waitgroup.PanicError
		if !errors.As(te, &pe) {
			t.Fatalf("task %d: %v, want a *PanicError", te.Index, te)
		}
		msg, _, _ := strings.Cut(pe.Error(), "\n")
		want := map[int]string{0: `waitgroup: task "fetch a" panicked: kaboom`, 1: "panicInFetch"}[te.Index]
		if !strings.Contains(msg, want) {
			t.Errorf("task %d: panic message %q, want it to contain %q", te.Index, msg, want)
		}
	}
}

// panickyEnv makes the test binary run the scenario of
// TestFanOutPanickingErrorMethodsContained in a subprocess, where a panic
// escaping the library ends the process instead of the whole test run.
const panickyEnv = "WAITGROUP_TEST_PANICKY_ERRORS"

// TestFanOutPanickingErrorMethodsContained returns, from Map, MapSeq and
// Results with CancelOnError, errors whose methods panic, after the group's
// context is cancelled, when they are checked for echoes of the cause. No
// panic may escape.
func TestFanOutPanickingErrorMethodsContained(t *testing.T) {
	if os.Getenv(panickyEnv) == "1" {
		synctest.Test(t, panickyScenario)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFanOutPanickingErrorMethodsContained$", "-test.count=1")
	cmd.Env = append(os.Environ(), panickyEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		first, _, _ := strings.Cut(string(out), "\n\n")
		t.Fatalf("a panic escaped: %v\n%s", err, first)
	}
}

func panickyScenario(t *testing.T) {
	f := func(ctx context.Context, i int) (int, error) {
		if i == 1 {
			time.Sleep(time.Second) // the others are waiting by then
			return 0, errItem
		}
		<-ctx.Done()
		return 0, &panickyErr{}
	}
	if _, err := waitgroup.Map(context.Background(), []int{0, 1, 2}, f, waitgroup.CancelOnError()); err == nil {
		t.Error("Map: no error")
	}
	var pulled atomic.Int64
	for range waitgroup.MapSeq(context.Background(), count(3, &pulled), f, waitgroup.CancelOnError()) {
	}
	r := waitgroup.NewResults[int](waitgroup.New(waitgroup.CancelOnError()))
	for i := range 3 {
		r.Go(func(ctx context.Context) (int, error) { return f(ctx, i) })
	}
	if _, err := r.Wait(context.Background()); err == nil {
		t.Error("Results: no error")
	}
}
