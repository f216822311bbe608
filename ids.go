package waitgroup

import (
	"fmt"
	"time"
)

// An ID identifies one pending unit of work returned by [Group.Add]. IDs are
// comparable; the zero ID is never issued, and an ID is only accepted by the
// [Group.Done] of the group that issued it, once.
type ID struct {
	g   *Group
	seg *segment // where the ID's slot is; nil for a task started by Go
	// seq is n<<7 | slot<<1 | kind: n counts the group's Adds from 1 (or
	// is the number of a task started by Go), slot is the index in seg, and
	// the low bit is set for a task started by Go.
	seq uint64
}

const (
	segSlots  = 64 // slots of a segment; a pending ID pins its segment
	seqShift  = 7
	slotShift = 1
	kindGoBit = 1
)

// IsZero reports whether id is the zero ID, which no group issues.
func (id ID) IsZero() bool { return id.seq == 0 }

// String returns "#n": the n-th Add of its group, or for a task started by
// Go, the n-th task of its group.
func (id ID) String() string {
	if id.seq == 0 {
		return "#0(zero)"
	}
	return fmt.Sprintf("#%d", id.seq>>seqShift)
}

// A slot holds one pending ID. It has no pointers, and a segment has its
// few before its slots, so that the collector, which scans an object only up
// to its last pointer, does not read the slots: a million pending IDs are
// 32 MB that no collection marks through. A slot's name, if it has one, is
// in its segment's names. The heap held per pending ID is a slot's 32
// bytes, plus a 64th of a segment's links, plus 16 bytes if its segment
// holds a named ID.
type slot struct {
	seq   uint64        // the ID's seq while pending; 0 once done
	pc    uintptr       // the Add call site, turned into text only when asked
	start time.Duration // since procEpoch
	num   uint64        // the group's gen when added: orders tasks of one start
}

// A segment is a run of segSlots slots handed out in order, so that the
// segments of a table, oldest first, list the pending IDs oldest first.
type segment struct {
	prev, next *segment
	names      *[segSlots]string // the names of the slots; nil while none was named
	used       int               // slots handed out, from the front
	live       int               // slots pending
	slots      [segSlots]slot
}

// name returns the name of the slot of seq in s.
func (s *segment) name(seq uint64) string {
	if s.names == nil {
		return ""
	}
	return s.names[slotIndex(seq)]
}

func slotIndex(seq uint64) int { return int(seq>>slotShift) & (segSlots - 1) }

// idTable holds the pending IDs of a group in a list of segments, oldest
// first: Add appends to the last one, Done clears a slot through the
// segment pointer its ID carries, and a segment whose slots are all done is
// unlinked at once. So Add and Done are O(1), the oldest n IDs are found
// without looking at the others, and a burst of IDs is freed as it ends
// even while an older or a newer ID stays pending. Group.idMu guards it.
type idTable struct {
	head, tail *segment
	spare      *segment // one empty segment kept for reuse
	live       int
	adds       uint64 // Adds so far
}

// insert stores a new ID's slot and returns its segment and seq.
func (tt *idTable) insert(name string, pc uintptr, start time.Duration, num uint64) (*segment, uint64) {
	s := tt.tail
	if s == nil || s.used == segSlots {
		if s != nil && s.live == 0 {
			s.used = 0 // reuse it in place: its IDs are all done
		} else {
			s = tt.newSegment()
		}
	}
	i := s.used
	s.used++
	s.live++
	tt.live++
	tt.adds++
	seq := tt.adds<<seqShift | uint64(i)<<slotShift
	s.slots[i] = slot{seq: seq, pc: pc, start: start, num: num}
	if name != "" {
		if s.names == nil {
			s.names = new([segSlots]string)
		}
		s.names[i] = name
	}
	return s, seq
}

func (tt *idTable) newSegment() *segment {
	s := tt.spare
	if s != nil {
		tt.spare = nil
		s.used = 0
	} else {
		s = new(segment)
	}
	s.prev, s.next = tt.tail, nil
	if tt.tail != nil {
		tt.tail.next = s
	} else {
		tt.head = s
	}
	tt.tail = s
	return s
}

// lookup returns the slot of the pending ID (seg, seq), or nil. A segment
// reused since the ID was issued holds other seqs, which never repeat.
func lookup(seg *segment, seq uint64) *slot {
	i := slotIndex(seq)
	if seg == nil || seg.slots[i].seq != seq {
		return nil
	}
	return &seg.slots[i]
}

// remove clears the slot of a pending ID.
func (tt *idTable) remove(seg *segment, sl *slot) {
	if seg.names != nil {
		seg.names[slotIndex(sl.seq)] = "" // let the name go
	}
	*sl = slot{}
	seg.live--
	tt.live--
	if seg.live > 0 || seg == tt.tail {
		return
	}
	// Unlink the empty segment. Done IDs may still point to it, and find
	// their slots cleared; keeping it as the spare is safe for the same
	// reason.
	if seg.prev != nil {
		seg.prev.next = seg.next
	} else {
		tt.head = seg.next
	}
	seg.next.prev = seg.prev
	seg.prev, seg.next = nil, nil
	if tt.spare == nil {
		tt.spare = seg
	}
}

// oldest calls f with the pending IDs, oldest first, until f returns false.
func (tt *idTable) oldest(f func(seg *segment, sl *slot) bool) {
	for s := tt.head; s != nil; s = s.next {
		for i := range s.used {
			if sl := &s.slots[i]; sl.seq != 0 && !f(s, sl) {
				return
			}
		}
	}
}

// Add records one pending unit of work and returns its ID. [Group.Wait] does
// not return nil until [Group.Done] has been called with the ID. Add never
// blocks and is not subject to [Group.SetLimit].
//
//go:noinline
func (g *Group) Add(opts ...TaskOption) ID {
	// The call site is what identifies a task in a stuck-task report, named
	// or not. callerPC needs Add to have a frame of its own: noinline.
	pc := callerPC()
	if pc == addWrapperRet && pc != 0 {
		// Called through the method value g.Add: skip its wrapper.
		pc = callerCallerPC()
	}
	var name string
	if len(opts) > 0 {
		name = taskName(opts)
		noRestart(opts) // restart.go
	}
	g.init()
	start := g.now()
	num := gen(g.begin())
	g.idMu.Lock()
	if g.ids == nil {
		g.ids = &idTable{}
	}
	seg, seq := g.ids.insert(name, pc, start, num)
	g.idMu.Unlock()
	return ID{g: g, seg: seg, seq: seq}
}

// Done marks the work of id as finished. It returns an error matching
// [ErrUnknownID], and changes nothing, if id is the zero ID, was issued by
// another group, belongs to a task started with Go, or is already done.
func (g *Group) Done(id ID) error {
	if id.seq == 0 {
		return fmt.Errorf("%w: the zero ID", ErrUnknownID)
	}
	if id.g != g {
		return fmt.Errorf("%w: %v was issued by another group, %s, not by %s", ErrUnknownID, id, id.g.label(), g.label())
	}
	if id.seq&kindGoBit != 0 {
		return fmt.Errorf("%w: %v is a task started by Go; it ends when its function returns", ErrUnknownID, id)
	}
	g.idMu.Lock()
	sl := lookup(id.seg, id.seq)
	if sl == nil {
		g.idMu.Unlock()
		return fmt.Errorf("%w: %v is already done", ErrUnknownID, id)
	}
	g.ids.remove(id.seg, sl)
	g.idMu.Unlock()
	g.end()
	return nil
}

// label names g in messages: group "name", or group 0x… if it has no name.
func (g *Group) label() string {
	if g == nil {
		return "no group"
	}
	if name := g.Name(); name != "" {
		return fmt.Sprintf("group %q", name)
	}
	return fmt.Sprintf("group %p", g)
}
