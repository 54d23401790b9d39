# Manyi: `make demo` installs and starts the product with demo data; `make test` runs every test.
# Works on a machine that has Python 3 but not uv: uv is bootstrapped into .tools/.

SHELL := /bin/bash
UV := $(shell if uv --version >/dev/null 2>&1; then command -v uv; else echo $(CURDIR)/.tools/bin/uv; fi)
export UV_PYTHON_DOWNLOADS := automatic

.PHONY: demo test install lint vendor messages bench browsers

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet "uv>=0.9"

install: $(UV)
	$(UV) sync --frozen

demo: install
	$(UV) run manyi demo

browsers:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium and CJK fonts for browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) >/dev/null; }

test: install browsers
	$(UV) run ruff check src tests benchmarks
	$(UV) run ruff format --check src tests benchmarks
	$(UV) run mypy src
	$(UV) run lint-imports
	$(UV) run manyi manage makemigrations --check --dry-run
	$(UV) run pytest -n 2
	@echo "== the same suite on PostgreSQL =="
	db=manyi_ci_$$(date +%s)_$$$$; MANYI_DATABASE_URL=$${MANYI_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}/$$db \
	  $(UV) run pytest -n 2 -p no:cacheprovider

lint: install
	$(UV) run ruff check --fix src tests benchmarks
	$(UV) run ruff format src tests benchmarks

vendor: install
	$(UV) run python scripts/vendor.py

messages: install
	cd src/manyi && $(UV) run manyi manage makemessages -l zh_Hans -l en --no-obsolete --ignore "static/*"
	cd src/manyi && $(UV) run manyi manage compilemessages

bench: install
	$(UV) run python -m benchmarks.run
