package debug_test

// The tasks of the golden test live in this file, apart, because the view
// shows where they come from: editing the tests must not move them.

import (
	"context"
	"sync"

	"github.com/gowaitgroup/waitgroup"
)

// serveForever runs until the group is cancelled.
func serveForever(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// A gate holds tasks until it is closed; its method values are tasks
// described by a name that does not depend on inlining.
type gate chan struct{}

func (g gate) wait(context.Context) error {
	<-g
	return nil
}

// addRequest tracks a request with an ID, as graceful.ServeHTTP does.
func addRequest(g *waitgroup.Group, name string) waitgroup.ID {
	return g.Add(waitgroup.Name(name))
}

// A latch's tasks say that they run, then wait for release.
type latch struct {
	started sync.WaitGroup
	release gate
}

func (l *latch) run(context.Context) error {
	l.started.Done()
	<-l.release
	return nil
}
