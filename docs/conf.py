"""Sphinx configuration for fastmel's documentation.

Build (from the repository root; fastmel and the ``docs`` extra installed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The pictures and the command's help are made at build time by
``_ext/generate.py`` from the bundled example audio, so they always show what
the installed fastmel does.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import fastmel  # noqa: E402

project = "fastmel"
author = "fastmel contributors"
copyright = "fastmel contributors, GPL-3.0-or-later"
release = fastmel.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "generate",
]

exclude_patterns = ["_build", "_generated", ".gitignore"]
templates_path = []
html_theme = "alabaster"
html_static_path = []
html_title = f"fastmel {release}"

# The API pages document what each public module's __all__ lists, in that order
# (bysource follows __all__ where a module has one), with what classes inherit
# from fastmel's private bases (the stream protocol's methods, ``stream()``).
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "member-order": "bysource",
    "inherited-members": "BaseException,object",  # not args, with_traceback, ...
}
autodoc_typehints = "none"  # numpydoc's Parameters sections already give the types

# numpydoc renders the docstrings; its own method tables would list every
# class member a second time beside autodoc's entries.
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
# Every cross-reference must resolve: a renamed or removed name fails the build.
nitpicky = True
