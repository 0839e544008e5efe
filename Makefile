# kiln — build, test, demo. `make demo` renders the bundled example;
# `make test` runs every test, unit then end-to-end (the command .ci/run
# runs); `make unit` the unit tests alone;
# `make image IMAGE=registry.example/kiln:TAG` builds the kiln image.

GO      ?= go
OUT     ?= deploy
EXAMPLE ?= examples/skin-lesion

.PHONY: all build demo test unit golden fuzz bench lint clean image e2e e2e-full

all: build

build:
	$(GO) build -o bin/kiln ./cmd/kiln

# Render the bundled example into $(OUT)/<env>/<system>/.
demo: build
	./bin/kiln vet $(EXAMPLE)
	./bin/kiln render --out $(OUT) $(EXAMPLE)

# Every test: the unit tests, then the end-to-end suite on a live control
# plane (its first run on a machine builds the upstream binaries: about 30
# CPU-minutes, see e2e/README.md; later runs reuse them).
test: unit e2e

# The unit tests: unit, golden, testscript CLI, CRD validation (against
# ../shared/crds or $$KILN_TEST_CRDS when present) and fuzz seed corpora.
# KILN_SPLIT=check compiles every spec a test compiles both ways, split
# and as one value, and fails on any difference (compiler/split.go).
# The race detector then runs over the packages that start goroutines:
# validate (ValidateAll, which calls Argo's validator) and render
# (marshalAll); render's own tests do not write files, so render/pipeline,
# whose tests render and validate every golden, exercises both (and
# split evaluation, whose chunks are checked in parallel); and
# render/write, whose Stage takes files from the encoding goroutines.
RACE_PKGS ?= ./validate ./render ./render/pipeline ./par ./render/write
unit:
	$(GO) vet ./...
	KILN_SPLIT=check $(GO) test -count=1 ./...
	$(GO) test -race -count=1 $(RACE_PKGS)

# End-to-end: the bundled examples on a local control plane with the real
# controllers, nodes and pods simulated by KWOK (e2e/README.md). The first
# run builds the upstream binaries into a cache (long: see the README);
# later runs reuse them. E2E_RUN selects tests (go test -run).
E2E_TIMEOUT ?= 30m
E2E_RUN     ?= .
E2E_BUILD_P ?= 2
e2e:
	KILN_E2E_BUILD_P=$(E2E_BUILD_P) e2e/build.sh etcd kubernetes kwok training-operator argo-workflows kserve
	$(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -run '$(E2E_RUN)' -v ./e2e

# `make e2e` and what it leaves out: Trainer v2 with JobSet, and Argo CD
# syncing kiln's published output from a Git server on loopback (the
# first build is long: see e2e/README.md). E2E_FULL_RUN picks parts:
# trainer, argocd or all.
E2E_FULL_RUN ?= all
e2e-full:
	KILN_E2E_BUILD_P=$(E2E_BUILD_P) e2e/build.sh etcd kubernetes kwok training-operator argo-workflows kserve trainer jobset argo-cd kustomize redis
	$(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -run '$(E2E_RUN)' -v ./e2e -args -e2e.full=$(E2E_FULL_RUN)

# Refresh golden files in the packages that have them: those whose tests
# define the -update flag (any other package's test binary refuses it).
# Golden tests compare whole directories, so -update also deletes the
# goldens of objects no longer rendered.
GOLDEN_PKGS = $(sort $(patsubst %/,%,$(dir $(shell grep -rl --include='*_test.go' 'flag\.Bool."update"' .))))
golden:
	$(GO) test $(GOLDEN_PKGS) -update

# Each fuzz target for FUZZTIME; their seed corpora run in `make test`.
# FUZZTIME is a duration or a count: `make fuzz FUZZTIME=30x` is a quick
# pass (FuzzRenderedObjectsValidate compiles, renders and checks a whole
# spec per input, so it runs far fewer inputs per second than the others).
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./compiler -run '^$$' -fuzz FuzzCompile -fuzztime $(FUZZTIME)
	$(GO) test ./render/pipeline -run '^$$' -fuzz FuzzTranslateWhen -fuzztime $(FUZZTIME)
	$(GO) test ./diff -run '^$$' -fuzz FuzzCompare -fuzztime $(FUZZTIME)
	$(GO) test ./cli -run '^$$' -fuzz FuzzRenderedObjectsValidate -fuzztime $(FUZZTIME)
	$(GO) test ./render/yamlwrite -run '^$$' -fuzz '^FuzzAppend$$' -fuzztime $(FUZZTIME)
	$(GO) test ./render/yamlwrite -run '^$$' -fuzz FuzzAppendObject -fuzztime $(FUZZTIME)

# Benchmarks. First kiln's overhead against `cue export` of its own input
# (Go benchmarks, as ratios measured in the same run); then kiln against its
# peers on synthetic systems of BENCH_N models: `kiln render` against
# `cue export` of an equivalent CUE package and `helm template` of an
# equivalent chart, medians of BENCH_RUNS runs. The peers are installed
# from the Go module proxy, at kiln's CUE version and HELM_VERSION, into
# BENCH_CACHE once. Then the render cache: `kiln render ./...` of a
# repository of BENCH_FLEET systems of BENCH_FLEET_N models, full, after
# one system changed and unchanged (BENCH_FLEET=0 skips it). `make bench
# BENCH_N=100` is a quick pass.
CUE_VERSION  = $(shell $(GO) list -m -f '{{.Version}}' cuelang.org/go)
HELM_VERSION ?= v3.22.1
BENCH_CACHE  ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kiln-bench
BENCH_N      ?= 10,100,1000,3000
BENCH_RUNS   ?= 3
BENCH_ENVS   ?= 1
BENCH_FLEET  ?= 50
BENCH_FLEET_N ?= 20
CUE_BIN      = $(BENCH_CACHE)/cue-$(CUE_VERSION)/cue
HELM_BIN     = $(BENCH_CACHE)/helm-$(HELM_VERSION)/helm
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	test -x $(CUE_BIN) || GOBIN=$(dir $(CUE_BIN)) $(GO) install cuelang.org/go/cmd/cue@$(CUE_VERSION)
	test -x $(HELM_BIN) || GOBIN=$(dir $(HELM_BIN)) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	$(GO) run ./bench/cmd/compare -kiln bin/kiln -cue $(CUE_BIN) -helm $(HELM_BIN) -n $(BENCH_N) -runs $(BENCH_RUNS) -envs $(BENCH_ENVS) -fleet $(BENCH_FLEET) -fleet-n $(BENCH_FLEET_N)

lint:
	test -z "$$(gofmt -l .)"
	$(GO) vet ./...

# The kiln image, which pipelines' promote steps run (name it in the spec
# as images.kiln): `make image IMAGE=ghcr.io/acme/kiln:0.1.0`, then push
# it. DOCKER may be any client with Docker's build syntax (podman).
DOCKER ?= docker
image:
	@test -n "$(IMAGE)" || { echo "make image: set IMAGE, e.g. make image IMAGE=ghcr.io/acme/kiln:0.1.0" >&2; exit 2; }
	$(DOCKER) build -t $(IMAGE) .

clean:
	rm -rf bin $(OUT)
