#include "textflag.h"

// func callerPC() uintptr
// With no frame of its own, BP here is the frame pointer of the calling Go
// function (Add), and 8(BP) is that function's return address.
TEXT ·callerPC(SB),NOSPLIT,$0-8
	MOVQ 8(BP), AX
	MOVQ AX, ret+0(FP)
	RET

// func callerCallerPC() uintptr
// The return address of the caller of the calling Go function: 0(BP) is the
// saved frame pointer of that caller, 8 bytes above it its return address.
// Only valid when the calling function's caller has a frame of its own.
TEXT ·callerCallerPC(SB),NOSPLIT,$0-8
	MOVQ 0(BP), AX
	MOVQ 8(AX), AX
	MOVQ AX, ret+0(FP)
	RET
