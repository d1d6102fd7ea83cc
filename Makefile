# foibot's developer commands. Each sets up ./.venv itself when it is missing.
.PHONY: test lint typecheck bench venv clean

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

# Every benchmark; each prints its figures and a ratio against a baseline of the same run.
# bench_poll needs Dovecot (Debian dovecot-imapd).
bench: venv
	.venv/bin/python bench/bench_clocks.py
	.venv/bin/python bench/bench_requests.py
	.venv/bin/python bench/bench_ingest.py
	.venv/bin/python bench/bench_send.py
	.venv/bin/python bench/bench_poll.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis
