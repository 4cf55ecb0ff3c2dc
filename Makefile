# The two commands of the README: `make demo` and `make test`; `make check` is the inner loop. The rest is for deploying.
.PHONY: setup demo test check lint bench package synth
SHELL := /bin/bash

ARCH ?= x86_64
# uv as installed by scripts/setup.sh (on PATH, or as a module of the python3 that installed it)
UV = $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)
# pytest-xdist's workers: three keep two cores busy while the emulators answer
WORKERS ?= 3
# Python keeps the bytecode it compiles: every test process, emulator and CLI run of the suite starts from it
# (an environment that sets this makes each of them compile boto3, moto and the rest again; 13 s to collect).
unexport PYTHONDONTWRITEBYTECODE

setup:
	./scripts/setup.sh

demo: setup
	$(UV) run rollwise demo

# Everything CI runs, each step's wall time printed: set-up, lint and types, then the whole suite with its 25 slowest tests.
test:
	@TIMEFORMAT='time: set-up %0R s'; time ./scripts/setup.sh
	@TIMEFORMAT='time: lint and types %0R s'; time $(MAKE) --no-print-directory lint
	@TIMEFORMAT='time: tests %0R s'; time $(UV) run pytest -n $(WORKERS) --durations=25

# The inner loop, in about two minutes: lint and types, and every test but the slow ones (pyproject.toml's `slow` marker).
# Its types are those of src/, bench/ and scripts/ (4 s from a fresh clone); infra/'s, checked against the CDK's own
# types (50 s and 3.3 GB with a cold cache), are checked by `make lint`, which CI runs, like the deploy tests.
check: setup
	$(MAKE) --no-print-directory lint MYPY_PATHS="src bench scripts"
	$(UV) run pytest -n $(WORKERS) -m "not slow" --dynamodb-emulator dynalite

MYPY_PATHS ?=
lint:
	$(UV) run ruff check
	$(UV) run ruff format --check
	$(UV) run mypy $(MYPY_PATHS)

bench: setup
	$(UV) run python bench/summaries.py
	$(UV) run python bench/merge.py

# The Lambda assets, for the Lambda platform, without Docker: the jobs' (ARCH=x86_64 or ARCH=arm64), and the
# read API's, which runs on arm64 (infra's api_architecture) whatever ARCH is.
package: setup
	./scripts/package.sh $(ARCH)
	[ "$(ARCH)" = arm64 ] || ./scripts/package.sh arm64

# The CloudFormation template, into cdk.out/ (settings: infra/config.json, or -c key=value with npx cdk).
synth: package
	JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 $(UV) run python infra/app.py -c architecture=$(ARCH)
