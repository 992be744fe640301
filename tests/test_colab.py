"""Colab and Binder: every chapter starts with the install cell for the repository in
_config.yml; the cell does nothing when momentum imports, installs only the library when it
does not (glue is the library's own), stops with a clear message when that install fails, and
enables Colab's widget manager on Colab; a chapter executed from another working directory
(/tmp) still runs."""

from __future__ import annotations

import builtins
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
import student_edition as se  # noqa: E402  (.ci/, put on the path by conftest.py)
from chapter_runs import execute_chapter, fastest_chapter  # noqa: E402

CHAPTERS = se.chapters(ROOT)
URL = se.repository_url(ROOT)


needs_chapter = pytest.mark.skipif(not CHAPTERS, reason="no chapter exists yet in chapters/")


# --------------------------------------------------------------------------------------------
# The install cell
# --------------------------------------------------------------------------------------------


@needs_chapter
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_first_cell_is_the_tagged_install_cell_for_the_configured_repository(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "code"
    assert "remove-cell" in first.metadata.get("tags", []), "hidden in the book by its tag"
    assert first.source == se.install_cell_source(URL), (
        f"{path.name}: the install cell does not match repository.url in _config.yml; "
        "run `make colab-cells`")


def test_install_cell_names_the_configured_url():
    assert URL.startswith("https://")
    assert f'"git+{URL}"' in se.install_cell_source(URL)


def test_sync_rewrites_a_stale_cell_and_inserts_a_missing_one():
    stale = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(se.install_cell_source("https://example.org/old"),
                                  metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_markdown_cell("# A chapter")])
    assert se.sync_install_cell(stale, URL) is True
    assert stale.cells[0].source == se.install_cell_source(URL) and len(stale.cells) == 2
    assert se.sync_install_cell(stale, URL) is False  # idempotent
    bare = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A chapter")])
    assert se.sync_install_cell(bare, URL) is True
    assert se.is_install_cell(bare.cells[0]) and len(bare.cells) == 2


def test_check_install_cells_command_passes_on_the_repository(capsys):
    assert se.main(["check-install-cells"]) == 0
    assert capsys.readouterr().out == ""


def _run_install_cell(monkeypatch, importable: bool):
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda *a, **k: calls.append(a[0]))
    if not importable:
        real_import = builtins.__import__

        def no_momentum(name, *args, **kwargs):
            if name == "momentum" or name.startswith("momentum."):
                raise ImportError("No module named 'momentum'")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", no_momentum)
    exec(compile(se.install_cell_source(URL), "<install cell>", "exec"), {})
    return calls


def test_install_cell_is_a_no_op_when_momentum_imports(monkeypatch):
    assert _run_install_cell(monkeypatch, importable=True) == []


def test_install_cell_installs_only_the_library_when_momentum_is_missing(monkeypatch):
    calls = _run_install_cell(monkeypatch, importable=False)
    assert calls == [[sys.executable, "-m", "pip", "install", "-q", f"git+{URL}"]]
    # no --upgrade / --force-reinstall: pip keeps what Colab already has
    assert not any(flag.startswith("--") for flag in calls[0])


def test_install_cell_says_what_to_do_when_the_repository_cannot_be_reached(monkeypatch):
    """pip fails (offline, a wrong URL, no git): the cell stops with what to install and how to
    set the repository's URL, not with pip's message alone."""
    def unreachable(cmd, *args, **kwargs):
        raise subprocess.CalledProcessError(1, cmd)

    real_import = builtins.__import__

    def no_momentum(name, *args, **kwargs):
        if name == "momentum":
            raise ImportError("No module named 'momentum'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(subprocess, "check_call", unreachable)
    monkeypatch.setattr(builtins, "__import__", no_momentum)
    with pytest.raises(RuntimeError) as err:
        exec(compile(se.install_cell_source(URL), "<install cell>", "exec"), {})
    message = str(err.value)
    for needed in (f"git+{URL}", "pip install git+<repository URL>`", "pip install -e .",
                   "repository.url in _config.yml", "make colab-cells", "make jupyter"):
        assert needed in message, needed
    assert err.value.__suppress_context__     # `from None`: the message, not pip's traceback


def test_install_cell_enables_colabs_widget_manager_on_colab(monkeypatch):
    """On Colab (``google.colab`` importable) the cell calls
    ``output.enable_custom_widget_manager()``; elsewhere the import fails and it does nothing."""
    import types
    calls = []
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("on"))
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert _run_install_cell(monkeypatch, importable=True) == []
    assert calls == ["on"]
    monkeypatch.setitem(sys.modules, "google.colab", None)     # not on Colab
    calls.clear()
    _run_install_cell(monkeypatch, importable=True)
    assert calls == []


def test_library_dependencies_are_unpinned_so_colab_keeps_its_torch():
    """pip skips a dependency that is already installed only if no version is demanded: the
    library asks for torch, numpy, ... by name; requirements.txt pins them for Binder and CI."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch" in deps
    for dep in deps:
        assert not any(op in dep for op in "=<>~!"), f"{dep} is pinned in pyproject.toml"
    requirements = (ROOT / "requirements.txt").read_text()
    assert "torch==" in requirements and "\n-e .\n" in requirements + "\n"


@needs_chapter
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_no_chapter_reads_a_file_by_a_relative_path(path):
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                     if c.cell_type == "code")
    for pattern in ("open(\"", "open('", "read_csv(", "np.load(", "torch.load(", "Path(\"",
                    "Path('", "loadtxt("):
        assert pattern not in code, f"{path.name} reads a file ({pattern}...)"


# --------------------------------------------------------------------------------------------
# A chapter run from another working directory
# --------------------------------------------------------------------------------------------


@needs_chapter
@pytest.mark.slow
def test_slow_fastest_chapter_executes_from_tmp():
    """nbclient runs the fastest chapter with /tmp as its working directory, as on Colab where
    the repository is not there: any relative-path read or missing install would fail here."""
    path = fastest_chapter()
    nb = execute_chapter(path, "/tmp")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert errors == []
    assert nb.cells[0].get("outputs", []) == []  # the install cell was a no-op
    print(f"{path.name} executed from /tmp in {nb.metadata['_seconds']:.0f} s")
