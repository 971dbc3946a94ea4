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

## bench: transform throughput on generated JSONL (250k, 1M and 2M records) beside DuckDB's 1-thread conversion
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

# ---------------------------------------------------------------- workflows: ops, GE, Glue
# The original project's targets. Embedded by default (the data dir's local
# Step Functions engine; a running `elt up` is used when there is one);
# TARGET=aws drives the deployed state machines named by the Terraform outputs.
TARGET ?= embedded
ELT ?= $(GO) run ./cmd/elt
ELT_TARGET_FLAGS = --target $(TARGET) --data-dir $(DATA_DIR) $(if $(filter aws,$(TARGET)),--tf-dir $(TF_DIR))

.PHONY: ops-start ops-status ops-history ge-start ge-status ge-history glue-job-start glue-job-status glue-crawler-start glue-crawler-status ops-demo

## ops-start: replay the last 24h of bronze and wait until silver has it (OPS_INPUT='{...}' overrides the input, OPS_NAME the execution name)
ops-start:
	$(ELT) ops start --wait $(ELT_TARGET_FLAGS) $(if $(OPS_INPUT),--input '$(OPS_INPUT)') $(if $(OPS_NAME),--name $(OPS_NAME))

## ops-status / ops-history: the latest ops execution (OPS_EXECUTION=name for another)
ops-status:
	$(ELT) ops status $(ELT_TARGET_FLAGS) $(OPS_EXECUTION)

ops-history:
	$(ELT) ops history $(ELT_TARGET_FLAGS) $(OPS_EXECUTION)

## ge-start: quality gate on one partition: make ge-start GE_RECORD_TYPE=shipments GE_DT=2024-05-01 [GE_RESULT_PREFIX=ge/results]
ge-start:
	@test -n "$(GE_RECORD_TYPE)" -a -n "$(GE_DT)" || { echo "usage: make ge-start GE_RECORD_TYPE=<type> GE_DT=<YYYY-MM-DD> [GE_RESULT_PREFIX=<prefix>]" >&2; exit 2; }
	$(ELT) ge start --record-type $(GE_RECORD_TYPE) --dt $(GE_DT) $(if $(GE_RESULT_PREFIX),--result-prefix $(GE_RESULT_PREFIX)) $(ELT_TARGET_FLAGS)

ge-status:
	$(ELT) ge status $(ELT_TARGET_FLAGS) $(GE_EXECUTION)

ge-history:
	$(ELT) ge history $(ELT_TARGET_FLAGS) $(GE_EXECUTION)

## glue-job-start: compact one partition: make glue-job-start GLUE_RECORD_TYPE=shipments GLUE_DT=2024-05-01 [GLUE_OUTPUT_PREFIX=...]
glue-job-start:
	@test -n "$(GLUE_RECORD_TYPE)" -a -n "$(GLUE_DT)" || { echo "usage: make glue-job-start GLUE_RECORD_TYPE=<type> GLUE_DT=<YYYY-MM-DD> [GLUE_OUTPUT_PREFIX=<prefix>]" >&2; exit 2; }
	$(ELT) glue job-start --record-type $(GLUE_RECORD_TYPE) --dt $(GLUE_DT) $(if $(GLUE_OUTPUT_PREFIX),--output-prefix $(GLUE_OUTPUT_PREFIX)) $(ELT_TARGET_FLAGS)

glue-job-status:
	$(ELT) glue job-status $(ELT_TARGET_FLAGS) $(GLUE_EXECUTION)

## glue-crawler-start / glue-crawler-status: refresh the catalog from silver / show the last crawl
glue-crawler-start:
	$(ELT) glue crawler-start $(ELT_TARGET_FLAGS)

glue-crawler-status:
	$(ELT) glue crawler-status $(ELT_TARGET_FLAGS)

## ops-demo: the operations workflows end to end on a fresh embedded data dir (replay, quality gate, crawler, compaction)
ops-demo:
	@GO=$(GO) ./scripts/ops-demo.sh
