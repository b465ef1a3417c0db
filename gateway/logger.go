package gateway

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
)

// openLog opens the log named by log-dir: "stdout", "stderr", or a
// directory holding kvrocks.INFO (the name KVRocks tools look for); empty
// means the data directory, as in KVRocks.
func openLog(logDir, dataDir string) (*log.Logger, io.Closer, error) {
	switch logDir {
	case "stdout":
		return log.New(os.Stdout, "", log.LstdFlags|log.Lmicroseconds), io.NopCloser(nil), nil
	case "stderr":
		return log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds), io.NopCloser(nil), nil
	case "":
		logDir = dataDir
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("cannot create log dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(logDir, "kvrocks.INFO"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open log file: %w", err)
	}
	return log.New(f, "", log.LstdFlags|log.Lmicroseconds), f, nil
}
