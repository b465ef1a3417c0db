// Command gpucache is the KV-cache offload gateway server: a DRAM tier over
// an erasure-coded NVMe tier behind Redis (RESP2/3) and S3 front ends. Its
// command line and configuration file are KVRocks's, so an existing
// kvrocks.conf and start script work unchanged.
//
//	gpucache                          run on the embedded defaults
//	gpucache -c kvrocks.conf          read a configuration file ("-" for stdin)
//	gpucache --port 6380 --dir /data  override any key
//	gpucache -v | -h
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gpucache/gpucache/gateway"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

func usage(w io.Writer) {
	fmt.Fprintf(w, `Usage: gpucache [-c config-file] [--<config-key> <value> ...]
       gpucache -v | --version
       gpucache -h | --help

Runs the gpucache server. With no arguments it listens on 127.0.0.1:6379
(RESP) and keeps its data under ./gpucache-data. S3 is served when an s3-*
key is given, e.g. --s3-port 9000.

  -c FILE              read a KVRocks-format config file ("-" reads stdin)
  --<key> <value>      set any config key, e.g. --port 6380 --dir /data
                       --dram-cache-size 8gb --devices /mnt/n0,/mnt/n1 --ec 1+1
  -v, --version        print the version and exit
  -h, --help           print this help and exit
`)
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var warnings []string
	cfg := gateway.NewConfig(func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) })
	var overrides [][2]string
	configFile := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-v" || a == "--version":
			fmt.Printf("gpucache version %s\n", version)
			return 0
		case a == "-h" || a == "--help":
			usage(os.Stdout)
			return 0
		case a == "-c" || a == "--config":
			if i+1 >= len(args) {
				usage(os.Stderr)
				return 1
			}
			i++
			configFile = args[i]
		case strings.HasPrefix(a, "--") && len(a) > 2:
			key, val, hasEq := strings.Cut(a[2:], "=")
			if !hasEq {
				if i+1 >= len(args) {
					fmt.Fprintf(os.Stderr, "gpucache: missing value for --%s\n", key)
					usage(os.Stderr)
					return 1
				}
				i++
				val = args[i]
			}
			overrides = append(overrides, [2]string{key, val})
		default:
			fmt.Fprintf(os.Stderr, "gpucache: unexpected argument %q\n", a)
			usage(os.Stderr)
			return 1
		}
	}
	if configFile != "" {
		if err := cfg.Load(configFile); err != nil {
			fmt.Fprintf(os.Stderr, "gpucache: %v\n", err)
			return 1
		}
	}
	for _, kv := range overrides {
		if err := cfg.Override(kv[0], kv[1]); err != nil {
			fmt.Fprintf(os.Stderr, "gpucache: --%s: %v\n", kv[0], err)
			return 1
		}
	}
	for _, w := range warnings {
		fmt.Fprintf(os.Stderr, "gpucache: warning: %s\n", w)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := gateway.Run(ctx, cfg, version); err != nil {
		fmt.Fprintf(os.Stderr, "gpucache: %v\n", err)
		return 1
	}
	return 0
}
