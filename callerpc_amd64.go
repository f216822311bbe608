package waitgroup

// callerPC returns the return address of the function that calls it, which
// must not be inlined: a PC in that function's caller, as
// runtime.Callers(2, ...) called there would return, for a twentieth of the
// cost. It reads the frame pointer, which Go on amd64 always keeps.
func callerPC() uintptr
