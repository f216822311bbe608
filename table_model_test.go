package waitgroup

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestTaskTableModel drives the task table with random insert/remove runs
// (bursts that grow it to thousands of slots and drain it, so that it
// shrinks and regrows) against a map, checking after every step the counts,
// that every live ID is found, that every dead ID (including those of
// dropped and regrown slots) is not, and periodically the free list.
func TestTaskTableModel(t *testing.T) {
	ops := 500_000
	if testing.Short() {
		ops = 300_000
	}
	for _, seed := range []uint64{1, 2, 3} {
		r := rand.New(rand.NewPCG(seed, seed*7919))
		var tt taskTable
		tt.free = -1
		type rec struct {
			idx  uint32
			kind uint8
			name string
			pc   uintptr
			at   time.Duration
		}
		live := map[uint64]rec{}       // seq -> task
		liveIdx := map[uint32]uint64{} // idx -> seq
		var keys []uint64              // live seqs, for random removal
		pos := map[uint64]int{}        // seq -> position in keys
		var dead []struct {
			idx uint32
			seq uint64
		}
		lastSeq := uint64(0)
		target := 0
		prevChunks, shrinks, drops, maxChunks := 0, 0, 0, 0
		for op := 0; op < ops; op++ {
			if op%5000 == 0 { // a new phase: aim for a random size
				switch r.IntN(4) {
				case 0:
					target = r.IntN(10)
				case 1:
					target = r.IntN(300)
				case 2:
					target = r.IntN(3000)
				default:
					target = r.IntN(20000)
				}
			}
			insert := len(keys) == 0 || (len(keys) < target && r.IntN(10) < 8) || (len(keys) >= target && r.IntN(10) < 2)
			if insert {
				kind := kindAdd
				if r.IntN(2) == 0 {
					kind = kindGo
				}
				at := time.Duration(op)
				idx, seq := tt.insert(kind, "n", uintptr(op), at)
				if seq <= lastSeq || seq == 0 {
					t.Fatalf("op %d: seq %d after %d", op, seq, lastSeq)
				}
				lastSeq = seq
				if (seq&1 == 1) != (kind == kindGo) {
					t.Fatalf("op %d: seq %d for kind %d", op, seq, kind)
				}
				if s, dup := liveIdx[idx]; dup {
					t.Fatalf("op %d: idx %d issued while seq %d holds it", op, idx, s)
				}
				live[seq] = rec{idx, kind, "n", uintptr(op), at}
				liveIdx[idx] = seq
				pos[seq] = len(keys)
				keys = append(keys, seq)
			} else {
				i := r.IntN(len(keys))
				seq := keys[i]
				rc := live[seq]
				last := keys[len(keys)-1]
				keys[i] = last
				pos[last] = i
				keys = keys[:len(keys)-1]
				delete(pos, seq)
				delete(live, seq)
				delete(liveIdx, rc.idx)
				tt.remove(rc.idx)
				dead = append(dead, struct {
					idx uint32
					seq uint64
				}{rc.idx, seq})
				if len(dead) > 4096 {
					dead = dead[len(dead)-2048:]
				}
			}
			if n := len(tt.chunks); n < prevChunks {
				shrinks++
				if n == 0 {
					drops++
				}
				checkTable(t, op, &tt, liveIdx)
			}
			prevChunks = len(tt.chunks)
			maxChunks = max(maxChunks, prevChunks)
			if tt.used != len(keys) {
				t.Fatalf("op %d: used %d, model %d", op, tt.used, len(keys))
			}
			// a few random live and dead lookups each step
			for j := 0; j < 2 && len(keys) > 0; j++ {
				seq := keys[r.IntN(len(keys))]
				rc := live[seq]
				p := tt.lookup(rc.idx, seq)
				if p == nil || p.seq != seq || p.kind() != rc.kind || p.name != rc.name || p.pc != rc.pc || p.since != rc.at {
					t.Fatalf("op %d: lookup(%d,%d) = %+v, want %+v", op, rc.idx, seq, p, rc)
				}
			}
			if len(dead) > 0 {
				d := dead[r.IntN(len(dead))]
				if p := tt.lookup(d.idx, d.seq); p != nil {
					t.Fatalf("op %d: dead ID (%d,%d) found: %+v", op, d.idx, d.seq, p)
				}
			}
			if op%997 == 0 || (!insert && tt.used == 0) {
				checkTable(t, op, &tt, liveIdx)
			}
		}
		checkTable(t, ops, &tt, liveIdx)
		if shrinks == 0 || drops == 0 {
			t.Errorf("seed %d: the run never shrank (%d) or emptied (%d) the table", seed, shrinks, drops)
		}
		t.Logf("seed %d: %d ops, %d shrinks (%d to empty), up to %d chunks", seed, ops, shrinks, drops, maxChunks)
	}
}

// checkTable checks the whole table: chunk sizes and positions, per-chunk
// live counts, that all() reports exactly the model, and that the free list
// holds each free slot exactly once and nothing else.
func checkTable(t *testing.T, op int, tt *taskTable, liveIdx map[uint32]uint64) {
	t.Helper()
	if len(tt.chunks) != len(tt.live) {
		t.Fatalf("op %d: %d chunks, %d live counts", op, len(tt.chunks), len(tt.live))
	}
	capacity := 0
	for k, c := range tt.chunks {
		want := chunkSize
		if k < smallCount {
			want = 8 << k
		}
		if len(c) != want || firstSlot(k) != capacity {
			t.Fatalf("op %d: chunk %d has %d slots at %d, want %d at %d", op, k, len(c), capacity, want, firstSlot(k))
		}
		n := 0
		for i := range c {
			if c[i].seq != 0 {
				n++
			}
			if kk, off := locate(uint32(capacity + i)); kk != k || off != i {
				t.Fatalf("op %d: locate(%d) = %d,%d, want %d,%d", op, capacity+i, kk, off, k, i)
			}
		}
		if n != tt.live[k] {
			t.Fatalf("op %d: chunk %d live %d, counted %d", op, k, tt.live[k], n)
		}
		capacity += len(c)
	}
	if len(tt.chunks) > keepChunks && tt.used*4 <= capacity && tt.live[len(tt.live)-1] == 0 && shrinkable(tt) {
		t.Fatalf("op %d: %d chunks, %d used of %d, last chunk empty: not shrunk", op, len(tt.chunks), tt.used, capacity)
	}
	seen := 0
	tt.all(func(idx uint32, p *task) {
		seen++
		if liveIdx[idx] != p.seq {
			t.Fatalf("op %d: all() gives idx %d seq %d, model %d", op, idx, p.seq, liveIdx[idx])
		}
	})
	if seen != len(liveIdx) || seen != tt.used {
		t.Fatalf("op %d: all() gives %d, model %d, used %d", op, seen, len(liveIdx), tt.used)
	}
	if len(tt.chunks) == 0 {
		if tt.used != 0 {
			t.Fatalf("op %d: no chunks, used %d", op, tt.used)
		}
		return
	}
	onList := map[int]bool{}
	for f := tt.free; f >= 0; {
		if f >= capacity {
			t.Fatalf("op %d: free list holds %d beyond capacity %d", op, f, capacity)
		}
		if onList[f] {
			t.Fatalf("op %d: free list loops at %d", op, f)
		}
		onList[f] = true
		p := tt.slot(uint32(f))
		if p.seq != 0 {
			t.Fatalf("op %d: free list holds live slot %d", op, f)
		}
		f = int(p.since)
	}
	if len(onList) != capacity-tt.used {
		t.Fatalf("op %d: free list has %d slots, want %d", op, len(onList), capacity-tt.used)
	}
}

// TestLocateBoundaries checks locate and firstSlot at every chunk boundary.
func TestLocateBoundaries(t *testing.T) {
	for k := 0; k < 40; k++ {
		first := firstSlot(k)
		size := chunkSize
		if k < smallCount {
			size = 8 << k
		}
		if firstSlot(k+1) != first+size {
			t.Fatalf("firstSlot(%d) = %d, want %d", k+1, firstSlot(k+1), first+size)
		}
		for _, i := range []int{first, first + 1, first + size - 1} {
			kk, off := locate(uint32(i))
			if kk != k || off != i-first {
				t.Fatalf("locate(%d) = %d,%d, want %d,%d", i, kk, off, k, i-first)
			}
		}
	}
}

// shrinkable reports whether shrink would drop chunks now.
func shrinkable(tt *taskTable) bool {
	n := len(tt.chunks)
	for n > keepChunks && tt.live[n-1] == 0 {
		n--
	}
	return tt.used == 0 || firstSlot(len(tt.chunks))-firstSlot(n) >= firstSlot(n)/2
}
