package jobs

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// HashLen is how many hex digits of the content hash a deployed name carries.
const HashLen = 12

var deployedRE = regexp.MustCompile(`^([a-z][a-z0-9_]*(?:-[a-z0-9_]+)*)-v([1-9][0-9]{0,8})-([0-9a-f]{12})$`)

// DeployedName is the immutable name a compiled job gets on the master:
// <name>-v<N>-<hash>.
func DeployedName(name string, version int, hash string) string {
	return fmt.Sprintf("%s-v%d-%s", name, version, hash)
}

// ParseDeployedName splits a deployed name into its common name, version and
// hash. ok is false for names jobctl did not make.
func ParseDeployedName(s string) (name string, version int, hash string, ok bool) {
	m := deployedRE.FindStringSubmatch(s)
	if m == nil {
		return "", 0, "", false
	}
	v, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, "", false
	}
	return m[1], v, m[3], true
}

// Marker is the machine-readable note jobctl puts at the end of every job
// description it deploys, so that the master alone tells what jobctl owns
// and what calls what.
type Marker struct {
	Project string   `json:"project"`
	Name    string   `json:"name"`
	Kind    Kind     `json:"kind"`
	Version int      `json:"version"`
	Hash    string   `json:"hash"`
	Calls   []string `json:"calls"`
}

const (
	markerOpen  = "<!-- jobctl "
	markerClose = " -->"
)

// String renders the marker as an HTML comment holding one line of JSON.
func (m Marker) String() string {
	if m.Calls == nil {
		m.Calls = []string{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // a struct of strings and ints always marshals
	}
	return markerOpen + string(b) + markerClose
}

// Describe joins a user's description and the marker as the job's description.
func Describe(description string, m Marker) string {
	description = strings.TrimRight(description, " \t\r\n")
	if description == "" {
		return m.String()
	}
	return description + "\n\n" + m.String()
}

// ParseMarker finds the jobctl marker in a job description. ok is false when
// there is none or it is malformed: such a job is not jobctl's.
func ParseMarker(description string) (m Marker, ok bool) {
	i := strings.LastIndex(description, markerOpen)
	if i < 0 {
		return Marker{}, false
	}
	rest := description[i+len(markerOpen):]
	j := strings.Index(rest, markerClose)
	if j < 0 || strings.TrimSpace(rest[j+len(markerClose):]) != "" {
		return Marker{}, false
	}
	dec := json.NewDecoder(strings.NewReader(rest[:j]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Marker{}, false
	}
	if m.Project == "" || m.Name == "" || m.Version < 1 || len(m.Hash) != HashLen {
		return Marker{}, false
	}
	return m, true
}
