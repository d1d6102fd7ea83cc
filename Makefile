# foibot's developer commands. Each sets up ./.venv itself when it is missing.
.PHONY: test lint typecheck unit bench demo venv clean

venv:
	@./scripts/bootstrap

# The whole test suite: lint, type-check, then every test.
test: venv
	@./scripts/test

lint: venv
	.venv/bin/ruff check foibot tests bench migrations
	.venv/bin/ruff format --check foibot tests bench migrations

typecheck: venv
	.venv/bin/mypy

bench: venv
	.venv/bin/python bench/bench_clocks.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis
