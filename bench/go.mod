module github.com/gowaitgroup/waitgroup/bench

go 1.26.0

replace github.com/gowaitgroup/waitgroup => ../

require (
	github.com/gowaitgroup/waitgroup v0.0.0-00010101000000-000000000000
	github.com/sourcegraph/conc v0.3.0
	golang.org/x/sync v0.24.0
	gopkg.in/tomb.v2 v2.0.0-20161208151619-d5d1b5820637
)

require (
	go.uber.org/atomic v1.7.0 // indirect
	go.uber.org/multierr v1.9.0 // indirect
	golang.org/x/net v0.62.0 // indirect
)
