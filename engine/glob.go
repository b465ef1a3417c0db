package engine

// matchGlob reports whether s matches the Redis glob pattern p: `*`, `?`,
// `[abc]`, `[^a]`, `[a-z]` and `\x` escapes, as KEYS and SCAN MATCH use.
// It backtracks only to the last `*`, so any pattern runs in
// O(len(p)*len(s)): a hostile pattern cannot make it exponential.
func matchGlob(p, s []byte) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(p) {
			if p[px] == '*' {
				starP, starS = px, sx
				px++
				continue
			}
			if next, ok := matchOne(p, px, s[sx]); ok {
				px, sx = next, sx+1
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		px, sx = starP+1, starS
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}

// matchOne matches one non-star pattern element at p[i] against c and
// returns the index after the element.
func matchOne(p []byte, i int, c byte) (int, bool) {
	switch p[i] {
	case '?':
		return i + 1, true
	case '\\':
		if i+1 < len(p) {
			return i + 2, p[i+1] == c
		}
		return i + 1, c == '\\'
	case '[':
		j := i + 1
		not := j < len(p) && p[j] == '^'
		if not {
			j++
		}
		match := false
		for j < len(p) && p[j] != ']' {
			switch {
			case p[j] == '\\' && j+1 < len(p):
				match = match || p[j+1] == c
				j += 2
			case j+2 < len(p) && p[j+1] == '-' && p[j+2] != ']':
				lo, hi := p[j], p[j+2]
				if lo > hi {
					lo, hi = hi, lo
				}
				match = match || (c >= lo && c <= hi)
				j += 3
			default:
				match = match || p[j] == c
				j++
			}
		}
		if j < len(p) {
			j++ // the closing ']'
		}
		return j, match != not
	}
	return i + 1, p[i] == c
}

// globPrefix returns the literal bytes every match of p starts with (up to
// its first wildcard or escape).
func globPrefix(p []byte) []byte {
	for i, c := range p {
		if c == '*' || c == '?' || c == '[' || c == '\\' {
			return p[:i]
		}
	}
	return p
}

// MatchGlob reports whether s matches the Redis glob pattern p (KEYS,
// SCAN MATCH, and the MATCH of HSCAN, SSCAN and ZSCAN).
func MatchGlob(p, s []byte) bool { return matchGlob(p, s) }
