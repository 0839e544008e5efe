# kiln — build, test, demo. `make demo` renders the bundled example;
# `make test` runs every test (the same command .ci/run runs).

GO      ?= go
OUT     ?= deploy
EXAMPLE ?= examples/skin-lesion

.PHONY: all build demo test golden fuzz bench lint clean

all: build

build:
	$(GO) build -o bin/kiln ./cmd/kiln

# Render the bundled example into $(OUT)/<env>/<system>/.
demo: build
	./bin/kiln vet $(EXAMPLE)
	./bin/kiln render --out $(OUT) $(EXAMPLE)

# Every test: unit, golden, testscript CLI, CRD validation (against
# ../shared/crds or $$KILN_TEST_CRDS when present) and fuzz seed corpora.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Refresh golden files in the packages that have them.
golden:
	$(GO) test ./cli ./render/... -update

# Each fuzz target for FUZZTIME; their seed corpora run in `make test`.
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./compiler -run '^$$' -fuzz FuzzCompile -fuzztime $(FUZZTIME)
	$(GO) test ./render/pipeline -run '^$$' -fuzz FuzzTranslateWhen -fuzztime $(FUZZTIME)
	$(GO) test ./diff -run '^$$' -fuzz FuzzCompare -fuzztime $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	test -z "$$(gofmt -l .)"
	$(GO) vet ./...

clean:
	rm -rf bin $(OUT)
