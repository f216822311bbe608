package waitgroup_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gowaitgroup/waitgroup"
)

func TestZeroGroupGoWait(t *testing.T) {
	var g waitgroup.Group
	errBoom := errors.New("boom")
	done := make(chan struct{})
	g.Go(func(ctx context.Context) error { <-done; return errBoom })
	id := g.Add()
	close(done)
	if err := g.Done(id); err != nil {
		t.Fatal(err)
	}
	if err := g.Wait(context.Background()); !errors.Is(err, errBoom) {
		t.Fatalf("Wait = %v, want %v", err, errBoom)
	}
}
