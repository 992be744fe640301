# The README's commands. Each creates .venv from requirements.txt when it is missing or stale.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
CHAPTERS = $(sort $(wildcard chapters/*.ipynb))
export TQDM_DISABLE = 1

.PHONY: help venv book test unit notebooks lint execute bench clean student browser colab-cells pdf student-pdf assignments jupyter jupyter-check katex

help:
	@echo "make book      set up .venv and build the HTML book into _build/html"
	@echo "make test      set up .venv and run every test: lint, all unit tests, every chapter under nbval"
	@echo "make unit      the quick unit tests (pytest -m 'not slow')"
	@echo "make notebooks-portable  every chapter under nbval again, along other code paths (generic kernels, one thread)"
	@echo "make notebooks-newest  the chapters under the newest numerics libraries (as on Colab); reports failing claim cells"
	@echo "make execute   re-execute every chapter in place (after changing lib/); commit the result"
	@echo "make bench     run the benchmarks and rewrite benchmarks/report.txt"
	@echo "make pdf       the whole book as one PDF, _build/pdf/book.pdf (printed by headless Chromium; after make book)"
	@echo "make student-pdf  the student edition as one PDF, student/_build/pdf/book.pdf (after make student)"
	@echo "make student   the student edition: student/chapters/*.ipynb and student/_build/html, no solutions"
	@echo "make assignments SEED=n  otter-grader assignments from every chapter's exercises into assignments/chNN/ (student/, autograder/); SEED draws the constants"
	@echo "make browser   load every page of _build/html in Debian's headless Chromium, check links, math, widths; screenshots/ (after make book)"
	@echo "make colab-cells  rewrite each chapter's Colab install cell from repository.url in _config.yml"
	@echo "make jupyter   the Jupyter edition, jupyter/chapters/*.ipynb (commit it), and the student form, student/jupyter/"
	@echo "make jupyter-check  the editions in a real JupyterLab (Chromium) and every formula in KaTeX (after make jupyter)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

book: venv
	$(VENV)/bin/jupyter-book build . -W --keep-going

test: lint unit-all notebooks

lint: venv
	$(VENV)/bin/ruff check lib tests benchmarks .ci assignments_src

unit: venv
	$(PY) -m pytest tests -m "not slow"

.PHONY: unit-all
unit-all: venv
	$(PY) -m pytest tests

notebooks: venv
	$(PY) -m pytest --nbval --nbval-current-env --nbval-cell-timeout=900 \
	    --nbval-sanitize-with .ci/nbval_sanitize.cfg -p no:cacheprovider $(CHAPTERS)

# The second pass: every chapter re-executed by nbval along other code paths than the first
# (PyTorch's generic kernels, MKL's compatible mode, NumPy without its AVX-512 kernels, one
# thread), so an output that depends on the machine fails here, on the author's machine.
# The machine's OPENBLAS_* variables are left as they are.
PORTABLE_ENV = ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE \
    NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: notebooks-portable
notebooks-portable: venv
	$(PORTABLE_ENV) $(PY) -c "import torch; print('second pass: torch CPU capability', \
	    torch.backends.cpu.get_cpu_capability(), '| threads', torch.get_num_threads())"
	$(PORTABLE_ENV) $(PY) -m pytest --nbval --nbval-current-env --nbval-cell-timeout=900 \
	    --nbval-sanitize-with .ci/nbval_sanitize.cfg -p no:cacheprovider $(CHAPTERS)

# Not in CI's gating path: the chapters under the newest NumPy, SciPy, pandas, Matplotlib and
# PyTorch pip may install here (as on Colab), reporting which (claim) cells fail.
.PHONY: notebooks-newest
notebooks-newest:
	$(PYTHON) .ci/newest_libraries.py setup --venv .venv-newest
	.venv-newest/bin/python .ci/newest_libraries.py run $(CHAPTERS)

execute: venv
	$(PY) .ci/execute_notebooks.py $(CHAPTERS)

bench: venv
	$(PY) benchmarks/bench_optimizers.py
	$(PY) benchmarks/bench_partition.py
	$(PY) benchmarks/bench_training.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_deep_relu.py

student: venv
	$(PY) .ci/student_edition.py build

# SEED: the instructor's seed, which draws the graded questions' constants and hidden cases
# (keep it private: the book's solutions are public). otter-grader is in requirements.txt.
SEED ?= 0
assignments: venv
	$(PY) .ci/assignments.py build --seed $(SEED)
	$(PY) .ci/student_edition.py check-assignments assignments

# BROWSER_FLAGS: e.g. --lenient raw-tex,wide-math (see .ci/browser_check.py); empty = all strict
BROWSER_FLAGS ?=
# The HTML book's download menu links book.pdf: the browser check needs it there.
browser: venv _build/html/book.pdf
	$(PY) .ci/browser_check.py _build/html --screenshots screenshots $(BROWSER_FLAGS)

pdf: venv
	$(PY) .ci/pdf_edition.py build --copy-to _build/html
	$(PY) .ci/pdf_edition.py check _build/pdf/book.pdf

_build/html/book.pdf:
	$(MAKE) pdf

student-pdf: venv
	$(PY) .ci/pdf_edition.py build --book student --copy-to student/_build/html
	$(PY) .ci/pdf_edition.py check student/_build/pdf/book.pdf --book student --no-solutions

# The Jupyter edition (plain Jupyter markdown, for JupyterLab, Colab, VS Code, Binder): Sphinx
# reads the book and _ext/jupyter_edition.py writes jupyter/ (committed; the launch buttons open
# it), then the student edition's Jupyter form, student/jupyter/ (solutions removed).
jupyter: venv
	$(PY) .ci/jupyter_edition.py build
	$(PY) .ci/jupyter_edition.py build --student

# KaTeX (Colab and VS Code typeset notebook markdown with it), from .ci/katex/package.json
KATEX = .ci/katex/node_modules/katex/package.json
$(KATEX): .ci/katex/package.json .ci/katex/package-lock.json
	npm ci --prefix .ci/katex --no-audit --no-fund
	touch $@
katex: $(KATEX)

# Both editions in JupyterLab (windowing off) in Debian's Chromium, screenshots in
# screenshots/jupyter/, and every formula rendered by KaTeX. After make jupyter.
jupyter-check: venv $(KATEX)
	$(PY) .ci/jupyterlab_check.py jupyter student/jupyter --screenshots screenshots/jupyter
	$(PY) .ci/katex_check.py jupyter/chapters/*.ipynb student/jupyter/chapters/*.ipynb

colab-cells: venv
	$(PY) .ci/student_edition.py sync-install-cells

clean:
	rm -rf _build student screenshots assignments
