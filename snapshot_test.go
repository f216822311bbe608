package waitgroup_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// taskNames returns the name of each task, or its Where if it has none.
func taskNames(ts []waitgroup.TaskInfo) []string {
	var out []string
	for _, t := range ts {
		if t.Name != "" {
			out = append(out, t.Name)
		} else {
			out = append(out, t.Where)
		}
	}
	return out
}

// TestSnapshotTasksOldestFirst mixes tasks started by Go and IDs, added a
// second apart, and checks that each bound gets the oldest, in order, and
// counts the rest.
func TestSnapshotTasksOldestFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		main := waitgroup.New(waitgroup.GroupName("main"))
		http := main.Sub(waitgroup.GroupName("http"))
		g := http.Sub(waitgroup.GroupName("conns"))
		release := make(chan struct{})
		block := func(context.Context) error { <-release; return nil }
		var ids []waitgroup.ID
		for i, name := range []string{"go1", "id2", "go3", "id4", "go5"} {
			if i > 0 {
				time.Sleep(time.Second)
			}
			if name[:2] == "go" {
				g.Go(block, waitgroup.Name(name))
			} else {
				ids = append(ids, g.Add(waitgroup.Name(name)))
			}
		}
		start := time.Now().Add(-4 * time.Second)
		all := []string{"go1", "id2", "go3", "id4", "go5"}
		for _, tc := range []struct {
			n    int
			want []string
		}{
			{-1, all},
			{0, nil},
			{1, all[:1]},
			{3, all[:3]},
			{5, all},
			{9, all},
		} {
			s := g.Snapshot(tc.n)
			if got := taskNames(s.Tasks); !slices.Equal(got, tc.want) {
				t.Errorf("Snapshot(%d).Tasks = %q, want %q", tc.n, got, tc.want)
			}
			if s.Pending != 5 || s.More != 5-len(tc.want) {
				t.Errorf("Snapshot(%d): Pending %d, More %d; want 5, %d", tc.n, s.Pending, s.More, 5-len(tc.want))
			}
			for i, task := range s.Tasks {
				if want := start.Add(time.Duration(i) * time.Second); !task.Since.Equal(want) {
					t.Errorf("Snapshot(%d): task %d since %v, want %v", tc.n, i, task.Since, want)
				}
				if task.Group != "conns" || task.State != waitgroup.TaskRunning {
					t.Errorf("Snapshot(%d): task %d in group %q, state %v", tc.n, i, task.Group, task.State)
				}
			}
			if s.Name != "conns" || s.Path != "main/http/conns" {
				t.Errorf("Snapshot(%d): name %q, path %q", tc.n, s.Name, s.Path)
			}
		}
		close(release)
		for _, id := range ids {
			if err := g.Done(id); err != nil {
				t.Fatal(err)
			}
		}
		if err := main.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s := g.Snapshot(10); s.Pending != 0 || len(s.Tasks) != 0 || s.More != 0 {
			t.Errorf("after Wait: Pending %d, %d tasks, More %d", s.Pending, len(s.Tasks), s.More)
		}
	})
}

func TestSnapshotErrorsOfTheRound(t *testing.T) {
	g := waitgroup.New()
	errA, errB := errors.New("a"), errors.New("b")
	g.Go(func(context.Context) error { return errA })
	g.Go(func(context.Context) error { return errB })
	g.Go(func(context.Context) error { return nil })
	err := g.Wait(context.Background())
	s := g.Snapshot(10)
	if len(s.Errors) != 2 || !slices.ContainsFunc(s.Errors, func(e error) bool { return e == errA }) ||
		!slices.ContainsFunc(s.Errors, func(e error) bool { return e == errB }) {
		t.Fatalf("Errors = %v, want a and b (Wait returned %v)", s.Errors, err)
	}
	// A new task starts a new round.
	release := make(chan struct{})
	g.Go(func(context.Context) error { <-release; return nil })
	if s := g.Snapshot(10); s.Errors != nil || s.Pending != 1 {
		t.Errorf("new round: Errors %v, Pending %d; want none, 1", s.Errors, s.Pending)
	}
	close(release)
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Only echoes of the cancellation: the first one, as Wait reports it.
	c := waitgroup.New()
	c.Cancel(nil)
	c.Go(func(ctx context.Context) error { return ctx.Err() })
	werr := c.Wait(context.Background())
	if s := c.Snapshot(10); len(s.Errors) != 1 || !errors.Is(s.Errors[0], context.Canceled) || !errors.Is(werr, context.Canceled) {
		t.Errorf("echo only: Errors %v, Wait %v; want context.Canceled in both", s.Errors, werr)
	}
}

func TestSnapshotChildren(t *testing.T) {
	main := waitgroup.New(waitgroup.GroupName("main"))
	a := main.Sub(waitgroup.GroupName("a"))
	linked := waitgroup.New(waitgroup.GroupName("linked"))
	main.Link(linked)
	b := main.Sub(waitgroup.GroupName("b"))
	idle := main.Sub(waitgroup.GroupName("idle")) // never busy: not held by main
	_ = idle
	ida, idb := a.Add(), b.Add()

	names := func(gs []*waitgroup.Group) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Snapshot(0).Path)
		}
		return out
	}
	for _, tc := range []struct {
		n    int
		want []string
		more int
	}{
		{-1, []string{"main/a", "main/linked", "main/b"}, 0},
		{2, []string{"main/a", "main/linked"}, 1},
		{0, nil, 3},
	} {
		s := main.Snapshot(tc.n)
		if got := names(s.Children); !slices.Equal(got, tc.want) || s.MoreChildren != tc.more {
			t.Errorf("Snapshot(%d): children %q, %d more; want %q, %d more", tc.n, got, s.MoreChildren, tc.want, tc.more)
		}
		if s.Pending != 0 {
			t.Errorf("Snapshot(%d): Pending %d counts the children's tasks", tc.n, s.Pending)
		}
	}
	if err := a.Done(ida); err != nil {
		t.Fatal(err)
	}
	if err := b.Done(idb); err != nil {
		t.Fatal(err)
	}
	// Idle Subs with nothing to report leave; a link stays.
	if got := names(main.Snapshot(-1).Children); !slices.Equal(got, []string{"main/linked"}) {
		t.Errorf("after the Subs are done: children %q, want only main/linked", got)
	}
	if err := main.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotPathFollowsLaterLink checks that a path computed, and cached,
// before the top group was linked changes with that link.
func TestSnapshotPathFollowsLaterLink(t *testing.T) {
	for _, opts := range [][]waitgroup.Option{
		nil,
		{waitgroup.Registered()},
		{waitgroup.Labels()},
	} {
		root := waitgroup.New(append([]waitgroup.Option{waitgroup.GroupName("root")}, opts...)...)
		leaf := root.Sub(append([]waitgroup.Option{waitgroup.GroupName("leaf")}, opts...)...)
		if got := leaf.Snapshot(0).Path; got != "root/leaf" {
			t.Fatalf("path %q, want root/leaf", got)
		}
		top := waitgroup.New()
		top.Link(root)
		other := waitgroup.New(waitgroup.GroupName("other"))
		other.Link(root) // not the first parent: not in the path
		if got := leaf.Snapshot(0).Path; got != "(unnamed)/root/leaf" {
			t.Errorf("options %v: path after Link %q, want (unnamed)/root/leaf", opts, got)
		}
	}
}

func TestSnapshotWaitingForASlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New(waitgroup.Limit(1))
		release := make(chan struct{})
		g.Go(func(context.Context) error { <-release; return nil }, waitgroup.Name("first"))
		go g.Go(func(context.Context) error { return nil }, waitgroup.Name("second"))
		synctest.Wait() // the second Go is blocked for the slot
		s := g.Snapshot(-1)
		var states []string
		for _, task := range s.Tasks {
			states = append(states, task.Name+": "+task.State.String())
		}
		want := []string{"first: running", "second: waiting for a limit slot"}
		if !slices.Equal(states, want) {
			t.Errorf("states %q, want %q", states, want)
		}
		close(release)
		if err := g.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSnapshotSameInstant checks the order of tasks added while the clock
// did not move: IDs, then tasks started by Go, each in the order added.
func TestSnapshotSameInstant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := waitgroup.New()
		release := make(chan struct{})
		var want []string
		var ids []waitgroup.ID
		for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
			g.Go(func(context.Context) error { <-release; return nil }, waitgroup.Name("go "+name))
			ids = append(ids, g.Add(waitgroup.Name("id "+name)))
		}
		for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
			want = append(want, "id "+name)
		}
		for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
			want = append(want, "go "+name)
		}
		for _, n := range []int{-1, 3, 8} {
			w := want
			if n >= 0 {
				w = want[:n]
			}
			if got := taskNames(g.Snapshot(n).Tasks); !slices.Equal(got, w) {
				t.Errorf("Snapshot(%d) = %q, want %q", n, got, w)
			}
		}
		close(release)
		for _, id := range ids {
			g.Done(id)
		}
		if err := g.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
