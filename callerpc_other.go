//go:build !amd64

package waitgroup

import "runtime"

// callerPC returns the return address of the function that calls it, which
// must not be inlined: a PC in that function's caller.
//
//go:noinline
func callerPC() uintptr {
	var pc [1]uintptr
	runtime.Callers(3, pc[:]) // skip Callers, callerPC and its caller
	return pc[0]
}

// runtime.Callers elides the method value wrapper of Add by itself, so no
// return address needs skipping here.
const addWrapperRet = 0

// callerCallerPC is never called where addWrapperRet is 0.
func callerCallerPC() uintptr { return 0 }
