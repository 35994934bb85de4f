// Package benchrepo writes generated job repositories for benchmarks: half
// workers, half orchestrations that each call two workers, and the
// equivalent Jenkins Job Builder YAML for side-by-side timing.
package benchrepo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Write writes a job repository of n jobs into dir.
func Write(dir string, n int) error {
	files := map[string]string{
		"jobctl.yaml":         "project: bench\ndefaults:\n  label: linux\n  keep: {days: 3, builds: 200}\n  timeout: 30m\n",
		"lib/sh/log.sh":       "log_info() {\n  echo \"info: $*\"\n}\n",
		"lib/groovy/r.groovy": "def readReport(r, String name) {\n  copyArtifacts(projectName: r.fullProjectName, selector: specific(\"${r.number}\"), filter: 'report.json', target: \"reports/${name}\")\n  return readJSON(file: \"reports/${name}/report.json\")\n}\n",
	}
	workers := n / 2
	for i := 0; i < workers; i++ {
		name := fmt.Sprintf("worker_%05d", i)
		files["jobs/"+name+"/job.yaml"] = workerYAML(i)
		files["jobs/"+name+"/run.sh"] = workerBody(i)
	}
	for i := 0; i < n-workers; i++ {
		name := fmt.Sprintf("orch_%05d", i)
		a, b := callees(i, workers)
		files["jobs/"+name+"/job.yaml"] = "kind: orchestration\ndescription: Runs two workers.\nparams:\n  INPUT: {type: string, required: true}\n"
		files["jobs/"+name+"/main.groovy"] = orchGroovy(a, b)
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func callees(i, workers int) (string, string) {
	if workers == 0 {
		return "", ""
	}
	return fmt.Sprintf("worker_%05d", i%workers), fmt.Sprintf("worker_%05d", (i*7+1)%workers)
}

func workerYAML(i int) string {
	return fmt.Sprintf(`kind: worker
description: Generated worker %d.
params:
  INPUT: {type: string, required: true, description: What to work on.}
  MODE: {type: choice, choices: [fast, thorough], default: fast}
  VERBOSE: {type: boolean, default: false}
outputs:
  count: {type: integer, required: true}
retries: 1
`, i)
}

func workerBody(i int) string {
	return fmt.Sprintf(`#!/usr/bin/env bash
set -euo pipefail
log_info "worker %d working on ${INPUT} (${MODE})"
count=$(printf '%%s' "$INPUT" | wc -c)
printf '{"count": %%d}\n' "$count" > "$JOBCTL_REPORT_DATA"
`, i)
}

func orchGroovy(a, b string) string {
	return fmt.Sprintf(`node {
  stage('work') {
    def r1 = build job: '%s', propagate: false, parameters: [string(name: 'INPUT', value: params.INPUT)]
    def r2 = build(job: '%s', propagate: false, parameters: [string(name: 'INPUT', value: params.INPUT)])
    def a = readReport(r1, 'a')
    def b = readReport(r2, 'b')
    echo "counts: ${a.data.count} ${b.data.count}"
  }
}
`, a, b)
}

// WriteJJB writes Jenkins Job Builder YAML for the same n jobs into
// dir/jobs.yaml: a freestyle job-template and a pipeline job-template,
// instantiated n/2 times each, with the same parameters and bodies.
func WriteJJB(dir string, n int) error {
	var b strings.Builder
	b.WriteString(`- job-template:
    name: 'worker_{num}'
    project-type: freestyle
    description: 'Generated worker {num}.'
    node: linux
    concurrent: false
    parameters:
      - string: {name: INPUT, description: What to work on.}
      - choice: {name: MODE, choices: [fast, thorough]}
      - bool: {name: VERBOSE, default: false}
    properties:
      - build-discarder: {days-to-keep: 3, num-to-keep: 200}
    builders:
      - shell: |
          #!/usr/bin/env bash
          set -euo pipefail
          echo "worker {num} working on ${{INPUT}} (${{MODE}})"
          count=$(printf '%s' "$INPUT" | wc -c)
          printf '{{"count": %d}}\n' "$count" > report.json
    publishers:
      - archive: {artifacts: report.json}

- job-template:
    name: 'orch_{num}'
    project-type: pipeline
    description: 'Runs two workers.'
    sandbox: true
    concurrent: false
    parameters:
      - string: {name: INPUT}
    properties:
      - build-discarder: {days-to-keep: 3, num-to-keep: 200}
    dsl: |
      node {{
        stage('work') {{
          def r1 = build job: 'worker_{a}', propagate: false, parameters: [string(name: 'INPUT', value: params.INPUT)]
          def r2 = build job: 'worker_{b}', propagate: false, parameters: [string(name: 'INPUT', value: params.INPUT)]
          echo "results: ${{r1.result}} ${{r2.result}}"
        }}
      }}

- project:
    name: bench
    jobs:
`)
	workers := n / 2
	for i := 0; i < workers; i++ {
		fmt.Fprintf(&b, "      - 'worker_{num}':\n          num: '%05d'\n", i)
	}
	for i := 0; i < n-workers; i++ {
		a, c := callees(i, workers)
		fmt.Fprintf(&b, "      - 'orch_{num}':\n          num: '%05d'\n          a: '%s'\n          b: '%s'\n", i, strings.TrimPrefix(a, "worker_"), strings.TrimPrefix(c, "worker_"))
	}
	return os.WriteFile(filepath.Join(dir, "jobs.yaml"), []byte(b.String()), 0o644)
}
