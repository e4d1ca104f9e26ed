# Vouch. `make run` starts it; `make test` runs every test. Both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export PATH := $(HOME)/.cargo/bin:$(PATH)
# ONNX Runtime for `ort` (load-dynamic), fetched by scripts/setup from the PyPI wheel.
export ORT_DYLIB_PATH ?= $(CURDIR)/.deps/onnxruntime/libonnxruntime.so.1.31.1

CARGO ?= cargo

.PHONY: help setup run test lint bench fmt clean

help:
	@echo "make run    start Vouch (serves on 127.0.0.1:8270, data in \$$VOUCH_DATA_DIR or ~/.local/share/vouch)"
	@echo "make test   lint and run every test"
	@echo "make bench  measure throughput and latency on loopback (release build)"
	@echo "make setup  install system packages and runtime libraries (idempotent)"

setup:
	@scripts/setup

run: setup
	$(CARGO) run -p vouch-cli -- serve

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: lint
	$(CARGO) test --workspace

bench: setup
	VOUCH_LOG=warn $(CARGO) run --release -p vouch-cli -- bench

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
