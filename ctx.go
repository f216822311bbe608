package waitgroup

import (
	"context"
	"sync"
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
	parent     context.Context
	base       context.Context // nil for a light context
	baseCancel context.CancelCauseFunc

	mu     sync.Mutex              // protects the fields below
	done   chan struct{}           // made on first use
	err    error                   // set once, by cancel
	cause  error                   // set with err
	afters map[*afterFunc]struct{} // functions to call on cancel
	// stop unregisters c from its parent group's context; nil if c is not
	// registered.
	stop   func() bool
	pinned bool // Context was called: someone outside the tasks may wait
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
	c.base, c.baseCancel = context.WithCancelCause(parent)
}

// Deadline returns the parent's deadline.
func (c *groupCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Done returns a channel closed when c is cancelled.
func (c *groupCtx) Done() <-chan struct{} {
	if c.base != nil {
		return c.base.Done()
	}
	c.checkParent()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			return closedchan
		}
		c.done = make(chan struct{})
		c.registerLocked()
	}
	return c.done
}

// Err returns nil until c is cancelled, then why.
func (c *groupCtx) Err() error {
	if c.base != nil {
		return c.base.Err()
	}
	c.checkParent()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// checkParent cancels c if an ancestor group's context is cancelled: c may
// not be registered with it, and must still never look alive under a
// cancelled parent. It climbs the chain in a loop.
func (c *groupCtx) checkParent() {
	for p, ok := c.parent.(*groupCtx); ok; p, ok = p.parent.(*groupCtx) {
		if p.base != nil {
			if err := p.base.Err(); err != nil {
				c.cancelErr(err, context.Cause(p.base))
			}
			return
		}
		p.mu.Lock()
		err, cause, registered := p.err, p.cause, p.stop != nil
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
	if c.base != nil {
		return c.base.Value(key)
	}
	if key == cancelCtxKey && cancelCtxKey != nil {
		if c.Err() == nil {
			return nil
		}
		cc, cancel := context.WithCancelCause(context.Background())
		c.mu.Lock()
		cancel(c.cause)
		c.mu.Unlock()
		return cc.Value(key)
	}
	return c.parent.Value(key)
}

// AfterFunc arranges for f to be called once c is cancelled, as
// [context.AfterFunc] does, and is what makes the context package hand its
// children to c rather than start a goroutine for each.
func (c *groupCtx) AfterFunc(f func()) (stop func() bool) {
	if c.base != nil {
		return context.AfterFunc(c.base, f)
	}
	c.checkParent()
	return c.after(&afterFunc{f: f})
}

func (c *groupCtx) after(a *afterFunc) (stop func() bool) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		if a.child != nil {
			a.child.cancelErr(c.Err(), context.Cause(c))
		} else {
			go a.f()
		}
		return func() bool { return false }
	}
	if c.afters == nil {
		c.afters = make(map[*afterFunc]struct{})
	}
	c.afters[a] = struct{}{}
	c.registerLocked()
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.afters[a]
		delete(c.afters, a)
		return ok
	}
}

// registerLocked makes c's parent group's context cancel c.
func (c *groupCtx) registerLocked() {
	if c.stop != nil {
		return
	}
	if p, ok := c.parent.(*groupCtx); ok {
		if p.base != nil {
			c.stop = context.AfterFunc(p.base, func() { c.cancelErr(p.base.Err(), context.Cause(p.base)) })
		} else {
			c.stop = p.after(&afterFunc{child: c})
		}
	}
}

// pin keeps c registered with its parent for good: the context was handed
// out by Group.Context, and whoever holds it may wait on it at any time.
func (c *groupCtx) pin() {
	if c.base != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.pinned {
		c.pinned = true
		if c.done != nil || len(c.afters) > 0 {
			c.registerLocked()
		}
	}
}

// unregister undoes registerLocked when c's group goes idle, unless
// something outside the group's tasks may wait on c: an idle Sub then leaves
// nothing with its parent. The tasks are done; a task's Done channel is
// closed on the parent's cancellation only while the Sub has work, or
// when Err or Done is next called.
func (c *groupCtx) unregister() {
	if c.base != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil && !c.pinned && len(c.afters) == 0 {
		c.stop()
		c.stop = nil
	}
}

// reattach registers c again when its group gets work, if a Done channel
// was handed out, and catches up with a parent cancelled meanwhile.
func (c *groupCtx) reattach() {
	if c.base != nil {
		return
	}
	c.mu.Lock()
	waited := c.done != nil && c.err == nil
	if waited {
		c.registerLocked()
	}
	c.mu.Unlock()
	if waited {
		c.checkParent()
	}
}

// cancel cancels c with cause (nil: context.Canceled) if it is not yet.
func (c *groupCtx) cancel(cause error) {
	if c.base != nil {
		c.baseCancel(cause)
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
	if c.err != nil {
		c.mu.Unlock()
		return nil
	}
	c.err = err
	c.cause = cause
	if cause == nil {
		c.cause = err
	}
	if c.done != nil {
		close(c.done)
	}
	afters := c.afters
	c.afters = nil
	stop := c.stop
	c.stop = nil
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	return afters
}

func (c *groupCtx) String() string { return "waitgroup.Group.Context" }
