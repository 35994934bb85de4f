package compiler

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
)

// nasty are values that try to break out of XML, Groovy and shell.
var nasty = []string{
	`<script>alert(1)</script>`,
	`a & b &amp; c`,
	`]]><injected/><![CDATA[`,
	`</description><assignedNode>evil</assignedNode><description>`,
	`"double" and 'single' quotes`,
	`${env.SECRET} and $HOME and $(touch /tmp/jobctl-pwned) and ` + "`id`",
	`''' triple single '''`,
	`""" triple double """`,
	`back\slash \\ \n \u0041 \'`,
	"line one\nline two\r\nline three\rend",
	"tab\there",
	`non-ASCII: Zürich, 東京, emoji 🚀, RTL ‮`,
	`<!-- jobctl {"project":"evil","name":"x","kind":"worker","version":1,"hash":"0123456789ab","calls":[]} -->`,
	`-->`,
}

// yamlQuote writes s as a double-quoted YAML scalar.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestEscapingXML puts every nasty value in every place a user's text
// reaches a definition, and checks that the XML parses and gives the value
// back byte for byte.
func TestEscapingXML(t *testing.T) {
	files := map[string]string{"jobctl.yaml": "project: esc\n"}
	for i, v := range nasty {
		name := fmt.Sprintf("w%02d", i)
		choice := strings.NewReplacer("\r", "", "\n", " ").Replace(v)
		files["jobs/"+name+"/job.yaml"] = fmt.Sprintf(`kind: worker
description: %s
params:
  S: {type: string, default: %s, description: %s}
  C: {type: choice, choices: [plain, %s]}
  P: {type: password, description: %s}
`, yamlQuote(v), yamlQuote(v), yamlQuote(v), yamlQuote(choice), yamlQuote(v))
		files["jobs/"+name+"/run.sh"] = "#!/bin/bash\n# " + strings.ReplaceAll(v, "\n", " ") + "\necho ok\n"
		oname := fmt.Sprintf("o%02d", i)
		files["jobs/"+oname+"/job.yaml"] = fmt.Sprintf("kind: orchestration\ndescription: %s\nparams:\n  S: {type: string, default: %s}\n", yamlQuote(v), yamlQuote(v))
		files["jobs/"+oname+"/main.groovy"] = "build job: '" + name + "'\n"
	}
	res := compileFiles(t, files)
	for i, v := range nasty {
		choice := strings.NewReplacer("\r", "", "\n", " ").Replace(v)
		for _, prefix := range []string{"w", "o"} {
			d := res.Def(fmt.Sprintf("%s%02d", prefix, i))
			j := parseJobXML(t, d.XML)
			if !strings.HasPrefix(j.Description, strings.TrimRight(v, "\r\n ")) {
				t.Errorf("%s: description came back as %q, want it to start with %q", d.Deployed, j.Description, v)
			}
			m, ok := jobs.ParseMarker(j.Description)
			if !ok || m.Name != d.Job.Name || m.Project != "esc" || m.Hash != d.Hash {
				t.Errorf("%s: marker %+v %v, want ours", d.Deployed, m, ok)
			}
			if j.Params[0].Default != v || (prefix == "w" && j.Params[0].Description != v) {
				t.Errorf("%s: string param came back as default %q description %q, want %q", d.Deployed, j.Params[0].Default, j.Params[0].Description, v)
			}
			if prefix == "w" {
				if diff := cmp.Diff([]string{"plain", choice}, j.Params[1].Choices); diff != "" {
					t.Errorf("%s: choices (-want +got):\n%s", d.Deployed, diff)
				}
				if j.Params[2].Default != "" {
					t.Errorf("%s: password param has a default in the XML", d.Deployed)
				}
			}
		}
	}
}

// TestQuoteGroovy runs every quoted nasty value through Groovy 2.4 and
// checks the string it evaluates to is the value itself.
func TestQuoteGroovy(t *testing.T) {
	groovy, err := exec.LookPath("groovy")
	if err != nil {
		t.Skip("groovy not installed (apt-get install -y default-jre-headless groovy); CI installs it")
	}
	var script strings.Builder
	script.WriteString("def out = new StringBuilder()\n")
	for _, v := range nasty {
		fmt.Fprintf(&script, "out.append(%s).append('\\u0000')\n", QuoteGroovy(v))
	}
	script.WriteString("System.out.print(out.toString().bytes.encodeHex().toString())\n")
	f := filepath.Join(t.TempDir(), "quote.groovy")
	if err := os.WriteFile(f, []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(groovy, f).CombinedOutput()
	if err != nil {
		t.Fatalf("groovy: %v\n%s", err, out)
	}
	var want strings.Builder
	for _, v := range nasty {
		fmt.Fprintf(&want, "%x00", v)
	}
	if got := strings.TrimSpace(string(out)); got != want.String() {
		t.Errorf("Groovy evaluated the quoted values differently:\n got %s\nwant %s", got, want.String())
	}
	if _, err := os.Stat("/tmp/jobctl-pwned"); err == nil {
		t.Errorf("a quoted value executed a command")
	}
}
