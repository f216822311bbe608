package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
)

// A file is what a sink writes to: an *os.File, or one that injects faults.
type file interface {
	io.Writer
	io.ReaderAt
	Truncate(size int64) error
	Sync() error
	Close() error
	Stat() (os.FileInfo, error)
}

// openFile opens the events file at path for appending, creating it.
func openFile(path string) (file, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
}

// A sink is the events file as the writer sees it. It appends whole lines
// or nothing: what a failed write left (part of a line, if the write was
// short) is taken back, so that no line is ever cut or merged with the
// next. Before each write it checks that the file at its path is still the
// one it writes to, and reopens the path if the file was deleted or
// replaced, so that events do not go on into a file nobody will read.
//
// Its methods are safe for concurrent use: the writer appends while the
// service runs, and the last stage of the shutdown closes it.
type sink struct {
	path string
	open func(path string) (file, error)
	log  *slog.Logger

	mu     sync.Mutex // protects the fields below
	f      file
	size   int64 // the end of the last whole line in f: where the next write goes
	lines  int64 // lines written to f since it was opened
	closed bool
}

// errFatal is matched by the errors after which the sink cannot be used.
var errFatal = errors.New("the events file cannot be repaired")

func newSink(path string, open func(string) (file, error), log *slog.Logger) (*sink, error) {
	s := &sink{path: path, open: open, log: log}
	if err := s.reopenLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// reopenLocked opens the file at path. A last line that an earlier run left
// unterminated (killed in mid-write) is ended first, so that the next line
// is not merged with it.
func (s *sink) reopenLocked() error {
	f, err := s.open(s.path)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	size := fi.Size()
	if size > 0 && fi.Mode().IsRegular() {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err != nil {
			f.Close()
			return fmt.Errorf("reading the end of %s: %w", s.path, err)
		}
		if last[0] != '\n' {
			if _, err := f.Write([]byte{'\n'}); err != nil {
				f.Close()
				return fmt.Errorf("ending the partial last line of %s: %w", s.path, err)
			}
			size++
			s.log.Warn("tracker: the events file ended in a partial line, left by an earlier run; it now ends that line", "path", s.path)
		}
	}
	if s.f != nil {
		s.f.Close()
	}
	s.f, s.size, s.lines = f, size, 0
	return nil
}

// append writes b, whole lines, at the end of the file, and with sync
// flushes it to stable storage. If that fails, the file is left as it was,
// so that b can be written again, and the error says why; if the file
// cannot be put back, the error matches errFatal.
func (s *sink) append(b []byte, lines int, sync bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("%w: it is closed", errFatal)
	}
	if err := s.checkLocked(); err != nil {
		return err
	}
	n, err := s.f.Write(b)
	if err == nil && sync {
		err = syncFile(s.f)
	}
	if err != nil {
		if n > 0 {
			// A short write leaves part of a line; a failed sync leaves
			// lines that may not last. Take them back.
			if terr := s.f.Truncate(s.size); terr != nil {
				return fmt.Errorf("%w: %w; and taking back the %d bytes written failed: %w", errFatal, err, n, terr)
			}
		}
		return err
	}
	s.size += int64(n)
	s.lines += int64(lines)
	return nil
}

// checkLocked reopens the path if it no longer names the file written to.
func (s *sink) checkLocked() error {
	if s.samePathLocked() {
		return nil
	}
	old := s.lines
	if err := s.reopenLocked(); err != nil {
		return fmt.Errorf("the events file was replaced or deleted, and reopening it failed: %w", err)
	}
	s.log.Error("tracker: the events file was replaced or deleted; reopened it", "path", s.path, "lines_in_the_old_file", old)
	return nil
}

// samePathLocked reports whether the path still names the open file.
func (s *sink) samePathLocked() bool {
	fi, ferr := s.f.Stat()
	pi, perr := os.Stat(s.path)
	return ferr == nil && perr == nil && os.SameFile(fi, pi)
}

// close syncs and closes the file, and fails if the lines written to it
// are not at the path any more. Closing again does nothing.
func (s *sink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := syncFile(s.f)
	if !s.samePathLocked() {
		err = errors.Join(err, fmt.Errorf("the events file %s was replaced or deleted after the last write: the %d lines written since it was opened are not there", s.path, s.lines))
	}
	return errors.Join(err, s.f.Close())
}

// syncFile syncs f, unless f is a device or pipe, which cannot be synced
// and has nothing to make durable.
func syncFile(f file) error {
	err := f.Sync()
	if errors.Is(err, syscall.EINVAL) {
		return nil
	}
	return err
}

// errInjected is matched by the write failures of -fault-rate.
var errInjected = errors.New("injected write fault")

// faultyFile makes a write fail with probability p, after writing a random
// part of what it was given, as a full disk or a failing device may. The
// sequence of failures depends only on rng's seed and the number of
// writes. Only one goroutine may write at a time, as the sink ensures.
type faultyFile struct {
	file
	rng *rand.Rand
	p   float64
}

func (f *faultyFile) Write(b []byte) (int, error) {
	if len(b) == 0 || f.rng.Float64() >= f.p {
		return f.file.Write(b)
	}
	n, err := f.file.Write(b[:f.rng.IntN(len(b))])
	if err != nil {
		return n, err
	}
	return n, fmt.Errorf("%w after %d of %d bytes", errInjected, n, len(b))
}

// faultyOpen returns an open function whose files fail their writes with
// probability p, all drawing from one generator seeded with seed.
func faultyOpen(p float64, seed uint64) func(string) (file, error) {
	rng := rand.New(rand.NewPCG(seed, 0x7261636b6572)) // "racker": any constant
	return func(path string) (file, error) {
		f, err := openFile(path)
		if err != nil {
			return nil, err
		}
		return &faultyFile{file: f, rng: rng, p: p}, nil
	}
}
