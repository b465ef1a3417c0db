//go:build ignore

// command_docs_gen writes command_docs.json: the COMMAND DOCS and COMMAND
// INFO replies of a Redis 7 server, kept with their RESP3 types, from which
// COMMAND DOCS, INFO, GETKEYS and LIST answer for the commands Redis
// defines.
//
//	redis-server --port 17999 --save '' --appendonly no &
//	go run command_docs_gen.go -addr 127.0.0.1:17999 -o command_docs.json
//
// Encoding of a reply in the file: a bulk string is a JSON string, an
// integer a JSON number, an array a JSON array, null is null; a simple
// string is {"+": s}, a map {"%": [k, v, ...]}, a set {"~": [...]}.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "Redis 7 server")
	out := flag.String("o", "command_docs.json", "output file")
	flag.Parse()
	c, err := net.Dial("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	r := bufio.NewReader(c)
	ask := func(args ...string) any {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(c, b.String()); err != nil {
			log.Fatal(err)
		}
		v, err := read(r)
		if err != nil {
			log.Fatal(err)
		}
		return v
	}
	ask("HELLO", "3")
	docs := ask("COMMAND", "DOCS").(map[string]any)["%"].([]any)
	infos := ask("COMMAND", "INFO").([]any)
	data := struct {
		Version string         `json:"version"`
		Docs    map[string]any `json:"docs"`
		Info    map[string]any `json:"info"`
	}{Docs: map[string]any{}, Info: map[string]any{}}
	srv := ask("INFO", "server")
	if s, ok := srv.(string); ok {
		for _, line := range strings.Split(s, "\r\n") {
			if v, ok := strings.CutPrefix(line, "redis_version:"); ok {
				data.Version = v
			}
		}
	}
	for i := 0; i+1 < len(docs); i += 2 {
		data.Docs[docs[i].(string)] = docs[i+1]
	}
	for _, e := range infos {
		a := e.([]any)
		data.Info[a[0].(string)] = a
	}
	names := make([]string, 0, len(data.Docs))
	for n := range data.Docs {
		names = append(names, n)
	}
	sort.Strings(names)
	b, err := json.Marshal(data)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d commands (Redis %s) written to %s", len(names), data.Version, *out)
}

// read parses one RESP3 reply into the file's encoding.
func read(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, fmt.Errorf("empty line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return map[string]any{"+": body}, nil
	case '-':
		return nil, fmt.Errorf("server error: %s", body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '_':
		return nil, nil
	case '$', '=':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		s := string(buf[:n])
		if line[0] == '=' {
			s = s[4:]
		}
		return s, nil
	case '*', '~', '%':
		n, _ := strconv.Atoi(body)
		if line[0] == '%' {
			n *= 2
		}
		if n < 0 {
			return nil, nil
		}
		items := make([]any, 0, n)
		for range n {
			v, err := read(r)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		switch line[0] {
		case '~':
			return map[string]any{"~": items}, nil
		case '%':
			return map[string]any{"%": items}, nil
		}
		return items, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}
