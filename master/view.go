package master

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
)

// The deploy record: when each version of a project still on the master
// was first deployed, for prune's "has not run within the window" rule on
// versions never built. Job definitions are immutable, so it lives
// outside them, in the description of the project's view (the view
// "latest" in the project folder), as its last line:
//
//	<!-- jobctl-deployed {"fetch_model-v2-67e3f89c9c4e":"2026-11-23T16:04:05Z",...} -->
//
// Keys are deployed names, sorted (encoding/json sorts map keys), values
// RFC 3339 UTC times. Each deploy keeps the entries of versions still on
// the master, adds the versions it makes latest, and writes the view only
// when this (or the view's job list) changes.
const (
	recordOpen  = "<!-- jobctl-deployed "
	recordClose = " -->"
)

// ParseDeployRecord reads the deploy record of a view description; it is
// empty when there is none or it cannot be read.
func ParseDeployRecord(description string) map[string]string {
	out := map[string]string{}
	i := strings.LastIndex(description, recordOpen)
	if i < 0 {
		return out
	}
	rest := description[i+len(recordOpen):]
	j := strings.Index(rest, recordClose)
	if j < 0 {
		return out
	}
	if err := json.Unmarshal([]byte(rest[:j]), &out); err != nil {
		return map[string]string{}
	}
	return out
}

// withRecord returns description with its deploy record replaced by record.
func withRecord(description string, record map[string]string) string {
	if i := strings.LastIndex(description, recordOpen); i >= 0 {
		description = description[:i]
	}
	description = strings.TrimRight(description, " \t\r\n")
	b, err := json.Marshal(record)
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	if description != "" {
		description += "\n\n"
	}
	return description + recordOpen + string(b) + recordClose
}

// viewXML returns the compiled view's config.xml with the deploy record
// in its description, and that description.
func viewXML(compiled []byte, record map[string]string) ([]byte, string, error) {
	const open, closeTag = "<description>", "</description>"
	i := bytes.Index(compiled, []byte(open))
	j := bytes.Index(compiled, []byte(closeTag))
	if i < 0 || j < i {
		return nil, "", errors.New("the compiled view has no <description>")
	}
	var old string
	dec := xml.NewDecoder(bytes.NewReader(compiled[i : j+len(closeTag)]))
	if err := dec.Decode(&old); err != nil {
		return nil, "", err
	}
	desc := withRecord(old, record)
	var esc bytes.Buffer
	if err := xml.EscapeText(&esc, []byte(desc)); err != nil {
		return nil, "", err
	}
	out := make([]byte, 0, len(compiled)+esc.Len())
	out = append(out, compiled[:i+len(open)]...)
	out = append(out, esc.Bytes()...)
	out = append(out, compiled[j:]...)
	return out, desc, nil
}
