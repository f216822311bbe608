//go:build !race

package waitgroup_test

const raceEnabled = false
