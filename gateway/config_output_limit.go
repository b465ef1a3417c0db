package gateway

import "github.com/gpucache/gpucache/protocols/resp"

// checkOutputLimit validates output-buffer-limit with the RESP front end's
// own parser, so the file, the flags and CONFIG SET accept the same forms.
func checkOutputLimit(v string) error {
	_, err := resp.ParseOutputLimit(v)
	return err
}

// outputLimit parses a validated output-buffer-limit.
func outputLimit(v string) resp.OutputLimit {
	l, _ := resp.ParseOutputLimit(v)
	return l
}
