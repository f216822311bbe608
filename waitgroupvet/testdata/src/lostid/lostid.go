package lostid

import (
	"sync"

	fake "example.com/fake/waitgroup"
	wg "github.com/gowaitgroup/waitgroup"
)

type service struct {
	g  *wg.Group
	id wg.ID
}

type embeds struct{ *wg.Group }

func discarded(g *wg.Group, s *service, e embeds) {
	g.Add()                 // want `the ID returned by g.Add is discarded, so g.Done can never be called with it and g.Wait will not return nil; keep it \(id := g.Add\(...\)\) and call g.Done\(id\) when the work ends`
	_ = g.Add(wg.Name("x")) // want `the ID returned by g.Add is discarded`
	(s.g.Add())             // want `the ID returned by s.g.Add is discarded`
	e.Add()                 // want `the ID returned by e.Add is discarded`
	var _ = g.Add()         // want `the ID returned by g.Add is discarded`
	defer g.Add()           // want `the ID returned by g.Add is discarded`
	x, _ := 1, g.Add()      // want `the ID returned by g.Add is discarded`
	(*wg.Group).Add(g)      // want `the ID returned by g.Add is discarded`
	_ = x
}

// Look-alikes that must not be reported.

type localGroup struct{}

func (*localGroup) Add() wg.ID { return wg.ID{} }

func kept(g *wg.Group, s *service, sw *sync.WaitGroup, fg *fake.Group, lg *localGroup) []wg.ID {
	id := g.Add()
	s.id = g.Add()
	ids := []wg.ID{g.Add()}
	ids = append(ids, g.Add())
	_ = g.Done(g.Add()) // done at once, but not discarded
	sw.Add(1)           // sync.WaitGroup: nothing to keep
	fg.Add()            // same name and signature, other package
	_ = fg.Add()
	lg.Add()
	add := g.Add // a method value is not a call
	_ = add
	return append(ids, id)
}
