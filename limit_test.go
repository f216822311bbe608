package waitgroup_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gowaitgroup/waitgroup"
)

// TestLimitOption checks that Limit(n) bounds Go and TryGo as SetLimit(n)
// does, and that a group built with it still derives its context from the
// parent.
func TestLimitOption(t *testing.T) {
	cause := errors.New("parent gone")
	parent, cancel := context.WithCancelCause(context.Background())
	g := waitgroup.WithContext(parent, waitgroup.Limit(2), waitgroup.GroupName("limited"))
	sub := g.Sub(waitgroup.Limit(1))
	release := make(chan struct{})
	block := func(ctx context.Context) error { <-release; return nil }
	for i, want := range []bool{true, true, false} {
		if got := g.TryGo(block); got != want {
			t.Errorf("TryGo %d = %v, want %v", i, got, want)
		}
	}
	for i, want := range []bool{true, false} {
		if got := sub.TryGo(block); got != want {
			t.Errorf("sub TryGo %d = %v, want %v", i, got, want)
		}
	}
	cancel(cause)
	for _, g := range []*waitgroup.Group{g, sub} {
		if !errors.Is(context.Cause(g.Context()), cause) {
			t.Errorf("group context's cause %v, want the parent's", context.Cause(g.Context()))
		}
	}
	close(release)
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	u := waitgroup.New(waitgroup.Limit(-1))
	if first, second := u.TryGo(block), u.TryGo(block); !first || !second {
		t.Error("Limit(-1) limited TryGo")
	}
	if err := u.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}
