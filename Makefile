# The everyday commands (README, "Working on the code"). `make lint test-fast` before a commit;
# `make test` is what CI (.ci/run) runs after the same lint.
.PHONY: lint test-fast test bench-cli

# All three run, whichever fails: one pass shows everything to fix.
lint:
	@status=0; \
	uv run ruff check . || status=1; \
	uv run ruff format --check . || status=1; \
	uv run mypy || status=1; \
	exit $$status

# SQLite only (no PostgreSQL cluster is started), stopping at the first failure.
test-fast:
	uv run pytest -q -x -m "not postgres"

# Everything, on SQLite and a throwaway PostgreSQL cluster.
test:
	uv run pytest

bench-cli:
	uv run python bench/cli_startup.py
