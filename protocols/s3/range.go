package s3

import (
	"strconv"
	"strings"
)

// byteRange is a resolved, satisfiable range of an object.
type byteRange struct {
	off, n int64
}

// parseRange resolves a Range header against an object of size bytes.
// ok=false means the header does not apply (absent, not "bytes=", several
// ranges, or syntactically invalid: S3 then sends the whole object).
// errInvalidRange means it applies but cannot be satisfied (416).
func parseRange(h string, size int64) (r byteRange, ok bool, err error) {
	spec, found := strings.CutPrefix(h, "bytes=")
	// NB: S3 ignores (sends the whole object for) a range with spaces or
	// several ranges, and any range of an empty object.
	if !found || strings.ContainsAny(spec, ", \t") {
		return r, false, nil
	}
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return r, false, nil
	}
	if first == "" {
		// Suffix: the last N bytes.
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || n < 0 {
			return r, false, nil
		}
		if n == 0 {
			return r, true, errInvalidRange
		}
		if size == 0 {
			return r, false, nil
		}
		if n > size {
			n = size
		}
		return byteRange{size - n, n}, true, nil
	}
	start, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || start < 0 {
		return r, false, nil
	}
	end := size - 1
	if last != "" {
		e, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || e < start {
			return r, false, nil
		}
		if e < end {
			end = e
		}
	}
	if start >= size {
		return r, true, errInvalidRange
	}
	return byteRange{start, end - start + 1}, true, nil
}

// contentRange formats the Content-Range of r within size.
func (r byteRange) contentRange(size int64) string {
	return "bytes " + strconv.FormatInt(r.off, 10) + "-" + strconv.FormatInt(r.off+r.n-1, 10) + "/" + strconv.FormatInt(size, 10)
}
