package lostid

import (
	"testing"

	wg "github.com/gowaitgroup/waitgroup"
)

// A test leaves work pending on purpose, to see what Wait reports.
func TestStuck(t *testing.T) {
	g := wg.New()
	g.Add(wg.Name("stuck"))
}
