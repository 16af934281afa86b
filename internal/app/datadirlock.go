package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFileName is the file in the data dir that a serving process holds an
// exclusive lock on.
const lockFileName = "latch.lock"

// lockDataDir takes an exclusive, non-blocking lock on the SQLite data dir, so
// that a second `latch serve` on the same database refuses to start instead of
// running beside the first. The kernel drops the lock when the process ends,
// however it ends (kill -9 included), so a stale lock file never blocks a start.
// CLI commands (setup, recover, backup) do not take it: they are meant to run
// beside a serving process.
func lockDataDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readLockHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, usageError{fmt.Sprintf("another latch serve%s is already using the data dir %s; stop it first, or give this one its own --data-dir", holder, dir)}
		}
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	// The pid is for the message above; the lock itself is what counts.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// readLockHolder names the pid written by the process holding the lock.
func readLockHolder(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid := strings.TrimSpace(string(buf[:n]))
	if _, err := strconv.Atoi(pid); err != nil || pid == "" {
		return ""
	}
	return " (pid " + pid + ")"
}
