//go:build race

package engine

// raceEnabled reports a -race build, where allocation counts are not meaningful.
const raceEnabled = true
