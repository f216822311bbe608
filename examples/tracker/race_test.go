//go:build race

package main

// raceEnabled makes the end-to-end tests build the binary with -race too,
// so that the server's own races fail them.
const raceEnabled = true
