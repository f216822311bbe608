// Command waitgroupvet reports misuses of waitgroup, errgroup and
// sync.WaitGroup that go vet and staticcheck miss.
//
// Run it on packages, as go vet runs:
//
//	waitgroupvet ./...
//
// or as go vet's tool, to combine it with go vet's own flags:
//
//	go vet -vettool=$(command -v waitgroupvet) ./...
//
// It prints file:line:col: message for each finding and exits non-zero if
// there is one. Each check can be turned off by name (-selfwait=false) or
// run alone (-selfwait); see waitgroupvet help. The migrate check, which
// offers to turn sync.WaitGroup and errgroup code into waitgroup code, is
// off by default: run it with -migrate, and -fix to apply its fixes.
package main

import (
	"os"
	"strings"

	"github.com/gowaitgroup/waitgroup/waitgroupvet"
	"golang.org/x/tools/go/analysis/multichecker"
)

func main() {
	analyzers := waitgroupvet.Analyzers()
	if optIn(os.Args[1:]) {
		analyzers = append(analyzers, waitgroupvet.Migrate)
	}
	// multichecker runs as a standalone driver, or as go vet's unit
	// checker when go vet passes it a .cfg file.
	multichecker.Main(analyzers...)
}

// optIn reports whether the arguments ask for the migrate check, or for
// the list of flags or help, which must show it.
func optIn(args []string) bool {
	for _, a := range args {
		if a == "help" {
			return true
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case waitgroupvet.Migrate.Name, "flags":
			return true
		}
		if strings.HasPrefix(name, waitgroupvet.Migrate.Name+".") {
			return true
		}
	}
	return false
}
