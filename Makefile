# Two set-up commands a fresh machine must support: `make demo` and `make test`.
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python

.PHONY: demo test bench bench-quick fuzz clean

# (``editable_mode=compat``: the source folder on ``sys.path`` through a plain ``.pth``, as an
# installed wheel's folder is; setuptools' default editable finder imports ``pathlib``, ``re``
# and more in every process of the environment -- 15-20 ms each -- which flattered every
# startup figure measured here against ``python -c pass``; setuptools calls the mode
# transitional, so its default is the fallback)
$(VENV)/.installed-%: pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e ".[$*]" --config-settings editable_mode=compat || \
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
