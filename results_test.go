package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

func TestResultsValuesInCallOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := waitgroup.NewResults[string](waitgroup.New())
		// Later calls end first.
		for i := range 5 {
			r.Go(func(ctx context.Context) (string, error) {
				time.Sleep(time.Duration(5-i) * time.Second)
				if i == 2 {
					return "partial", errItem
				}
				return fmt.Sprint("v", i), nil
			}, waitgroup.Name(fmt.Sprint("task ", i)))
		}
		vals, err := r.Wait(context.Background())
		if want := []string{"v0", "v1", "partial", "v3", "v4"}; !slices.Equal(vals, want) {
			t.Errorf("values %q, want %q", vals, want)
		}
		var te *waitgroup.TaskError
		if !errors.As(err, &te) || te.Index != 2 || te.Name != "task 2" || !errors.Is(err, errItem) {
			t.Errorf("err = %v, want a *TaskError for index 2, named", err)
		}
		if got, want := err.Error(), `task 2 "task 2": bad item`; got != want {
			t.Errorf("err = %q, want %q", got, want)
		}
	})
}

func TestResultsTryGoTakesNoIndex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.Limit(1))
		r := waitgroup.NewResults[int](g)
		release := make(chan struct{})
		if !r.TryGo(func(ctx context.Context) (int, error) { <-release; return 10, nil }) {
			t.Fatal("TryGo refused the first task")
		}
		if r.TryGo(func(ctx context.Context) (int, error) { return 99, nil }) {
			t.Fatal("TryGo started a task beyond the limit")
		}
		close(release)
		synctest.Wait()
		r.Go(func(ctx context.Context) (int, error) { return 11, nil })
		vals, err := r.Wait(context.Background())
		if !slices.Equal(vals, []int{10, 11}) || err != nil {
			t.Errorf("Wait = %v, %v; want [10 11], nil", vals, err)
		}
	})
}

// TestResultsWaitGivesUp checks that Wait gives up like Group.Wait, and that
// the values it returned are the caller's: a task that ends later does not
// write to them (the race detector would see it).
func TestResultsWaitGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		r := waitgroup.NewResults[int](g)
		release := make(chan struct{})
		r.Go(func(ctx context.Context) (int, error) { return 1, nil })
		r.Go(func(ctx context.Context) (int, error) { <-release; return 2, nil }, waitgroup.Name("slow"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		vals, err := r.Wait(ctx)
		var we *waitgroup.WaitError
		if !errors.As(err, &we) || !errors.Is(err, context.DeadlineExceeded) || we.Total != 1 || we.Pending[0].Name != "slow" {
			t.Fatalf("Wait = %v, want a *WaitError naming the slow task", err)
		}
		close(release)
		if err := g.Wait(context.Background()); err != nil { // also waits for r's tasks
			t.Fatal(err)
		}
		if !slices.Equal(vals, []int{1, 0}) {
			t.Errorf("values returned on giving up became %v, want [1 0]", vals)
		}
		if vals, err := r.Wait(context.Background()); !slices.Equal(vals, []int{1, 2}) || err != nil {
			t.Errorf("second Wait = %v, %v; want [1 2], nil", vals, err)
		}
	})
}

func fetchUser(ctx context.Context) (int, error) {
	<-ctx.Done()
	return 0, nil
}

// TestResultsPendingNamesTheFunction checks that an unnamed task is
// described by the function given to Go, not by the wrapper that stores its
// value.
func TestResultsPendingNamesTheFunction(t *testing.T) {
	g := waitgroup.New()
	r := waitgroup.NewResults[int](g)
	r.Go(fetchUser)
	p := g.Pending()
	if len(p) != 1 || !strings.Contains(p[0].Where, "fetchUser") {
		t.Errorf("Pending = %v, want the task described by fetchUser", p)
	}
	g.Cancel(nil)
	if _, err := r.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestResultsZeroValuePanicAndCancelOnError(t *testing.T) {
	t.Run("zero value", func(t *testing.T) {
		var r waitgroup.Results[int]
		r.Go(func(ctx context.Context) (int, error) { panic("kaboom") })
		r.Go(func(ctx context.Context) (int, error) { return 7, nil })
		vals, err := r.Wait(context.Background())
		var pe *waitgroup.PanicError
		var te *waitgroup.TaskError
		if !slices.Equal(vals, []int{0, 7}) || !errors.As(err, &te) || te.Index != 0 || !errors.As(err, &pe) || pe.Value != "kaboom" {
			t.Errorf("Wait = %v, %v; want [0 7] and task 0's panic", vals, err)
		}
	})
	t.Run("CancelOnError", func(t *testing.T) {
		r := waitgroup.NewResults[int](waitgroup.New(waitgroup.CancelOnError()))
		r.Go(func(ctx context.Context) (int, error) {
			<-ctx.Done()
			if !errors.Is(context.Cause(ctx), errItem) {
				return -1, fmt.Errorf("cause %v, want errItem", context.Cause(ctx))
			}
			return 1, ctx.Err()
		})
		r.Go(func(ctx context.Context) (int, error) { return 2, errItem })
		vals, err := r.Wait(context.Background())
		var te *waitgroup.TaskError
		if !slices.Equal(vals, []int{1, 2}) || !errors.As(err, &te) || te.Index != 1 || len(taskErrors(t, err)) != 1 {
			t.Errorf("Wait = %v, %v; want [1 2] and task 1's failure alone", vals, err)
		}
	})
}

func TestResultsMisuse(t *testing.T) {
	var r waitgroup.Results[int]
	for _, tt := range []struct {
		name, want string
		call       func()
	}{
		{"NewResults(nil)", "NewResults(nil)", func() { waitgroup.NewResults[int](nil) }},
		{"Go(nil)", "nil function", func() { r.Go(nil) }},
		{"TryGo(nil)", "nil function", func() { r.TryGo(nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) { panicsWith(t, tt.want, tt.call) })
	}
}

// TestResultsConcurrentGo starts tasks from several goroutines, some with
// TryGo at a limit, while another goroutine waits: every accepted task gets
// one slot, and no value is lost.
func TestResultsConcurrentGo(t *testing.T) {
	g := waitgroup.New(waitgroup.Limit(3))
	r := waitgroup.NewResults[int](g)
	var accepted sync.Map
	var starters sync.WaitGroup
	for s := range 4 {
		starters.Go(func() {
			for i := range 50 {
				v := s*1000 + i + 1
				f := func(ctx context.Context) (int, error) { return v, nil }
				if i%2 == 0 {
					r.Go(f)
					accepted.Store(v, true)
				} else if r.TryGo(f) {
					accepted.Store(v, true)
				}
			}
		})
	}
	waiting := make(chan error, 1)
	go func() { _, err := r.Wait(context.Background()); waiting <- err }()
	starters.Wait()
	if err := <-waiting; err != nil {
		t.Fatal(err)
	}
	vals, err := r.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	accepted.Range(func(any, any) bool { want++; return true })
	seen := map[int]bool{}
	for _, v := range vals {
		if _, ok := accepted.Load(v); !ok || seen[v] {
			t.Fatalf("value %d: not accepted, or twice", v)
		}
		seen[v] = true
	}
	if len(vals) != want {
		t.Errorf("%d values, want %d", len(vals), want)
	}
}
