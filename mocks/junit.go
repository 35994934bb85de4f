package mocks

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// junitSuites is the JUnit XML report CI servers read (Jenkins' junit
// step, GitLab, GitHub actions): one suite per orchestration, one test
// case per case file.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr,omitempty"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr,omitempty"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the results as JUnit XML, suites in the order their
// first case appears.
func WriteJUnit(w io.Writer, results []*CaseResult) error {
	doc := junitSuites{Name: "jobctl test"}
	index := map[string]int{}
	var total time.Duration
	suiteTime := map[string]time.Duration{}
	for _, r := range results {
		i, ok := index[r.Case.Job]
		if !ok {
			i = len(doc.Suites)
			index[r.Case.Job] = i
			doc.Suites = append(doc.Suites, junitSuite{Name: r.Case.Job})
		}
		s := &doc.Suites[i]
		tc := junitCase{Name: r.Case.Name, Classname: r.Case.Job, File: r.Case.File, Time: seconds(r.Duration)}
		if r.Skipped != "" {
			tc.Skipped = &junitSkipped{Message: r.Skipped}
			s.Skipped++
			doc.Skipped++
		}
		if !r.Passed() {
			tc.Failure = &junitFailure{Message: firstLine(r.Failures[0]), Type: "jobctl.CaseFailed", Text: strings.Join(r.Failures, "\n")}
			s.Failures++
			doc.Failures++
		}
		s.Cases = append(s.Cases, tc)
		s.Tests++
		doc.Tests++
		suiteTime[r.Case.Job] += r.Duration
		total += r.Duration
	}
	for i := range doc.Suites {
		doc.Suites[i].Time = seconds(suiteTime[doc.Suites[i].Name])
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
