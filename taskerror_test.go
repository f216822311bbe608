package waitgroup_test

import (
	"errors"
	"io"
	"testing"

	"github.com/gowaitgroup/waitgroup"
)

// panickyErr is an error whose every method panics, as a nil pointer receiver
// or a buggy wrapper might.
type panickyErr struct{}

func (*panickyErr) Error() string   { panic("Error") }
func (*panickyErr) Unwrap() error   { panic("Unwrap") }
func (*panickyErr) Is(error) bool   { panic("Is") }
func (*panickyErr) As(any) bool     { panic("As") }
func (*panickyErr) Timeout() bool   { return false }
func (*panickyErr) Temporary() bool { return false }

type nilDeref struct{ msg *string }

func (e *nilDeref) Error() string { return *e.msg }

func TestTaskErrorMessage(t *testing.T) {
	var typedNil *nilDeref
	tests := []struct {
		name string
		err  *waitgroup.TaskError
		want string
	}{
		{"index", &waitgroup.TaskError{Index: 3, Err: io.EOF}, "task 3: EOF"},
		{"name", &waitgroup.TaskError{Index: 0, Name: `fetch "b"`, Err: io.EOF}, `task 0 "fetch \"b\"": EOF`},
		{"nil Err", &waitgroup.TaskError{Index: 1}, "task 1: <nil>"},
		{"Error panics", &waitgroup.TaskError{Index: 2, Err: &panickyErr{}}, "task 2: %!v(PANIC=Error method: Error)"},
		{"typed nil", &waitgroup.TaskError{Index: 4, Err: typedNil}, "task 4: <nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTaskErrorUnwrap(t *testing.T) {
	te := &waitgroup.TaskError{Index: 1, Err: &panickyErr{}}
	if _, ok := te.Unwrap().(*panickyErr); !ok {
		t.Errorf("Unwrap() = %#v, want the task's error", te.Unwrap())
	}
	wrapped := &waitgroup.TaskError{Err: &waitgroup.PanicError{Value: io.EOF}}
	var pe *waitgroup.PanicError
	if !errors.As(wrapped, &pe) || !errors.Is(wrapped, io.EOF) {
		t.Errorf("errors.As/Is do not see through %v", wrapped)
	}
}
