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
	$(GO) run ./cmd/aslgen -check
	$(GO) test -count=1 ./...

## demo: run the main job end to end on the embedded default (no AWS)
demo:
	@GO=$(GO) ./scripts/demo.sh

## bench: transform throughput on generated JSONL (250k and 1M records) beside DuckDB's 1-thread conversion
bench:
	@GO=$(GO) ./bench/transform.sh

clean:
	rm -rf $(DATA_DIR) build

# ---------------------------------------------------------------- AWS deploy
TF_DIR ?= terraform/envs/dev
TF_VARS ?= dev.tfvars
TF_BACKEND_CONFIG ?=
TF_AUTO_APPROVE ?=
TF := terraform -chdir=$(TF_DIR)

.PHONY: build tf-init tf-plan tf-apply tf-destroy

## build: cross-compile the Lambda bootstrap (one binary, dispatching on its handler name) into build/bootstrap.zip
build:
	mkdir -p build
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" -o build/bootstrap ./cmd/bootstrap
	$(GO) run ./cmd/lambdazip -in build/bootstrap -out build/bootstrap.zip

tf-init:
	$(TF) init $(if $(TF_BACKEND_CONFIG),-backend-config=$(TF_BACKEND_CONFIG))

tf-plan: build
	$(TF) plan -var-file=$(TF_VARS)

tf-apply: build
	$(TF) apply -var-file=$(TF_VARS) $(if $(TF_AUTO_APPROVE),-auto-approve)

tf-destroy:
	$(TF) destroy -var-file=$(TF_VARS) $(if $(TF_AUTO_APPROVE),-auto-approve)
