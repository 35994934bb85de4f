package compiler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jobctl/jobctl/jobs"
)

// ManifestFile is the name of the manifest in a build folder.
const ManifestFile = "manifest.json"

// ManifestFormat versions the manifest's shape.
const ManifestFormat = 1

// Manifest describes a build folder: which definitions it holds, in
// dependency order, and what each needs and offers. It is what deploy, run
// and test read; it depends only on the sources and the lock.
type Manifest struct {
	Format  int           `json:"format"`
	Project string        `json:"project"`
	Folder  string        `json:"folder"`
	View    string        `json:"view"`
	Jobs    []ManifestJob `json:"jobs"` // last: Bytes relies on it
}

// ManifestJob is one definition in the manifest.
type ManifestJob struct {
	Name       string            `json:"name"`
	Kind       jobs.Kind         `json:"kind"`
	Version    int               `json:"version"`
	Hash       string            `json:"hash"`
	Deployed   string            `json:"deployed"`
	Definition string            `json:"definition"`
	Source     string            `json:"source"`
	Calls      []string          `json:"calls"`
	Params     []ManifestParam   `json:"params"`
	Outputs    []ManifestField   `json:"outputs"`
	Plugins    map[string]string `json:"plugins"`
	Tools      map[string]string `json:"tools"`
	Schedule   string            `json:"schedule,omitempty"`
	LineMap    string            `json:"line_map,omitempty"`
}

// ManifestParam is a job parameter as callers need to know it.
type ManifestParam struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Required    bool     `json:"required,omitempty"`
	Default     *string  `json:"default,omitempty"`
	Choices     []string `json:"choices,omitempty"`
	Description string   `json:"description,omitempty"`
}

// ManifestField is an output field.
type ManifestField struct {
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Required bool            `json:"required,omitempty"`
	Fields   []ManifestField `json:"fields,omitempty"`
	Items    *ManifestField  `json:"items,omitempty"`
}

// Manifest returns the manifest of a compiled result.
func (r *Result) Manifest() *Manifest {
	m := &Manifest{Format: ManifestFormat, Project: r.Project.Name, Folder: r.Project.Name, View: ViewName, Jobs: []ManifestJob{}}
	for _, d := range r.Defs {
		j := d.Job
		mj := ManifestJob{
			Name: j.Name, Kind: j.Kind, Version: d.Version, Hash: d.Hash, Deployed: d.Deployed,
			Definition: "jobs/" + d.Deployed + ".xml",
			Source:     j.Dir(),
			Calls:      append([]string{}, d.CallsDeployed...),
			Params:     []ManifestParam{},
			Outputs:    manifestFields(j.Outputs),
			Plugins:    map[string]string{},
			Tools:      map[string]string{},
			Schedule:   j.Schedule,
		}
		for _, p := range j.Params {
			mp := ManifestParam{Name: p.Name, Type: string(p.Type), Required: p.Required, Choices: p.Choices, Description: p.Description}
			if p.HasDefault {
				def := p.Default
				mp.Default = &def
			}
			mj.Params = append(mj.Params, mp)
		}
		for _, p := range d.Plugins {
			mj.Plugins[p.Name] = p.Constraint
		}
		for _, t := range j.Requires.Tools {
			mj.Tools[t.Name] = t.Constraint
		}
		if d.LineMap != nil {
			mj.LineMap = "maps/" + d.Deployed + ".json"
		}
		m.Jobs = append(m.Jobs, mj)
	}
	return m
}

func manifestFields(fs []jobs.Field) []ManifestField {
	out := []ManifestField{}
	for _, f := range fs {
		out = append(out, manifestField(f))
	}
	return out
}

func manifestField(f jobs.Field) ManifestField {
	mf := ManifestField{Name: f.Name, Type: string(f.Type), Required: f.Required}
	if len(f.Fields) > 0 {
		mf.Fields = manifestFields(f.Fields)
	}
	if f.Items != nil {
		it := manifestField(*f.Items)
		mf.Items = &it
	}
	return mf
}

// ReadManifest reads the manifest of a build folder.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s has no %s; run jobctl build first", dir, ManifestFile)
		}
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%s was written by another version of jobctl (format %d, want %d); run jobctl build again", filepath.Join(dir, ManifestFile), m.Format, ManifestFormat)
	}
	return &m, nil
}

func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(err) // manifests and line maps are plain data
	}
	return b.Bytes()
}

// Bytes renders the manifest as JSON with one job per line: readable, easy
// to diff, and quick to write for ten thousand jobs (the jobs are encoded
// in parallel).
func (m *Manifest) Bytes() []byte {
	jobs := make([][]byte, len(m.Jobs))
	parallel(len(m.Jobs), func(i int) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m.Jobs[i]); err != nil {
			panic(err) // a manifest is plain data
		}
		jobs[i] = bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	})
	head := *m
	head.Jobs = nil
	b := marshal(head)
	b = b[:bytes.LastIndex(b, []byte(`"jobs": null`))]
	b = append(b, `"jobs": [`...)
	for i, j := range jobs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = append(b, j...)
	}
	if len(jobs) > 0 {
		b = append(b, "\n  "...)
	}
	return append(b, "]\n}\n"...)
}

// Files returns every file of the build folder, by path relative to it.
func (r *Result) Files() map[string][]byte {
	files := map[string][]byte{
		ManifestFile:                 r.Manifest().Bytes(),
		"folder.xml":                 r.Folder,
		"views/" + ViewName + ".xml": r.View,
	}
	for _, d := range r.Defs {
		files["jobs/"+d.Deployed+".xml"] = d.XML
		if d.LineMap != nil {
			files["maps/"+d.Deployed+".json"] = marshal(d.LineMap)
		}
	}
	return files
}

// Write updates the folder out to hold exactly this build. Definition files
// are content-addressed (a deployed name fixes the content), so a file that
// is already there with the same bytes is kept and only new definitions are
// written, each through a temporary file and a rename. The manifest is
// written last, atomically: it is the commit point, and a reader that goes
// by it always sees one whole build, even after a crash part-way. Files of
// earlier builds are removed after it. Write refuses to touch a folder that
// was not written by jobctl build.
func (r *Result) Write(out string) error {
	if err := checkReplaceable(out); err != nil {
		return err
	}
	files := r.Files()
	manifest := files[ManifestFile]
	delete(files, ManifestFile)
	for _, d := range []string{"jobs", "maps", "views"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return fmt.Errorf("writing the build: %w", err)
		}
	}
	names := make([]string, 0, len(files))
	for rel := range files {
		names = append(names, rel)
	}
	errs := make([]error, len(names))
	parallel(len(names), func(i int) {
		errs[i] = writeIfChanged(filepath.Join(out, filepath.FromSlash(names[i])), names[i], files[names[i]])
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("writing the build: %w", err)
	}
	if err := writeRename(filepath.Join(out, ManifestFile), manifest); err != nil {
		return fmt.Errorf("writing the build: %w", err)
	}
	// The new build is complete; what the manifest does not list is stale.
	for _, d := range []string{"jobs", "maps", "views"} {
		entries, err := os.ReadDir(filepath.Join(out, d))
		if err != nil {
			return fmt.Errorf("cleaning the build: %w", err)
		}
		for _, e := range entries {
			if _, keep := files[d+"/"+e.Name()]; !keep {
				if err := os.RemoveAll(filepath.Join(out, d, e.Name())); err != nil {
					return fmt.Errorf("cleaning the build: %w", err)
				}
			}
		}
	}
	return nil
}

// writeIfChanged writes data to path unless the file already holds it.
//
// Files under jobs/ and maps/ are named by their content's hash: a file of
// the same name and size holds the same bytes and is kept without reading
// it, and a new one is written in place, since no manifest refers to it
// until the whole build is written (a crash can leave it short, and the
// size check rewrites it next time). Other files are compared, and
// replaced through a rename.
func writeIfChanged(path, rel string, data []byte) error {
	addressed := strings.HasPrefix(rel, "jobs/") || strings.HasPrefix(rel, "maps/")
	if fi, err := os.Stat(path); err == nil && fi.Size() == int64(len(data)) {
		if addressed {
			return nil
		}
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			return nil
		}
	}
	if addressed {
		return os.WriteFile(path, data, 0o644)
	}
	return writeRename(path, data)
}

// writeRename writes data to path through a temporary file in the same
// folder and a rename, so no reader ever sees half a file. It does not
// fsync: a build folder can always be built again.
func writeRename(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// checkReplaceable refuses to replace a folder that holds anything but a
// previous build: --out pointed at the wrong place must never delete data.
func checkReplaceable(out string) error {
	entries, err := os.ReadDir(out)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output folder %s: %w", out, err)
	}
	// The default folder of a noop build is inside the real build's: it
	// is its own build, which this one leaves alone.
	kept := entries[:0]
	for _, e := range entries {
		if !(e.Name() == NoopOut && e.IsDir()) {
			kept = append(kept, e)
		}
	}
	entries = kept
	if len(entries) == 0 {
		return nil
	}
	if _, err := ReadManifest(out); err != nil {
		var m struct {
			Format int `json:"format"`
		}
		data, rerr := os.ReadFile(filepath.Join(out, ManifestFile))
		if rerr != nil || json.Unmarshal(data, &m) != nil || m.Format == 0 {
			return fmt.Errorf("refusing to replace %s: it exists and was not written by jobctl build; choose another --out or remove it", out)
		}
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case name == ManifestFile, name == "folder.xml", name == "jobs", name == "maps", name == "views":
		case strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-"):
			// Left by an interrupted build.
		default:
			return fmt.Errorf("refusing to replace %s: it holds %s, which jobctl build did not write; move it away or choose another --out", out, e.Name())
		}
	}
	return nil
}
