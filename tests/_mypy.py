"""Helpers of the typing tests: mypy --strict on a snippet of user code (skipped
where mypy is not installed: CI's types leg installs it), and the check that a
callable is annotated."""
import inspect
import os
import textwrap
from pathlib import Path

import pytest

import fastmel

SRC = Path(fastmel.__file__).resolve().parent.parent


def mypy_report(tmp_path, source):
    """mypy --strict's lines about ``source`` (fastmel found where it is imported from)."""
    api = pytest.importorskip("mypy.api")
    path = tmp_path / "use.py"
    path.write_text(textwrap.dedent(source))
    env_path = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = str(SRC)
    try:
        stdout, stderr, _ = api.run(["--strict", "--no-incremental", "--cache-dir", os.devnull,
                                     "--follow-imports", "silent", str(path)])
    finally:
        if env_path is None:
            del os.environ["MYPYPATH"]
        else:
            os.environ["MYPYPATH"] = env_path
    assert not stderr, stderr
    return [line for line in stdout.splitlines() if line.startswith(str(path))]


def mypy_errors(tmp_path, source):
    return [line for line in mypy_report(tmp_path, source) if ": error:" in line]


def assert_every_line_flagged_from(tmp_path, source, marker):
    """Each line of ``source`` from the one containing ``marker`` to the end gets
    an error, and no line before it does."""
    errors = mypy_errors(tmp_path, source)
    lines = textwrap.dedent(source).splitlines()
    first = next(i for i, line in enumerate(lines) if marker in line) + 1
    flagged = {int(error.split(":")[1]) for error in errors}
    assert flagged == set(range(first, len(lines) + 1)), "\n".join(errors)


def assert_annotated(name, func):
    """Every parameter of ``func`` (but self/cls) and its return are annotated."""
    # the annotations are strings (postponed evaluation): read them, not evaluate them
    signature = inspect.signature(func, eval_str=False)
    params = list(signature.parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    missing = [p.name for p in params if p.annotation is inspect.Parameter.empty]
    assert not missing, f"{name}: parameters without annotations: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, \
        f"{name}: no return annotation"
