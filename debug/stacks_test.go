package debug_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
	"github.com/gowaitgroup/waitgroup/debug"
)

type jsonTask struct {
	Name   string `json:"name"`
	Where  string `json:"where"`
	Stacks []struct {
		Goroutines int      `json:"goroutines"`
		Frames     []string `json:"frames"`
	} `json:"stacks"`
}

// hasFrame reports whether one of t's stacks has a frame of fn.
func (t jsonTask) hasFrame(fn string) bool {
	for _, s := range t.Stacks {
		if slices.ContainsFunc(s.Frames, func(f string) bool { return strings.HasPrefix(f, fn+" ") }) {
			return true
		}
	}
	return false
}

func TestStacksJoinTasksToTheirGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		runtime.GC()
		l := &latch{release: make(gate)}
		svc := waitgroup.New(waitgroup.GroupName("svc"), waitgroup.Registered(), waitgroup.Labels())
		plain := waitgroup.New(waitgroup.GroupName("plain"), waitgroup.Registered())
		l.started.Add(4)
		// A second apart, for the order of the view.
		svc.Go(l.run, waitgroup.Name("worker"))
		time.Sleep(time.Second)
		svc.Go(l.run, waitgroup.Name("worker"))
		time.Sleep(time.Second)
		id := svc.Add(waitgroup.Name("worker")) // no goroutine of its own
		time.Sleep(time.Second)
		svc.Go(l.run)
		plain.Go(l.run, waitgroup.Name("unlabelled"))
		l.started.Wait()
		defer func() {
			close(l.release)
			svc.Done(id)
			for _, g := range []*waitgroup.Group{svc, plain} {
				if err := g.Wait(context.Background()); err != nil {
					t.Error(err)
				}
			}
		}()

		h := debug.Handler()
		var v struct {
			Groups []struct {
				Path  string     `json:"path"`
				Tasks []jsonTask `json:"tasks"`
			} `json:"groups"`
		}
		if err := json.Unmarshal([]byte(get(t, h, "?stacks=1&format=json")), &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Groups) != 2 || v.Groups[0].Path != "svc" || v.Groups[1].Path != "plain" {
			t.Fatalf("groups %+v, want svc and plain", v.Groups)
		}
		const fn = "github.com/gowaitgroup/waitgroup/debug_test.(*latch).run"
		svcTasks := v.Groups[0].Tasks
		for i, tc := range []struct {
			name       string
			goroutines int // of the first stack; 0: no stacks
		}{
			{"worker", 2},
			{"worker", 2},
			{"worker", 0}, // the ID
			{"", 1},
		} {
			task := svcTasks[i]
			if task.Name != tc.name {
				t.Fatalf("task %d is %q, want %q", i, task.Name, tc.name)
			}
			if tc.goroutines == 0 {
				if len(task.Stacks) != 0 {
					t.Errorf("task %d (%s) has stacks %v, want none", i, task.Where, task.Stacks)
				}
				continue
			}
			if len(task.Stacks) != 1 || task.Stacks[0].Goroutines != tc.goroutines || !task.hasFrame(fn) {
				t.Errorf("task %d (%s): stacks %+v, want one of %d goroutines in %s", i, task.Where, task.Stacks, tc.goroutines, fn)
			}
		}
		if task := v.Groups[1].Tasks[0]; len(task.Stacks) != 0 {
			t.Errorf("the task of a group without Labels has stacks %v", task.Stacks)
		}

		text := get(t, h, "?stacks=1")
		for _, want := range []string{
			"2 goroutines with its labels:\n",
			"(its goroutines are shown with the task above of the same name)\n",
			"1 goroutine with its labels:\n",
			"      " + fn + " ",
			"no labelled goroutine for 1 task started by Go: is the group made with waitgroup.Labels()?\n",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("the text view lacks %q:\n%s", want, text)
			}
		}
		if without := get(t, h, ""); strings.Contains(without, "goroutine") {
			t.Errorf("the view without stacks=1 shows stacks:\n%s", without)
		}
	})
}

// TestHandlerWhileGroupsChange takes views while tasks, IDs and Subs come
// and go, for the race detector, and checks that each view is whole.
func TestHandlerWhileGroupsChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		runtime.GC()
		top := waitgroup.New(waitgroup.GroupName("churn"), waitgroup.Registered(), waitgroup.Labels())
		stop := make(chan struct{})
		var workers sync.WaitGroup
		for w := range 2 {
			workers.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					sub := top.Sub(waitgroup.GroupName("sub"), waitgroup.Labels())
					id := sub.Add(waitgroup.Name("id"))
					sub.Go(func(context.Context) error {
						if i%7 == 0 {
							return errors.New("odd job")
						}
						return nil
					}, waitgroup.Name(fmt.Sprintf("job %d/%d", w, i%3)))
					top.Go(func(context.Context) error { return nil })
					sub.Done(id)
					sub.Wait(context.Background())
				}
			})
		}
		h := debug.Handler()
		for i := range 40 {
			q := []string{"", "?format=json", "?stacks=1", "?max=0", "?stacks=1&format=json"}[i%5]
			body := get(t, h, q)
			if strings.HasSuffix(q, "json") {
				var v struct{ Groups []json.RawMessage }
				if err := json.Unmarshal([]byte(body), &v); err != nil || len(v.Groups) == 0 {
					t.Fatalf("%s: %v, %d groups:\n%s", q, err, len(v.Groups), body)
				}
			} else if !strings.Contains(body, "\nchurn: ") {
				t.Fatalf("%s: the view lacks the group:\n%s", q, body)
			}
		}
		close(stop)
		workers.Wait()
		top.Wait(context.Background())
	})
}
