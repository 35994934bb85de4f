# jobctl — the two commands a fresh machine needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/jobctl
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X main.version=$(VERSION)
EXAMPLE := examples/modelshop

.PHONY: all build demo test vet fmt-check unit example-workers example-locked example-cases fuzz bench bench-components bench-prune bench-cases bench-master bench-jjb clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/jobctl

# The quickstart: compile the example repository, run its orchestrations'
# test cases offline (flows also through their generated Groovy), then start
# a local master, deploy the example to it (jobctl deploy), run the process_upload pipeline
# on a real model and show its report.
demo: build
	$(BIN) build -C $(EXAMPLE) --out $(EXAMPLE)/build
	@echo
	$(BIN) test -C $(EXAMPLE) --groovy
	@echo
	test/demo.sh $(BIN) $(EXAMPLE) $(CURDIR)/$(EXAMPLE)/models/cube.stl

# The whole test suite, as CI runs it.
test: vet fmt-check unit example-workers example-locked example-cases
	@echo "make test: all checks passed"

# The example builds, and its committed jobctl.lock is up to date.
example-locked: build
	out=$$(mktemp -d) && $(BIN) build -C $(EXAMPLE) --locked --out $$out/build && rm -rf $$out

# The example's orchestration cases pass, flows in the interpreter and
# through their generated Groovy alike.
example-cases: build
	$(BIN) test -C $(EXAMPLE) --groovy --junit $$(mktemp -d)/junit.xml

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 ./...

# Runs every example worker body against the example's model files.
example-workers:
	bash $(EXAMPLE)/test-workers.sh

# Short fuzzing runs of every parser (longer: make fuzz FUZZTIME=10m).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./jobs -run='^$$' -fuzz=FuzzParseJob -fuzztime=$(FUZZTIME)
	$(GO) test ./components -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./components -run='^$$' -fuzz=FuzzGenerate -fuzztime=$(FUZZTIME)
	$(GO) test ./groovy -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME)
	$(GO) test ./cron -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME)
	$(GO) test ./templates -run='^$$' -fuzz=FuzzRenderWorkerScript -fuzztime=$(FUZZTIME)
	$(GO) test ./flow -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./mocks -run='^$$' -fuzz=FuzzParseCase -fuzztime=$(FUZZTIME)
	$(GO) test ./master/local -run='^$$' -fuzz=FuzzParseXML -fuzztime=$(FUZZTIME)

# Compile benchmarks (1,000 and 10,000 generated jobs).
bench:
	$(GO) test ./compiler -run='^$$' -bench=BenchmarkCompile -benchmem -benchtime=3x

# Generate and compile the jobs of 200 components with 3 environments each.
bench-components:
	$(GO) test ./compiler -run='^$$' -bench=BenchmarkComponents -benchtime=5x

# jobctl prune on the local master: plan 10,000 versions of one project (one
# listing request, then the planning), and delete the 9,000 it prunes.
bench-prune:
	$(GO) test ./master -run='^$$' -bench=Prune -benchtime=3x

# jobctl test: 1,000 flow cases, and 100 raw Groovy cases in one JVM.
bench-cases:
	$(GO) test ./mocks -run='^$$' -bench=Cases -benchmem -benchtime=3x

# jobctl master: list 10,000 jobs with one tree= request, 1,000 createItem
# requests, 500 queued trivial builds on 2 executors.
bench-master:
	$(GO) test ./master/local -run='^$$' -bench='List10000|Create1000|Builds500' -benchtime=3x

# jobctl build against `jenkins-jobs test` on the same generated jobs.
bench-jjb: build
	bash test/bench/compare-jjb.sh

clean:
	rm -rf bin $(EXAMPLE)/build
