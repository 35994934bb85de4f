package groovy

import (
	"fmt"
	"strings"
	"testing"
)

// benchScript is a 50-line orchestration in the style jobctl compiles.
const benchScript = `// Orchestration %[1]d: fetch, inspect and price a model.
import groovy.transform.Field

@Field def stages = ['fetch', 'inspect', 'price'] // in order

@NonCPS
def summary(List results) {
    results.collect { r -> "${r.projectName}: ${r.result}" }.join('\n')
}

/* Runs one worker and returns its report. */
def runWorker%[1]d(String name, Map p) {
    def r = build job: 'fetch_model', propagate: false, parameters: [
        string(name: 'MODEL_URL', value: p.url),
        booleanParam(name: 'DRY_RUN', value: false),
    ]
    if (r.result != 'SUCCESS') {
        error "worker ${name} failed: ${r.result}"
    }
    return readJSON(text: r.getBuildVariables().REPORT ?: '{}')
}

node('linux') {
    stage('fetch %[1]d') {
        def report = runWorker%[1]d('fetch', [url: params.MODEL_URL])
        echo "fetched ${report.data?.size} bytes from $params.MODEL_URL"
    }
    stage('inspect') {
        parallel(
            geometry: { build job: 'inspect_geometry', wait: true },
            manufacturability: {
                build(job: 'check_manufacturability',
                      parameters: [string(name: 'MATERIAL', value: 'PLA')])
            },
            failFast: true
        )
    }
    stage('price') {
        def price = build 'price_model'
        if (price.result ==~ /SUCC.*/) {
            currentBuild.description = "price: ${price.getBuildVariables()['PRICE']}"
        } else {
            build job: "render_${params.KIND}" // dynamic: a problem
        }
        sh '''
            echo "build 'not_a_ref'"
            ratio=$((a / b))
        '''
    }
}
`

func benchSource(copies int) []byte {
	var b strings.Builder
	for i := 0; i < copies; i++ {
		fmt.Fprintf(&b, benchScript, i)
	}
	return []byte(b.String())
}

func TestBenchSource(t *testing.T) {
	src := benchSource(1)
	if n := strings.Count(string(src), "\n"); n != 50 {
		t.Errorf("bench script has %d lines, want 50", n)
	}
	f, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, r := range f.Refs {
		refs = append(refs, r.Name)
	}
	want := []string{"fetch_model", "inspect_geometry", "check_manufacturability", "price_model"}
	if strings.Join(refs, " ") != strings.Join(want, " ") || len(f.Problems) != 1 || len(f.Decls) != 4 {
		t.Errorf("refs %q, %d problems, %d decls; want refs %q, 1 problem, 4 decls", refs, len(f.Problems), len(f.Decls), want)
	}
}

func BenchmarkParse(b *testing.B) {
	for _, copies := range []int{1, 40, 160} {
		src := benchSource(copies)
		lines := strings.Count(string(src), "\n")
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
