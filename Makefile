# The two commands of the README: `make demo` and `make test`. The rest is for deploying.
.PHONY: setup demo test bench package synth

ARCH ?= x86_64
# uv as installed by scripts/setup.sh (on PATH, or as a module of the python3 that installed it)
UV = $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)

setup:
	./scripts/setup.sh

demo: setup
	$(UV) run rollwise demo

test: setup
	$(UV) run pytest

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
