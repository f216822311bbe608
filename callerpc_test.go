package waitgroup

import (
	"runtime"
	"testing"
)

//go:noinline
func viaCallerPC() uintptr { return callerPC() }

//go:noinline
func viaCallers() uintptr {
	var pc [1]uintptr
	runtime.Callers(2, pc[:])
	return pc[0]
}

type caller struct{}

//go:noinline
func (caller) both() (uintptr, uintptr) { return viaCallerPC(), viaCallers() }

// TestCallerPC checks the frame-pointer read against runtime.Callers from a
// plain function, a method, a closure, a deferred call and a new goroutine.
func TestCallerPC(t *testing.T) {
	plain := func() (uintptr, uintptr) { return viaCallerPC(), viaCallers() }
	deferred := func() (a, b uintptr) {
		defer func() { a, b = viaCallerPC(), viaCallers() }()
		return
	}
	inGoroutine := func() (uintptr, uintptr) {
		ch := make(chan [2]uintptr)
		go func() { ch <- [2]uintptr{viaCallerPC(), viaCallers()} }()
		r := <-ch
		return r[0], r[1]
	}
	for name, f := range map[string]func() (uintptr, uintptr){
		"closure": plain, "method": caller{}.both, "deferred": deferred, "goroutine": inGoroutine,
	} {
		a, b := f()
		fa, _ := runtime.CallersFrames([]uintptr{a}).Next()
		fb, _ := runtime.CallersFrames([]uintptr{b}).Next()
		if fa.Function != fb.Function || fa.Line != fb.Line || fa.Line == 0 {
			t.Errorf("%s: callerPC gives %s:%d, runtime.Callers %s:%d", name, fa.Function, fa.Line, fb.Function, fb.Line)
		}
	}
}
