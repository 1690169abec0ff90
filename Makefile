# The two commands: `make demo` and `make test`. Everything a fresh machine
# needs is installed by them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
# One more test process than the 2 cores: many tests wait (on sandboxes, browsers, Celery workers)
# rather than compute, and a third process uses that time.
PYTEST_WORKERS ?= 3
# manage.py for build steps that need the settings but no services (translations).
MANAGE := DJANGO_SETTINGS_MODULE=storefront.settings_test $(PY) manage.py
# The shop's languages other than English (settings.LANGUAGES), as gettext names them.
LOCALES := -l es -l fr -l de -l it -l pt_BR -l ja -l ar

.PHONY: demo test install system-deps compilemessages messages lint bench-catalog bench-checkout bench-edge bench-soak bench-compare bench-baseline clean

# --no-compile: Python compiles (and caches) the modules it imports; compiling all 445 MB of
# packages up front took a third of the install.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Chromium (browser journeys), zbar (decoding QR codes in tests) and nginx (the deploy boot test), from Debian.
system-deps:
	@$(PY) scripts/system_deps.py

# The .mo files gettext reads, from the .po files in locale/ (build output: git-ignored).
# Needs msgfmt (Debian's gettext).
compilemessages: install
	@$(PY) scripts/system_deps.py gettext
	$(MANAGE) compilemessages -v 0 --ignore=.venv --ignore=var --ignore=staticfiles

# Every marked string into locale/<lang>/LC_MESSAGES/django.po and djangojs.po (templates, Python,
# static/js); run after marking strings, then translate the new msgids.
messages: install
	$(MANAGE) makemessages $(LOCALES) --no-obsolete --add-location file \
		--ignore=var --ignore=staticfiles --ignore=test-artifacts --ignore=bench/results
	$(MANAGE) makemessages -d djangojs $(LOCALES) --no-obsolete --add-location file \
		--ignore=var --ignore=staticfiles --ignore=test-artifacts --ignore=bench/results

demo: install compilemessages
	$(PY) scripts/demo.py

test: install system-deps compilemessages
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) scripts/audit_deps.py
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench-catalog: install
	$(PY) bench/catalog_bench.py

bench-checkout: install
	$(PY) bench/checkout_bench.py

bench-edge: install
	$(PY) bench/edge_bench.py

# The checkout and edge benchmarks against bench/baseline.json: exit 1 when a figure is >15 % worse.
# Not part of `test` (timings are no test); run it before a change to checkout, fulfilment or the
# page cache is called done. bench-baseline makes a run the baseline: on a quiet machine only.
bench-compare: install
	$(PY) bench/compare.py

bench-baseline: install
	$(PY) bench/compare.py --write-baseline

# 50 shoppers for 10 minutes under faults (SOAK_ARGS="--shoppers 20 --minutes 3" for less).
bench-soak: install
	$(PY) -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf var test-artifacts
