package waitgroup_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/gowaitgroup/waitgroup"
)

// model is what a group should hold: its live IDs, its running tasks and
// the errors of its current round.
type model struct {
	g        *waitgroup.Group
	ids      []waitgroup.ID
	done     []waitgroup.ID // IDs already done, to be refused
	tasks    []chan error   // running Go tasks; send the result to end one
	errs     []string
	reported bool
}

func (m *model) pending() int { return len(m.ids) + len(m.tasks) }

func (m *model) newWork() {
	if m.reported {
		m.reported, m.errs = false, nil
	}
}

// FuzzGroup drives random sequences of Add, Done, Go, task ends, Wait, Link
// (one Sub), Cancel and Pending against a model, checking after each step
// that Done accepts exactly the live IDs, that Pending and a give-up
// WaitError count exactly the pending work, and that a Wait that finds the
// work done returns exactly the round's errors, in order.
func FuzzGroup(f *testing.F) {
	f.Add([]byte{0, 0, 1, 3, 3, 4, 5, 12, 1, 5})
	f.Add([]byte{3, 19, 4, 20, 5, 8, 3, 4, 5, 0, 2, 6, 7, 1})
	f.Add([]byte{8, 11, 13, 3, 4, 20, 5, 5, 3, 12, 5})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		synctest.Test(t, func(t *testing.T) { runModel(t, ops) })
	})
}

func runModel(t *testing.T, ops []byte) {
	g := waitgroup.New()
	root := &model{g: g}
	sub := &model{g: g.Sub()}
	stranger := waitgroup.New().Add()
	var nerr int
	defer func() { // end everything so the bubble can exit
		for _, m := range []*model{root, sub} {
			for _, ch := range m.tasks {
				ch <- nil
			}
			for _, id := range m.ids {
				m.g.Done(id)
			}
		}
		g.Wait(context.Background())
	}()

	for step, op := range ops {
		m := root
		if op&0x10 != 0 {
			m = sub
		}
		arg := int(op >> 5)
		switch op & 0x0f {
		case 0, 9: // Add
			m.newWork()
			var opts []waitgroup.TaskOption
			if arg%2 == 1 {
				opts = append(opts, waitgroup.Name(fmt.Sprint("task", step)))
			}
			m.ids = append(m.ids, m.g.Add(opts...))
		case 1, 10: // Done of a live ID
			if len(m.ids) == 0 {
				continue
			}
			i := arg % len(m.ids)
			if err := m.g.Done(m.ids[i]); err != nil {
				t.Fatalf("step %d: Done(live) = %v", step, err)
			}
			m.done = append(m.done, m.ids[i])
			m.ids = append(m.ids[:i], m.ids[i+1:]...)
		case 2: // Done of an ID that must be refused
			bad := []waitgroup.ID{{}, stranger}
			bad = append(bad, m.done...)
			if m == sub {
				bad = append(bad, root.ids...)
			} else {
				bad = append(bad, sub.ids...)
			}
			if err := m.g.Done(bad[arg%len(bad)]); !errors.Is(err, waitgroup.ErrUnknownID) {
				t.Fatalf("step %d: Done(bad) = %v, want ErrUnknownID", step, err)
			}
		case 3, 11: // Go
			m.newWork()
			ch := make(chan error)
			m.tasks = append(m.tasks, ch)
			m.g.Go(func(context.Context) error { return <-ch })
		case 4, 12: // a task ends, failing if arg is odd
			if len(m.tasks) == 0 {
				continue
			}
			i := arg % len(m.tasks)
			var err error
			if arg%2 == 1 {
				nerr++
				err = fmt.Errorf("e%d", nerr)
				m.errs = append(m.errs, err.Error())
			}
			m.tasks[i] <- err
			m.tasks = append(m.tasks[:i], m.tasks[i+1:]...)
			synctest.Wait()
		case 5, 13: // Wait with a done context, on either group
			checkWait(t, step, m, root, sub)
		case 6: // Cancel: changes no result, as no task echoes it
			m.g.Cancel(nil)
		default: // Pending
			want := m.pending()
			if m == root {
				want += sub.pending()
			}
			if got := len(m.g.Pending()); got != want {
				t.Fatalf("step %d: %d pending, want %d", step, got, want)
			}
		}
	}
}

func checkWait(t *testing.T, step int, m, root, sub *model) {
	t.Helper()
	err := m.g.Wait(expired())
	total, errs := m.pending(), m.errs
	if m == root {
		total += sub.pending()
		errs = append(errs[:len(errs):len(errs)], sub.errs...)
	}
	if total > 0 {
		var we *waitgroup.WaitError
		if !errors.As(err, &we) || we.Total != total || !errors.Is(err, context.Canceled) {
			t.Fatalf("step %d: Wait = %v, want a WaitError with %d pending", step, err, total)
		}
		return
	}
	m.reported = true
	if m == root {
		sub.reported = true
	}
	want := strings.Join(errs, "\n")
	if len(m.errs) > waitgroup.MaxErrors || (m == root && len(sub.errs) > waitgroup.MaxErrors) {
		if !errors.Is(err, waitgroup.ErrTooManyErrors) {
			t.Fatalf("step %d: Wait = %v, want ErrTooManyErrors", step, err)
		}
		return
	}
	got := ""
	if err != nil {
		got = err.Error()
	}
	if got != want {
		t.Fatalf("step %d: Wait = %q, want %q", step, got, want)
	}
}
