# The template repository's own commands (a generated project has its own Makefile).
.DEFAULT_GOAL := help
.PHONY: help test compare relock

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

test:  ## The template's test suite (what CI runs)
	uv run pytest

compare:  ## FastAPI or Flask? Both stacks measured side by side: make compare ARGS="--database sqlite"
	uv run python -m bench.compare $(ARGS)

relock:  ## Rewrite the generated projects' locks after changing their dependencies
	uv run python -m tools.relock $(ARGS)
