package jobs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// LockFile is the name of the version lock at a repository's root.
const LockFile = "jobctl.lock"

// Lock records, per common name, the version number and content hash of the
// job's current definition. It is what keeps version numbers stable across
// machines: an unchanged hash keeps its number, a new hash gets the next one.
type Lock struct {
	entries map[string]LockEntry
}

// LockEntry is one line of jobctl.lock.
type LockEntry struct {
	Version int
	Hash    string
}

// Status says how a job's definition relates to the lock.
type Status string

const (
	New       Status = "new"
	Changed   Status = "changed"
	Unchanged Status = "unchanged"
)

var lockLineRE = regexp.MustCompile(`^(\S+) v([1-9][0-9]{0,8}) ([0-9a-f]{12})$`)

// ReadLock reads root/jobctl.lock; a missing file is an empty lock.
func ReadLock(root string) (*Lock, error) {
	data, err := os.ReadFile(filepath.Join(root, LockFile))
	if os.IsNotExist(err) {
		return &Lock{entries: map[string]LockEntry{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", LockFile, err)
	}
	var ps Problems
	l := ParseLock(LockFile, data, &ps)
	if err := ps.Err(); err != nil {
		return nil, err
	}
	return l, nil
}

// ParseLock parses the contents of a lock file, recording problems in ps.
func ParseLock(file string, data []byte, ps *Problems) *Lock {
	l := &Lock{entries: map[string]LockEntry{}}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		m := lockLineRE.FindStringSubmatch(line)
		if m == nil {
			ps.Add(file, i+1, 1, "malformed line %q; each line is \"<name> v<N> <12 hex digits>\" (resolve merge conflicts by keeping the higher version, then run jobctl build)", truncate(line, 80))
			continue
		}
		if msg := checkName(m[1]); msg != "" {
			ps.Add(file, i+1, 1, "job name %q: %s", m[1], msg)
			continue
		}
		if _, dup := l.entries[m[1]]; dup {
			ps.Add(file, i+1, 1, "%s is listed twice; keep the line with the higher version", m[1])
			continue
		}
		v, _ := strconv.Atoi(m[2])
		l.entries[m[1]] = LockEntry{Version: v, Hash: m[3]}
	}
	return l
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Get returns the entry for a common name.
func (l *Lock) Get(name string) (LockEntry, bool) {
	e, ok := l.entries[name]
	return e, ok
}

// Assign returns the version a job with this hash gets: the locked version
// when the hash is unchanged, and the next version otherwise.
func (l *Lock) Assign(name, hash string) (int, Status) {
	e, ok := l.entries[name]
	switch {
	case !ok:
		return 1, New
	case e.Hash == hash:
		return e.Version, Unchanged
	default:
		return e.Version + 1, Changed
	}
}

// Set records a job's version and hash.
func (l *Lock) Set(name string, version int, hash string) {
	if l.entries == nil {
		l.entries = map[string]LockEntry{}
	}
	l.entries[name] = LockEntry{Version: version, Hash: hash}
}

// Names lists the locked common names, sorted.
func (l *Lock) Names() []string {
	names := make([]string, 0, len(l.entries))
	for n := range l.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Bytes renders the lock: one sorted line per job.
func (l *Lock) Bytes() []byte {
	var b bytes.Buffer
	for _, n := range l.Names() {
		e := l.entries[n]
		fmt.Fprintf(&b, "%s v%d %s\n", n, e.Version, e.Hash)
	}
	return b.Bytes()
}

// Equal reports whether two locks hold the same entries.
func (l *Lock) Equal(other *Lock) bool {
	return bytes.Equal(l.Bytes(), other.Bytes())
}

// Write writes root/jobctl.lock atomically.
func (l *Lock) Write(root string) error {
	return WriteFileAtomic(filepath.Join(root, LockFile), l.Bytes(), 0o644)
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder and a rename, so a crash never leaves a half-written file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
