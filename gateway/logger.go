package gateway

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// openLog opens the log named by log-dir: "stdout", "stderr", or a
// directory holding kvrocks.INFO (the name KVRocks tools look for), rotated
// daily and kept log-retention-days (dailyLog); empty means the data
// directory, as in KVRocks.
func openLog(logDir, dataDir string, retentionDays int64) (*log.Logger, io.Closer, error) {
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
	d, err := openDailyLog(logDir, retentionDays, time.Now)
	if err != nil {
		return nil, nil, err
	}
	return log.New(d, "", log.LstdFlags|log.Lmicroseconds), d, nil
}

// logLevel is a log-level value, KVRocks's names in increasing severity.
type logLevel int32

const (
	levelDebug logLevel = iota
	levelInfo
	levelWarning
	levelError
	levelFatal
)

var logLevelNames = []string{"debug", "info", "warning", "error", "fatal"}

func parseLogLevel(s string) (logLevel, error) {
	for i, n := range logLevelNames {
		if strings.EqualFold(s, n) {
			return logLevel(i), nil
		}
	}
	return 0, errors.New("want debug, info, warning, error or fatal")
}

func checkLogLevel(v string) error { _, err := parseLogLevel(v); return err }

// leveledLog drops messages below its level, which CONFIG SET log-level
// changes at run time. Safe for concurrent use.
type leveledLog struct {
	out   *log.Logger
	level atomic.Int32
}

func newLeveledLog(out *log.Logger, level logLevel) *leveledLog {
	l := &leveledLog{out: out}
	l.level.Store(int32(level))
	return l
}

// setLevel is the log-level key's applier.
func (l *leveledLog) setLevel(v string) error {
	lv, err := parseLogLevel(v)
	if err != nil {
		return err
	}
	l.level.Store(int32(lv))
	return nil
}

func (l *leveledLog) logf(lv logLevel, format string, args ...any) {
	if int32(lv) < l.level.Load() {
		return
	}
	// NB: the level tag leads, as KVRocks's log lines start with theirs.
	l.out.Output(3, "["+logLevelNames[lv]+"] "+fmt.Sprintf(format, args...))
}

// Debugf, Infof, Warnf and Errorf log at their level.
func (l *leveledLog) Debugf(format string, args ...any) { l.logf(levelDebug, format, args...) }
func (l *leveledLog) Infof(format string, args ...any)  { l.logf(levelInfo, format, args...) }
func (l *leveledLog) Warnf(format string, args ...any)  { l.logf(levelWarning, format, args...) }
func (l *leveledLog) Errorf(format string, args ...any) { l.logf(levelError, format, args...) }
