// Command gpucache-bench is gpucache's load generator: LMCache-shaped and
// small-value traffic against gpucache, redis-server, any RESP or S3
// endpoint, and a raw loopback probe for the limit. See bench/README.md.
package main

import (
	"os"

	"github.com/gpucache/gpucache/bench"
)

func main() {
	os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr))
}
