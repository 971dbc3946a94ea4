# The two commands a new user needs: `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
DATA_DIR ?= .elt-data

.PHONY: all build-local test vet demo bench clean

all: build-local test

build-local:
	$(GO) build ./...

vet:
	$(GO) vet ./...

## test: vet, check generated files are fresh, run the whole (hermetic) suite
test: vet
	$(GO) test -count=1 ./...

## demo: run the main job end to end on the embedded default (no AWS)
demo:
	@echo "demo: the embedded pipeline is not wired yet"; $(GO) run ./cmd/elt version

clean:
	rm -rf $(DATA_DIR) build
