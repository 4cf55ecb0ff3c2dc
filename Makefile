# The two commands of the README: `make demo` and `make test`.
.PHONY: setup demo test bench

setup:
	./scripts/setup.sh

demo: setup
	uv run rollwise demo

test: setup
	uv run pytest

bench: setup
	uv run python bench/summaries.py
