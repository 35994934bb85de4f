package local

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Archiving artifacts as hudson.tasks.ArtifactArchiver does: Ant patterns
// over the workspace, copied to builds/<n>/archive/.

// antDefaultExcludes are Ant's DirectoryScanner default excludes.
var antDefaultExcludes = []string{
	"**/*~", "**/#*#", "**/.#*", "**/%*%", "**/._*",
	"**/CVS", "**/CVS/**", "**/.cvsignore", "**/SCCS", "**/SCCS/**", "**/vssver.scc",
	"**/.svn", "**/.svn/**", "**/.DS_Store",
	"**/.git", "**/.git/**", "**/.gitattributes", "**/.gitignore", "**/.gitmodules",
	"**/.hg", "**/.hg/**", "**/.hgignore", "**/.hgsub", "**/.hgsubstate", "**/.hgtags",
	"**/.bzr", "**/.bzr/**", "**/.bzrignore",
}

// antPatterns splits a comma-separated list of Ant patterns, as Jenkins'
// Util.createFileSet does (commas only, so that names may hold spaces).
func antPatterns(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// antMatch reports whether a slash-separated relative path matches an Ant
// pattern: * and ? within a name, ** for any number of directories, a
// trailing / standing for /**.
func antMatch(pattern, path string, caseSensitive bool) bool {
	pattern = strings.ReplaceAll(pattern, `\`, "/")
	if strings.HasPrefix(pattern, "/") {
		return false // absolute: nothing in the workspace
	}
	if strings.HasSuffix(pattern, "/") {
		pattern += "**"
	}
	if !caseSensitive {
		pattern, path = strings.ToLower(pattern), strings.ToLower(path)
	}
	return matchParts(strings.Split(pattern, "/"), strings.Split(path, "/"))
}

func matchParts(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 0 && pat[0] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := 0; i <= len(name); i++ {
				if matchParts(pat, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 || !matchName(pat[0], name[0]) {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// matchName matches one path element against * and ? wildcards.
func matchName(p, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(p) && (p[px] == '?' || p[px] == s[sx]) && p[px] != '*':
			px++
			sx++
		case px < len(p) && p[px] == '*':
			starP, starS = px, sx
			px++
		case starP >= 0:
			px = starP + 1
			starS++
			sx = starS
		default:
			return false
		}
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}

// archive copies the artifacts a build's archiver selects into the
// build's archive, and returns the result it gives the build. Symbolic
// links are never followed or archived.
func (m *Master) archive(r *runContext, a *archiver, result string) string {
	log := r.b.log
	if a.onlyIfSuccessful && worse(result, "UNSTABLE") != "UNSTABLE" {
		log.println("Skipped archiving because build is not successful")
		return "SUCCESS"
	}
	log.println("Archiving artifacts")
	includes := antPatterns(a.artifacts)
	excludes := antPatterns(a.excludes)
	if a.defaultExcludes {
		excludes = append(excludes, antDefaultExcludes...)
	}
	var found []string
	filepath.WalkDir(r.ws, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(r.ws, p)
		if err != nil {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if !anyMatch(includes, rel, a.caseSensitive) || anyMatch(excludes, rel, a.caseSensitive) {
			return nil
		}
		found = append(found, rel)
		return nil
	})
	slices.Sort(found)
	if len(found) == 0 {
		if a.allowEmpty {
			log.println(fmt.Sprintf("No artifacts found that match the file pattern %q. Configuration error?", a.artifacts))
			return "SUCCESS"
		}
		log.println(fmt.Sprintf("ERROR: No artifacts found that match the file pattern %q. Configuration error?", a.artifacts))
		return "FAILURE"
	}
	m.mu.RLock()
	gone := !live(r.b.job)
	m.mu.RUnlock()
	if gone {
		log.println("ERROR: the job was deleted: nothing archived")
		return "FAILURE"
	}
	dest := filepath.Join(r.jobDir, "builds", fmt.Sprint(r.b.number), "archive")
	var archived []string
	for _, rel := range found {
		if err := copyArtifact(filepath.Join(r.ws, filepath.FromSlash(rel)), filepath.Join(dest, filepath.FromSlash(rel))); err != nil {
			log.println(fmt.Sprintf("ERROR: archiving %s: %v", rel, err))
			m.mu.Lock()
			r.b.artifacts = archived
			m.mu.Unlock()
			return "FAILURE"
		}
		archived = append(archived, rel)
	}
	m.mu.Lock()
	r.b.artifacts = archived
	m.mu.Unlock()
	return "SUCCESS"
}

func anyMatch(patterns []string, path string, caseSensitive bool) bool {
	for _, p := range patterns {
		if antMatch(p, path, caseSensitive) {
			return true
		}
	}
	return false
}

// copyArtifact copies a regular file, refusing anything else (a file
// replaced by a symbolic link since the walk).
func copyArtifact(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	lfi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || !lfi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm()|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
