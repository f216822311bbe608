#include "textflag.h"

// func callerPC() uintptr
// With no frame of its own, BP here is the frame pointer of the calling Go
// function (Add), and 8(BP) is that function's return address.
TEXT ·callerPC(SB),NOSPLIT,$0-8
	MOVQ 8(BP), AX
	MOVQ AX, ret+0(FP)
	RET
