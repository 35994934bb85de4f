// Package templates holds the built-in text/template files jobctl renders
// job definitions from (freestyle worker, pipeline, folder, view) and the
// worker wrapper script, embedded in the binary. A job repository may
// override the XML templates with files of the same names under templates/.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"unicode/utf8"
)

//go:embed xml/*.xml
var builtin embed.FS

// Names of the templates a repository can override, as files under templates/.
const (
	FreestyleFile = "freestyle.xml"
	PipelineFile  = "pipeline.xml"
	FolderFile    = "folder.xml"
	ViewFile      = "view.xml"
	commonFile    = "common.xml"
)

var overridable = []string{FreestyleFile, PipelineFile, FolderFile, ViewFile, commonFile}

// Set is a parsed set of XML templates.
type Set struct {
	tmpl *template.Template
	// Overrides lists the files taken from the repository, sorted.
	Overrides []string
}

// Funcs are the functions available in templates. Every value a template
// writes must go through xml; the tests check the built-in ones do.
var Funcs = template.FuncMap{
	"xml": xmlFunc,
}

// Builtin returns the built-in templates.
func Builtin() *Set {
	s, err := load(nil)
	if err != nil {
		panic(err) // the embedded templates are tested
	}
	return s
}

// Load returns the built-in templates with those found in dir (a job
// repository's templates/ folder) taking their place. A missing dir means no
// overrides.
func Load(dir string) (*Set, error) {
	overrides := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("reading templates: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".xml") {
			continue
		}
		if !contains(overridable, name) {
			return nil, fmt.Errorf("%s: not a template jobctl knows; expected one of %s", filepath.ToSlash(filepath.Join(filepath.Base(dir), name)), strings.Join(overridable, ", "))
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("reading templates: %w", err)
		}
		overrides[name] = b
	}
	return load(overrides)
}

func load(overrides map[string][]byte) (*Set, error) {
	t := template.New("").Funcs(Funcs).Option("missingkey=error")
	s := &Set{tmpl: t}
	for _, name := range overridable {
		text, ok := overrides[name]
		if ok {
			s.Overrides = append(s.Overrides, name)
		} else {
			b, err := fs.ReadFile(builtin, "xml/"+name)
			if err != nil {
				return nil, err
			}
			text = b
		}
		if _, err := t.New(name).Parse(string(text)); err != nil {
			return nil, fmt.Errorf("templates/%s: %w", name, err)
		}
	}
	sort.Strings(s.Overrides)
	return s, nil
}

// Keep is a build retention policy as LogRotator wants it: -1 means no limit.
type Keep struct {
	Days, Builds int
	Enabled      bool
}

// NewKeep converts "0 = no limit" settings to LogRotator's form.
func NewKeep(days, builds int) Keep {
	k := Keep{Days: -1, Builds: -1}
	if days > 0 {
		k.Days, k.Enabled = days, true
	}
	if builds > 0 {
		k.Builds, k.Enabled = builds, true
	}
	return k
}

// Param is one parameter definition.
type Param struct {
	Type        string // string, boolean, choice, password
	Name        string
	Description string
	Default     string
	Choices     []string
}

// Job is what the freestyle and pipeline templates render.
type Job struct {
	Description string
	Label       string
	Concurrent  bool
	Keep        Keep
	Params      []Param
	Schedule    string
	// Command is a freestyle job's shell step, escaped once with Escape
	// because it is large and rendered twice.
	Command Escaped
	// Artifacts is a freestyle job's archiver pattern, or "".
	Artifacts string
	// Script is a pipeline job's Groovy.
	Script string
	// Watch, for a freestyle job, polls a git branch and triggers a job
	// when it changes; nil for none.
	Watch *Watch
}

// Watch is a freestyle job's git SCM with a path restriction, its SCM
// polling trigger, and the parameterized downstream build it triggers.
type Watch struct {
	URL    string
	Branch string
	// IncludedRegions is the PathRestriction: Java regexes, one per line;
	// "" for none.
	IncludedRegions string
	Poll            string
	// Trigger is the deployed name of the job to run, in the same folder;
	// Params its parameters as properties lines (K=V).
	Trigger string
	Params  string
}

// Folder is what the folder template renders.
type Folder struct {
	Description string
}

// View is what the view template renders.
type View struct {
	Name        string
	Description string
	Jobs        []string
}

// Freestyle renders a worker's freestyle job XML.
func (s *Set) Freestyle(j Job) ([]byte, error) { return s.render(FreestyleFile, j, j.size()) }

// Pipeline renders an orchestration's pipeline job XML.
func (s *Set) Pipeline(j Job) ([]byte, error) { return s.render(PipelineFile, j, j.size()) }

// size estimates the rendered size of a job, so the output buffer is
// allocated once instead of grown by doubling.
func (j Job) size() int {
	n := 3072 + len(j.Command) + len(j.Script)*11/10 + len(j.Description)*12/10
	for _, p := range j.Params {
		n += 256 + len(p.Description) + len(p.Default)
		for _, c := range p.Choices {
			n += 32 + len(c)
		}
	}
	return n
}

// Folder renders the project folder's XML.
func (s *Set) Folder(f Folder) ([]byte, error) { return s.render(FolderFile, f, 4096) }

// View renders the project view's XML; its jobs are listed sorted, as Jenkins keeps them.
func (s *Set) View(v View) ([]byte, error) {
	v.Jobs = append([]string(nil), v.Jobs...)
	sort.Slice(v.Jobs, func(i, j int) bool { return strings.ToLower(v.Jobs[i]) < strings.ToLower(v.Jobs[j]) })
	return s.render(ViewFile, v, 2048+64*len(v.Jobs))
}

func (s *Set) render(name string, data any, size int) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(size)
	if err := s.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Escaped is text already escaped for XML by EscapeXML; the xml template
// function passes it through unchanged. It lets a caller escape a large
// value (a worker's script) once and render it into several documents.
type Escaped string

// Escape escapes s for XML once, for use as a template value.
func Escape(s string) Escaped { return Escaped(EscapeXML(s)) }

// xmlFunc is the template function xml: it escapes strings and passes
// Escaped values through.
func xmlFunc(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return EscapeXML(v), nil
	case Escaped:
		return string(v), nil
	case bool, int:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("xml: cannot escape a %T", v)
}

// EscapeXML escapes s for XML text and double-quoted attribute values.
// Carriage returns become character references so that XML parsers'
// line-end normalisation keeps them. Characters XML 1.0 cannot carry at all
// (NUL, most C0 controls, U+FFFE/U+FFFF, invalid UTF-8) are replaced by
// U+FFFD: the compiler rejects such input with a message before it gets
// here, so this only keeps hand-written templates from emitting broken XML.
func EscapeXML(s string) string {
	valid := utf8.ValidString(s)
	i := 0
	for i < len(s) && !special(s, i, valid) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/16 + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		// Copy the run of plain bytes, then handle one special character.
		j := i
		for j < len(s) && !special(s, j, valid) {
			j++
		}
		b.WriteString(s[i:j])
		if j == len(s) {
			break
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\r':
			b.WriteString("&#13;")
		case r == utf8.RuneError && size <= 1, r < 0x20, r == 0xFFFE, r == 0xFFFF:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(s[j : j+size])
		}
		i = j + size
	}
	return b.String()
}

// special reports whether the byte at i starts something EscapeXML must
// rewrite. In valid UTF-8 only U+FFFE and U+FFFF (EF BF BE/BF) among
// non-ASCII characters need care; in invalid UTF-8 every non-ASCII byte is
// decoded to find the bad ones.
func special(s string, i int, valid bool) bool {
	c := s[i]
	switch {
	case c < 0x80:
		return asciiSpecial[c]
	case !valid:
		return true
	}
	return c == 0xEF && i+2 < len(s) && s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF)
}

// asciiSpecial marks the ASCII bytes EscapeXML rewrites.
var asciiSpecial = func() (t [128]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t' && c != '\n'
	}
	t['&'], t['<'], t['>'], t['"'] = true, true, true, true
	return t
}()

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
