# Two set-up commands a fresh machine must support: `make demo` and `make test`.
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python

.PHONY: demo test bench bench-quick fuzz clean

$(VENV)/.installed-%: pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e ".[$*]"
	touch $@

demo: $(VENV)/.installed-test
	$(VPY) examples/demo.py

# (one worker per core, each test file whole on one worker: its module fixtures build once)
test: $(VENV)/.installed-test
	$(VPY) -m pytest -n auto --dist loadfile tests

bench: $(VENV)/.installed-test $(VENV)/.installed-bench
	$(VPY) workloads/run.py

bench-quick: $(VENV)/.installed-test $(VENV)/.installed-bench
	$(VPY) workloads/run.py --quick

fuzz: $(VENV)/.installed-test
	PKGIMAGE_FUZZ=long $(VPY) -m pytest -n auto tests -k fuzz

clean:
	rm -rf $(VENV) build *.egg-info
