#include "textflag.h"

// func cputicks() uint64
// The time-stamp counter: a third of the cost of the monotonic clock here,
// used only to tell whether a cached clock reading is still fresh.
TEXT ·cputicks(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ret+0(FP)
	RET
