//go:build !amd64

package waitgroup

// cputicks is never called where haveTicks is false.
func cputicks() uint64 { return 0 }

const haveTicks = false
