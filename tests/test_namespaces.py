"""Clean public namespaces: dir() of fastmel and of each public module shows
its public names only (no np, warnings, functools, ... imported for internal
use), every name in __all__ exists, and a star import gives exactly __all__."""
import importlib
import pkgutil
import types

import pytest

import fastmel

MODULES = ("cepstral", "chain", "convert", "convolution", "deltas", "design", "exceptions",
           "extractors", "feature", "filters", "frontends", "iir", "noise", "pcen", "plans",
           "spectrum", "util")


def test_module_list_is_complete():
    # every public (not underscored) module of the package is checked below;
    # the command's package is the one entry point left out on purpose
    found = {m.name for m in pkgutil.iter_modules(fastmel.__path__)
             if not m.name.startswith("_")} - {"cli"}
    assert found == set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_dir_is_its_all(name):
    module = importlib.import_module(f"fastmel.{name}")
    assert len(set(module.__all__)) == len(module.__all__), "duplicates in __all__"
    for public in module.__all__:
        assert not public.startswith("_"), public
        assert hasattr(module, public), f"fastmel.{name}.__all__ names missing {public!r}"
        assert not isinstance(getattr(module, public), types.ModuleType), public
    assert dir(module) == sorted(module.__all__)


@pytest.mark.parametrize("name", MODULES)
def test_star_import_gives_all(name):
    namespace = {}
    exec(f"from fastmel.{name} import *", namespace)
    del namespace["__builtins__"]
    module = importlib.import_module(f"fastmel.{name}")
    assert set(namespace) == set(module.__all__)


def test_package_dir():
    names = dir(fastmel)
    assert names == sorted(set(fastmel.__all__) | set(MODULES))
    # librosa's name: the function, not the module of the same name
    assert fastmel.pcen is importlib.import_module("fastmel.pcen").pcen
    assert all(not n.startswith("_") or n == "__version__" for n in names)
    for name in ("np", "numbers", "warnings", "functools", "math"):
        assert name not in names
    for name in names:
        assert hasattr(fastmel, name), name
    for name in MODULES:
        if name != "pcen":
            assert isinstance(getattr(fastmel, name), types.ModuleType), name
    namespace = {}
    exec("from fastmel import *", namespace)
    del namespace["__builtins__"]
    assert set(namespace) == set(fastmel.__all__)
