package compiler

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/jobctl/jobctl/components"
	"github.com/jobctl/jobctl/jobs"
)

// Repo is a job repository loaded from disk: settings, jobs, libraries and
// the bodies of every job, before anything is resolved or rendered.
type Repo struct {
	Root    string
	Project *jobs.Project
	Jobs    []*Source // sorted by name
	LibSh   []*LibFile
	LibGvy  []*LibFile
	// TemplatesDir is the repository's templates/ folder (it may not exist).
	TemplatesDir string
	// Components are the repository's component files, and Generated the
	// job sources generated from them; their jobs are in Jobs too.
	Components []*components.Component
	Generated  []components.File
}

// Source is one job and the text of its body.
type Source struct {
	Job *jobs.Job
	// BodyFile is the body's path relative to the root; Body its contents.
	BodyFile string
	Body     []byte
	// Flow is a flow orchestration's flow, as YAML (from flow.yaml, or
	// inline in job.yaml, then BodyFile is job.yaml and Body is nil).
	Flow *yaml.Node
}

// LibFile is one lib/sh or lib/groovy file.
type LibFile struct {
	Path string // relative to the root, with '/'
	Data []byte
}

// maxBodySize bounds a job body: Jenkins stores it inside the job's XML.
const maxBodySize = 1 << 20

// Load reads a job repository. Every problem in every file is reported
// together in one *jobs.InputError.
func Load(root string) (*Repo, error) {
	project, err := jobs.ReadProject(root)
	if err != nil {
		return nil, err
	}
	var ps jobs.Problems
	r := &Repo{Root: root, Project: project, TemplatesDir: filepath.Join(root, "templates")}

	names, err := jobDirs(root, &ps)
	if err != nil {
		return nil, err
	}
	disk := dirFS(root)
	r.Jobs = make([]*Source, len(names))
	perJob := make([]jobs.Problems, len(names))
	parallel(len(names), func(i int) {
		r.Jobs[i] = loadJob(disk, "", names[i], project.Defaults, &perJob[i])
	})
	for i := range perJob {
		ps.Merge(&perJob[i])
	}
	kept := r.Jobs[:0]
	for _, s := range r.Jobs {
		if s != nil {
			kept = append(kept, s)
		}
	}
	r.Jobs = kept

	if err := r.loadComponents(names, &ps); err != nil {
		return nil, err
	}
	if r.LibSh, err = readLib(root, "lib/sh", ".sh", &ps); err != nil {
		return nil, err
	}
	if r.LibGvy, err = readLib(root, "lib/groovy", ".groovy", &ps); err != nil {
		return nil, err
	}
	if err := ps.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// jobDirs lists the folders under jobs/, sorted.
func jobDirs(root string, ps *jobs.Problems) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "jobs"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing jobs: %w", err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."):
		case e.IsDir():
			names = append(names, name)
		default:
			if e.Type()&os.ModeSymlink != 0 {
				if fi, err := os.Stat(filepath.Join(root, "jobs", name)); err == nil && fi.IsDir() {
					names = append(names, name)
					continue
				}
			}
			ps.Add("jobs/"+name, 0, 0, "not a job folder; every job lives in jobs/<name>/job.yaml")
		}
	}
	sort.Strings(names)
	return names, nil
}

// sourceFS is where job sources are read from: the repository on disk,
// or the sources generated from component files.
type sourceFS interface {
	ReadFile(rel string) ([]byte, error)
	Exists(rel string) bool
}

// dirFS reads paths relative to a repository root.
type dirFS string

func (d dirFS) ReadFile(rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(string(d), filepath.FromSlash(rel)))
}

func (d dirFS) Exists(rel string) bool { return exists(string(d), rel) }

// memFS holds generated files by path.
type memFS map[string][]byte

func (m memFS) ReadFile(rel string) ([]byte, error) {
	if b, ok := m[rel]; ok {
		return b, nil
	}
	return nil, &os.PathError{Op: "open", Path: rel, Err: os.ErrNotExist}
}

func (m memFS) Exists(rel string) bool { _, ok := m[rel]; return ok }

// loadComponents reads the component files, generates their jobs (and
// the nightly prune job, when jobctl.yaml schedules one) and loads those
// as it loads the repository's own (names), from paths under
// components.RenderDir: where jobctl components render writes them.
func (r *Repo) loadComponents(names []string, ps *jobs.Problems) error {
	addAll := func(err error) error {
		var ie *jobs.InputError
		if errors.As(err, &ie) {
			for _, p := range ie.Problems {
				ps.AddProblem(p)
			}
			return nil
		}
		return err
	}
	cs, err := components.Load(r.Root)
	if err != nil {
		return addAll(err)
	}
	var files []components.File
	if len(cs) > 0 {
		if files, err = components.Generate(cs, names); err != nil {
			if err := addAll(err); err != nil {
				return err
			}
		}
	}
	if prune := pruneJobFiles(r.Project); prune != nil {
		clash := slices.Contains(names, PruneJob)
		for _, f := range files {
			clash = clash || f.Path == prune[0].Path
		}
		if clash {
			ps.Add(jobs.ProjectFile, r.Project.Prune.Line, r.Project.Prune.Col, "prune.schedule generates the job %s, which another job or a component already makes: rename that", PruneJob)
			return nil
		}
		if ps.Len() > 0 {
			return nil
		}
		files = append(files, prune...)
		sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	}
	if len(files) == 0 {
		return nil
	}
	r.Components, r.Generated = cs, files
	prefix := components.RenderDir + "/"
	fsys := memFS{}
	var gen []string
	for _, f := range files {
		fsys[prefix+f.Path] = f.Data
		if dir, base := path.Split(f.Path); base == "job.yaml" {
			gen = append(gen, path.Base(dir))
		}
	}
	sources := make([]*Source, len(gen))
	perJob := make([]jobs.Problems, len(gen))
	parallel(len(gen), func(i int) {
		sources[i] = loadJob(fsys, prefix, gen[i], r.Project.Defaults, &perJob[i])
	})
	for i := range perJob {
		ps.Merge(&perJob[i])
	}
	for _, s := range sources {
		if s != nil {
			r.Jobs = append(r.Jobs, s)
		}
	}
	sort.Slice(r.Jobs, func(i, j int) bool { return r.Jobs[i].Job.Name < r.Jobs[j].Job.Name })
	return nil
}

func loadJob(fsys sourceFS, prefix, name string, defaults jobs.Defaults, ps *jobs.Problems) *Source {
	file := prefix + "jobs/" + name + "/job.yaml"
	data, err := fsys.ReadFile(file)
	if err != nil {
		if os.IsNotExist(err) {
			ps.Add(prefix+"jobs/"+name, 0, 0, "no job.yaml; a job folder needs one (kind: worker or kind: orchestration)")
		} else {
			ps.Add(file, 0, 0, "%v", err)
		}
		return nil
	}
	j := jobs.ParseJob(file, name, data, defaults, ps)
	if j == nil || j.Kind == "" {
		return nil
	}
	s := &Source{Job: j}
	switch {
	case j.Kind == jobs.Worker && j.Script != "":
		s.BodyFile = j.Script
	case j.Kind == jobs.Orchestration && j.Pipeline != "":
		s.BodyFile = j.Pipeline
	case j.Kind == jobs.Orchestration && j.FlowNode != nil:
		s.BodyFile, s.Flow = file, j.FlowNode
		return s
	case j.Kind == jobs.Orchestration && j.FlowFile != "":
		s.BodyFile = j.FlowFile
	case j.Kind == jobs.Orchestration:
		dir := path.Dir(file)
		groovy, flow := fsys.Exists(dir+"/main.groovy"), fsys.Exists(dir+"/flow.yaml")
		switch {
		case groovy && flow:
			ps.Add(file, 0, 0, "%s has both main.groovy and flow.yaml: name the body with pipeline: main.groovy or flow: flow.yaml", dir)
			return nil
		case groovy:
			s.BodyFile = dir + "/main.groovy"
			j.Pipeline = s.BodyFile
		case flow:
			s.BodyFile = dir + "/flow.yaml"
			j.FlowFile = s.BodyFile
		default:
			ps.Add(file, 0, 0, "an orchestration needs a body: add flow.yaml or main.groovy next to job.yaml, or name one with flow: or pipeline:")
			return nil
		}
	default:
		return nil
	}
	body, err := fsys.ReadFile(s.BodyFile)
	switch {
	case os.IsNotExist(err):
		what := "script"
		switch {
		case j.FlowFile != "":
			what = "flow"
		case j.Kind == jobs.Orchestration:
			what = "pipeline"
		}
		ps.Add(file, j.BodyLine, j.BodyCol, "%s %s does not exist; create it or name the right file with %s:", what, s.BodyFile, what)
		return nil
	case err != nil:
		ps.Add(s.BodyFile, 0, 0, "%v", err)
		return nil
	case len(body) > maxBodySize:
		ps.Add(s.BodyFile, 0, 0, "the file is %d bytes; a job body can be at most %d (Jenkins keeps it in the job's XML): move data out of the body", len(body), maxBodySize)
		return nil
	}
	if line, col, msg := badText(body); msg != "" {
		ps.Add(s.BodyFile, line, col, "%s", msg)
		return nil
	}
	if j.Kind == jobs.Worker && !bytes.HasPrefix(body, []byte("#!")) {
		ps.Add(s.BodyFile, 1, 1, "a worker body must start with a shebang line that names its interpreter, e.g. #!/usr/bin/env bash")
		return nil
	}
	s.Body = body
	if j.FlowFile != "" {
		if s.Flow = jobs.ParseYAML(s.BodyFile, body, ps); s.Flow == nil {
			return nil
		}
	}
	return s
}

// badText finds the first byte sequence that a job definition cannot carry.
func badText(b []byte) (line, col int, msg string) {
	if err := jobs.ValidText(string(b)); err == nil {
		return 0, 0, ""
	}
	for i, l := range bytes.Split(b, []byte("\n")) {
		if err := jobs.ValidText(string(l)); err != nil {
			return i + 1, 0, "the line " + err.Error() + "; is this a text file?"
		}
	}
	return 0, 0, "the file cannot be carried in a job definition"
}

func exists(root, rel string) bool {
	fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil && !fi.IsDir()
}

// readLib reads every file with the given extension in root/dir, sorted.
func readLib(root, dir, ext string, ps *jobs.Problems) ([]*LibFile, error) {
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var out []*LibFile
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ext) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		rel := dir + "/" + e.Name()
		if !jobs.SafePath(rel) {
			ps.Add(rel, 0, 0, "library file names may hold only letters, digits, '.', '_' and '-'; rename it")
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", rel, err)
		}
		if line, col, msg := badText(data); msg != "" {
			ps.Add(rel, line, col, "%s", msg)
			continue
		}
		out = append(out, &LibFile{Path: rel, Data: data})
	}
	return out, nil
}

// parallel runs f(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
