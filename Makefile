# The two commands of the README:
#   make demo   set everything up on a fresh Debian 12 machine, then harmonise the demo melody
#   make test   set everything up (training extras included), then run the whole test suite
# Installing twice is fast: apt and pip steps run only when something is missing or changed.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := python3-venv libfluidsynth3 timgm6mb-soundfont jackd2 libegl1 libgl1 libfontconfig1 libxkbcommon0 \
                libglib2.0-0 libdbus-1-3 xvfb libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 \
                libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-sync1 libxcb-xfixes0 \
                libxcb-xkb1 libxkbcommon-x11-0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test system venv venv-dev lint clean

demo: venv
	$(BIN)/accompanist demo

test: venv-dev
	$(BIN)/ruff check .
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# --- set-up -------------------------------------------------------------------------------------
system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages: $$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[train,dev]'
	touch $@ $(VENV)/.runtime-installed

venv: system $(VENV)/.runtime-installed
venv-dev: system $(VENV)/.dev-installed

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) accompanist-demo .pytest_cache
