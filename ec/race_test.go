//go:build race

package ec

// raceEnabled reports a -race build, where allocation counts are not meaningful.
const raceEnabled = true
