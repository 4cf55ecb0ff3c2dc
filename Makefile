# The two commands of the README: `make demo` and `make test`. The rest is for deploying.
.PHONY: setup demo test bench package synth

ARCH ?= x86_64

setup:
	./scripts/setup.sh

demo: setup
	uv run rollwise demo

test: setup
	uv run pytest

bench: setup
	uv run python bench/summaries.py
	uv run python bench/merge.py

# The Lambda asset, for the Lambda platform (ARCH=x86_64 or ARCH=arm64), without Docker.
package: setup
	./scripts/package.sh $(ARCH)

# The CloudFormation template, into cdk.out/ (settings: infra/config.json, or -c key=value with npx cdk).
synth: package
	JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 uv run python infra/app.py -c architecture=$(ARCH)
