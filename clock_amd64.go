package waitgroup

// cputicks returns the processor's time-stamp counter.
func cputicks() uint64

const haveTicks = true
