# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/dvc-gateway dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

# Set DVCGW_TEST_DATABASE_URL=postgresql+asyncpg://... to run the suite on PostgreSQL.
test: lint typecheck pytest

# wrk (Debian's package) drives saturation; bench/README.md says how to read the table.
bench: install
	command -v wrk >/dev/null || apt-get install -y wrk || { echo "install wrk: apt-get install -y wrk"; exit 1; }
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var/*.db var/*.db-* var/dev-portal.json var/dev-staff.json .pytest_cache .mypy_cache .ruff_cache
