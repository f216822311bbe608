package waitgroup_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gowaitgroup/waitgroup"
)

// TestStressTree drives a tree of groups (Subs made and dropped on the
// fly, a chain of Links, a diamond) from several goroutines at once, with
// Waits that give up and Waits that must see the end, and checks that the
// counts come back to zero: every Wait(Background) returns once all work
// is done, nothing is left pending, and each failure is reported.
func TestStressTree(t *testing.T) {
	rounds := 5
	if testing.Short() || raceEnabled {
		rounds = 2
	}
	for round := range rounds {
		root := waitgroup.New(waitgroup.GroupName("root"))
		mid := waitgroup.New(waitgroup.GroupName("mid"))
		leaf := waitgroup.New(waitgroup.GroupName("leaf"))
		root.Link(mid)
		mid.Link(leaf)
		root.Link(leaf) // a diamond
		groups := []*waitgroup.Group{root, mid, leaf}
		errBoom := errors.New("boom")
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				var ids []struct {
					g  *waitgroup.Group
					id waitgroup.ID
				}
				for range 2000 {
					g := groups[r.IntN(len(groups))]
					switch r.IntN(6) {
					case 0, 1:
						ids = append(ids, struct {
							g  *waitgroup.Group
							id waitgroup.ID
						}{g, g.Add()})
					case 2:
						if len(ids) > 0 {
							i := r.IntN(len(ids))
							if err := ids[i].g.Done(ids[i].id); err != nil {
								t.Error(err)
								return
							}
							ids = append(ids[:i], ids[i+1:]...)
						}
					case 3:
						s := g.Sub()
						s.Go(func(context.Context) error { return nil })
						if r.IntN(50) == 0 {
							s.Go(func(context.Context) error { return errBoom })
						}
					case 4:
						ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(50))*time.Microsecond)
						err := g.Wait(ctx)
						cancel()
						var we *waitgroup.WaitError
						if err != nil && !errors.As(err, &we) && !errors.Is(err, errBoom) {
							t.Errorf("Wait = %v", err)
							return
						}
					case 5:
						g.OldestPending(3)
					}
				}
				for _, x := range ids {
					if err := x.g.Done(x.id); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		// A count that never comes back to zero hangs this Wait, and the
		// test times out with the goroutines' stacks.
		if err := root.Wait(context.Background()); err != nil && !errors.Is(err, errBoom) {
			t.Fatalf("round %d: Wait = %v", round, err)
		}
		for _, g := range groups {
			if _, n := g.OldestPending(1); n != 0 {
				t.Fatalf("round %d: %d pending in %v after all work ended", round, n, g.Pending())
			}
			if err := g.Wait(context.Background()); err != nil && !errors.Is(err, errBoom) {
				t.Fatalf("round %d: second Wait = %v", round, err)
			}
		}
	}
}
