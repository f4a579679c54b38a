"""The documentation's examples run and show what fastmel returns.

The Python code of the documentation pages (docs/quickstart.rst,
docs/migrating.rst, docs/guides/*.rst) and the ``Examples`` sections of the
public modules' docstrings are doctests; each page, and each docstring, runs
here as one doctest session (stdlib doctest, no option flags but those an
example names itself). The pages are read from the source tree: an sdist,
which ships the tests but not docs/, skips them.
"""
import doctest
import importlib
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import fastmel

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [DOCS / "quickstart.rst", DOCS / "migrating.rst", *sorted((DOCS / "guides").glob("*.rst"))]
# the pages whose examples must not go missing (a page with none would pass)
PAGES_WITH_EXAMPLES = {"quickstart.rst", "streaming.rst", "simulation.rst", "determinism.rst"}

MODULES = ("cepstral", "chain", "convert", "convolution", "deltas", "design", "exceptions",
           "extractors", "feature", "filters", "frontends", "iir", "noise", "pcen", "plans",
           "spectrum", "util")

NUMPY_1 = int(np.__version__.split(".")[0]) < 2


class _Checker(doctest.OutputChecker):
    """numpy 1.x prints a numpy scalar as ``6.6``, numpy 2 as ``np.float64(6.6)``
    (what the docstrings show); under numpy 1.x the shown form is compared
    without its type, the value itself unchanged."""

    SCALAR = re.compile(r"\bnp\.(?:float|int|uint|complex)\d+\(([^()]*)\)")

    def check_output(self, want, got, optionflags):
        if NUMPY_1:
            want = self.SCALAR.sub(r"\1", want)
        return super().check_output(want, got, optionflags)


def _run(test, monkeypatch, tmp_path):
    # a fresh working directory: an example that writes a file leaves nothing behind
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(checker=_Checker(), verbose=False)
    report = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    return runner


needs_docs = pytest.mark.skipif(not (DOCS / "conf.py").is_file(),
                                reason="no docs/ here (an sdist): the pages are not shipped")


@needs_docs
@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples(page, monkeypatch, tmp_path):
    text = page.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, page.name, str(page), 0)
    if page.name in PAGES_WITH_EXAMPLES:
        assert len(test.examples) >= 4, f"{page.name} lost its examples"
    _run(test, monkeypatch, tmp_path)


@needs_docs
@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_python_is_doctest(page):
    # Python shown any other way would never run: code blocks are for shell
    # commands (``::``) only.
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"^\s*\.\. (code-block|code|sourcecode)::\s*(python|py|pycon)\b",
                         text, re.M), f"{page.name}: write Python as >>> examples"


def _docstring_tests():
    finder = doctest.DocTestFinder()
    for name in MODULES:
        module = importlib.import_module(f"fastmel.{name}")
        for test in finder.find(module, globs={"np": np, "fastmel": fastmel}):
            if test.examples:
                yield pytest.param(test, id=test.name)


DOCSTRING_TESTS = list(_docstring_tests())


def test_docstring_examples_found():
    # guards the collection below: the public modules hold about 30
    assert len(DOCSTRING_TESTS) >= 25


@pytest.mark.parametrize("test", DOCSTRING_TESTS)
def test_docstring_examples(test, monkeypatch, tmp_path):
    _run(test, monkeypatch, tmp_path)


def test_migration_table_names_exist():
    # README's "Names side by side" table (docs/migrating.rst shows it): each
    # fastmel name it gives must exist where it says.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Names side by side (migrating)", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"`(fastmel(?:\.\w+)+)", section))
    assert len(names) >= 10
    for dotted in sorted(names):
        obj = fastmel
        for part in dotted.split(".")[1:]:
            assert hasattr(obj, part), f"README's migration table names {dotted}"
            obj = getattr(obj, part)


@pytest.mark.parametrize("name", [n for n in fastmel.__all__ if inspect.isclass(getattr(fastmel, n))
                                  and not issubclass(getattr(fastmel, n), BaseException)
                                  and n != "Stream"])
def test_public_class_signature(name):
    # help(), IDEs and the API reference read the constructor's parameters
    # (Stream is the base users never construct).
    params = inspect.signature(getattr(fastmel, name)).parameters
    assert params, f"fastmel.{name}() shows no parameters"
