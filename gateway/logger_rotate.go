package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// logFileName is the log file KVRocks writes in its log directory, which
// operators' tools read.
const logFileName = "kvrocks.INFO"

// dailyLog is the log file of a log directory: lines go to kvrocks.INFO,
// which is renamed to kvrocks.INFO.<YYYYMMDD> (the day its lines were
// written) when the local date changes, or at start when it holds an
// earlier day's lines. With log-retention-days N >= 0, rotated files last
// written more than N days ago are removed at each rotation and at start
// (0: every rotated file), as KVRocks's log cleaner does; -1 keeps them
// all. Safe for concurrent use.
type dailyLog struct {
	dir       string
	retention int64 // days; -1: keep every rotated file
	now       func() time.Time

	mu  sync.Mutex
	f   *os.File
	day string // YYYYMMDD of the lines in f
}

func openDailyLog(dir string, retention int64, now func() time.Time) (*dailyLog, error) {
	d := &dailyLog{dir: dir, retention: retention, now: now}
	path := filepath.Join(dir, logFileName)
	today := now().Format("20060102")
	d.day = today
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		if old := st.ModTime().Format("20060102"); old != today {
			if err := d.rotateFile(old); err != nil {
				return nil, err
			}
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open log file: %w", err)
	}
	d.f = f
	d.purge()
	return d, nil
}

// Write appends p, rotating first when the date has changed.
func (d *dailyLog) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if today := d.now().Format("20060102"); today != d.day {
		d.f.Close()
		// NB: a failed rotation keeps logging into the same file rather
		// than losing lines.
		rotErr := d.rotateFile(d.day)
		f, err := os.OpenFile(filepath.Join(d.dir, logFileName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return 0, err
		}
		d.f, d.day = f, today
		if rotErr != nil {
			fmt.Fprintf(d.f, "%s [warning] cannot rotate the log: %v\n", d.now().Format("2006/01/02 15:04:05.000000"), rotErr)
		}
		d.purge()
	}
	return d.f.Write(p)
}

// rotateFile renames kvrocks.INFO to kvrocks.INFO.<day> (with a suffix if
// that name is taken).
func (d *dailyLog) rotateFile(day string) error {
	dst := filepath.Join(d.dir, logFileName+"."+day)
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); os.IsNotExist(err) {
			break
		}
		dst = filepath.Join(d.dir, fmt.Sprintf("%s.%s.%d", logFileName, day, i))
	}
	return os.Rename(filepath.Join(d.dir, logFileName), dst)
}

// purge removes rotated files older than the retention.
func (d *dailyLog) purge() {
	if d.retention < 0 {
		return
	}
	cutoff := d.now().Add(-time.Duration(d.retention) * 24 * time.Hour)
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), logFileName+".") {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if d.retention == 0 || info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(d.dir, e.Name()))
		}
	}
}

// Close closes the file.
func (d *dailyLog) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.f.Close()
}
