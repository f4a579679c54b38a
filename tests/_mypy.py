"""Helpers of the typing tests: mypy --strict on a snippet of user code (skipped
where mypy is not installed: CI's types leg installs it), the public Python
callables of a module, and the check that a callable is annotated."""
import importlib
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


def public_python_callables(modules):
    """(qualified name, function) for every public function of ``fastmel.<m>`` for
    m in ``modules`` and every public method, property or classmethod their
    public classes get from Python code of fastmel's (compiled bases are
    described by their stubs), sorted by name."""
    found = set()
    for name in modules:
        module = importlib.import_module(f"fastmel.{name}")
        for public in module.__all__:
            obj = getattr(module, public)
            if getattr(obj, "__module__", None) != module.__name__:
                continue  # re-exported from elsewhere (checked where it is defined)
            if inspect.isfunction(obj):
                found.add((f"fastmel.{name}.{public}", inspect.unwrap(obj)))
            elif inspect.isclass(obj):
                for klass in obj.__mro__:
                    if not klass.__module__.startswith("fastmel"):
                        continue
                    for attr, value in vars(klass).items():
                        if attr.startswith("_") and attr not in ("__init__", "__call__"):
                            continue
                        where = f"fastmel.{name}.{public}.{attr}"
                        if isinstance(value, property):
                            found.add((where, value.fget))
                        elif isinstance(value, classmethod):
                            found.add((where, value.__func__))
                        elif inspect.isfunction(value):
                            found.add((where, value))
    return sorted(found, key=lambda item: item[0])
