package waitgroup

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// groupCtx is the context a group gives its tasks.
//
// When the parent context can be cancelled by someone else (a request's
// context), it is a plain context.WithCancelCause of it (base). Otherwise
// (context.Background, or the context of the group's parent group) it is
// its own light context: it costs no allocation until someone asks for its
// Done channel or cancels it, and it tells its children, and the contexts
// made from it with context.WithCancel or AfterFunc, through its AfterFunc
// method, so that the context package starts no goroutine for them.
//
// A light context under a parent group's context registers with that
// parent only while its group needs it (see Group.attachLocked), so that
// the parent holds nothing of a Sub that is idle and dropped.
type groupCtx struct {
	parent context.Context
	mu     sync.Mutex // protects the fields of *s that say so, and the making of s

	// s is the rest of the state, made on first need: by init for a context
	// with a base, else by the first Done, AfterFunc, pin or cancellation.
	// A light context that nobody asks for more than Err costs its group
	// 32 bytes.
	s atomic.Pointer[ctxState]
}

type ctxState struct {
	base       context.Context // set before s is stored; nil for a light context
	baseCancel context.CancelCauseFunc

	// For a light context, under groupCtx.mu:
	done   chan struct{}           // made on first use
	err    error                   // set once, by cancel
	cause  error                   // set with err
	afters map[*afterFunc]struct{} // functions to call on cancel
	// stop unregisters c from its parent group's context; nil if c is not
	// registered.
	stop   func() bool
	pinned bool // Context was called: someone outside the tasks may wait
}

// baseCtx returns c's base context, or nil if c is light.
func (c *groupCtx) baseCtx() context.Context {
	if s := c.s.Load(); s != nil {
		return s.base
	}
	return nil
}

// stateLocked returns c.s, making it if need be; the caller holds c.mu.
func (c *groupCtx) stateLocked() *ctxState {
	s := c.s.Load()
	if s == nil {
		s = &ctxState{}
		c.s.Store(s)
	}
	return s
}

// errLocked returns c's error and cause; the caller holds c.mu.
func (c *groupCtx) errLocked() (err, cause error) {
	if s := c.s.Load(); s != nil {
		return s.err, s.cause
	}
	return nil, nil
}

// An afterFunc is a function to call when a light context is cancelled, or
// a child light context to cancel (then f is nil), so that cancelling a
// chain of any depth recurses no deeper than one level.
type afterFunc struct {
	f     func()
	child *groupCtx
}

// closedchan is the Done channel of a light context cancelled before anyone
// asked for it.
var closedchan = make(chan struct{})

func init() { close(closedchan) }

// cancelCtxKey is the key with which context.Cause asks a context for the
// context package's cancelCtx that holds its cause. A light context answers
// with one that holds its own cause, made when it is cancelled.
var cancelCtxKey = func() any {
	p := &keyProbe{}
	_ = context.Cause(p)
	return p.key
}()

type keyProbe struct {
	context.Context
	key any
}

func (*keyProbe) Err() error            { return context.Canceled }
func (p *keyProbe) Value(key any) any   { p.key = key; return nil }
func (*keyProbe) Done() <-chan struct{} { return nil }

func (c *groupCtx) init(parent context.Context) {
	c.parent = parent
	if _, ok := parent.(*groupCtx); ok {
		return // registers with it when needed
	}
	if parent.Done() == nil {
		return // never cancelled from above
	}
	base, cancel := context.WithCancelCause(parent)
	c.s.Store(&ctxState{base: base, baseCancel: cancel})
}

// Deadline returns the parent's deadline.
func (c *groupCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Done returns a channel closed when c is cancelled.
func (c *groupCtx) Done() <-chan struct{} {
	if b := c.baseCtx(); b != nil {
		return b.Done()
	}
	c.checkParent()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stateLocked()
	if s.done == nil {
		if s.err != nil {
			return closedchan
		}
		s.done = make(chan struct{})
		c.registerLocked(s)
	}
	return s.done
}

// Err returns nil until c is cancelled, then why.
func (c *groupCtx) Err() error {
	if b := c.baseCtx(); b != nil {
		return b.Err()
	}
	c.checkParent()
	c.mu.Lock()
	defer c.mu.Unlock()
	err, _ := c.errLocked()
	return err
}

// checkParent cancels c if an ancestor group's context is cancelled: c may
// not be registered with it, and must still never look alive under a
// cancelled parent. It climbs the chain in a loop.
func (c *groupCtx) checkParent() {
	for p, ok := c.parent.(*groupCtx); ok; p, ok = p.parent.(*groupCtx) {
		if b := p.baseCtx(); b != nil {
			if err := b.Err(); err != nil {
				c.cancelErr(err, context.Cause(b))
			}
			return
		}
		p.mu.Lock()
		err, cause := p.errLocked()
		registered := false
		if s := p.s.Load(); s != nil {
			registered = s.stop != nil
		}
		p.mu.Unlock()
		if err != nil {
			c.cancelErr(err, cause)
			return
		}
		if registered {
			return // p's parent cancels p, and so on up: nothing above is cancelled
		}
	}
}

// Value answers context.Cause's question with the cause of c, and passes
// every other key to the parent.
func (c *groupCtx) Value(key any) any {
	if b := c.baseCtx(); b != nil {
		return b.Value(key)
	}
	if key == cancelCtxKey && cancelCtxKey != nil {
		if c.Err() == nil {
			return nil
		}
		cc, cancel := context.WithCancelCause(context.Background())
		c.mu.Lock()
		_, cause := c.errLocked()
		c.mu.Unlock()
		cancel(cause)
		return cc.Value(key)
	}
	return c.parent.Value(key)
}

// AfterFunc arranges for f to be called once c is cancelled, as
// [context.AfterFunc] does, and is what makes the context package hand its
// children to c rather than start a goroutine for each.
func (c *groupCtx) AfterFunc(f func()) (stop func() bool) {
	if b := c.baseCtx(); b != nil {
		return context.AfterFunc(b, f)
	}
	c.checkParent()
	return c.after(&afterFunc{f: f})
}

func (c *groupCtx) after(a *afterFunc) (stop func() bool) {
	c.mu.Lock()
	s := c.stateLocked()
	if s.err != nil {
		c.mu.Unlock()
		if a.child != nil {
			a.child.cancelErr(c.Err(), context.Cause(c))
		} else {
			go a.f()
		}
		return func() bool { return false }
	}
	if s.afters == nil {
		s.afters = make(map[*afterFunc]struct{})
	}
	s.afters[a] = struct{}{}
	c.registerLocked(s)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := s.afters[a]
		delete(s.afters, a)
		return ok
	}
}

// registerLocked makes c's parent group's context cancel c; s is c.s.
func (c *groupCtx) registerLocked(s *ctxState) {
	if s.stop != nil {
		return
	}
	if p, ok := c.parent.(*groupCtx); ok {
		if b := p.baseCtx(); b != nil {
			s.stop = context.AfterFunc(b, func() { c.cancelErr(b.Err(), context.Cause(b)) })
		} else {
			s.stop = p.after(&afterFunc{child: c})
		}
	}
}

// pin keeps c registered with its parent for good: the context was handed
// out by Group.Context, and whoever holds it may wait on it at any time.
func (c *groupCtx) pin() {
	if c.baseCtx() != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stateLocked()
	if !s.pinned {
		s.pinned = true
		if s.done != nil || len(s.afters) > 0 {
			c.registerLocked(s)
		}
	}
}

// unregister undoes registerLocked when c's group goes idle, unless
// something outside the group's tasks may wait on c: an idle Sub then leaves
// nothing with its parent. The tasks are done; a task's Done channel is
// closed on the parent's cancellation only while the Sub has work, or
// when Err or Done is next called.
func (c *groupCtx) unregister() {
	if c.s.Load() == nil {
		return // light, and never registered
	}
	if c.baseCtx() != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s.Load()
	if s.stop != nil && !s.pinned && len(s.afters) == 0 {
		s.stop()
		s.stop = nil
	}
}

// reattach registers c again when its group gets work, if a Done channel
// was handed out, and catches up with a parent cancelled meanwhile.
func (c *groupCtx) reattach() {
	if c.s.Load() == nil || c.baseCtx() != nil {
		return // no Done channel was handed out, or c has a base
	}
	c.mu.Lock()
	s := c.s.Load()
	waited := s.done != nil && s.err == nil
	if waited {
		c.registerLocked(s)
	}
	c.mu.Unlock()
	if waited {
		c.checkParent()
	}
}

// cancel cancels c with cause (nil: context.Canceled) if it is not yet.
func (c *groupCtx) cancel(cause error) {
	if s := c.s.Load(); s != nil && s.base != nil {
		s.baseCancel(cause)
		return
	}
	c.cancelErr(context.Canceled, cause)
}

// cancelErr cancels a light c with err, as its parent's was, and cause, and
// then its children, in a loop.
func (c *groupCtx) cancelErr(err, cause error) {
	work := []*groupCtx{c}
	for len(work) > 0 {
		x := work[len(work)-1]
		work = work[:len(work)-1]
		for a := range x.cancelLocal(err, cause) {
			if a.child != nil {
				work = append(work, a.child)
			} else {
				a.f()
			}
		}
	}
}

// cancelLocal cancels c alone and returns what it must tell.
func (c *groupCtx) cancelLocal(err, cause error) map[*afterFunc]struct{} {
	c.mu.Lock()
	s := c.stateLocked()
	if s.err != nil {
		c.mu.Unlock()
		return nil
	}
	s.err = err
	s.cause = cause
	if cause == nil {
		s.cause = err
	}
	if s.done != nil {
		close(s.done)
	}
	afters := s.afters
	s.afters = nil
	stop := s.stop
	s.stop = nil
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	return afters
}

func (c *groupCtx) String() string { return "waitgroup.Group.Context" }
