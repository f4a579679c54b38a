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
import numpydoc.validate  # noqa: E402

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

# numpydoc checks every docstring it renders, and a failed check fails the
# build (-W): every parameter documented and no unknown one (PR01, PR02), a
# Returns section (RT01), a docstring on every object (GL08), sections in
# order (GL07), and the rest of numpydoc's checks but these, which are
# fastmel's docstring style rather than mistakes:
numpydoc_validation_checks = {
    "all",
    "ES01", "EX01", "SA01",  # an extended summary, examples and See Also everywhere
    "GL02", "SS06",  # a one-line summary; closing quotes on a line of their own
    # "name : type" with no description, and names sharing one entry
    # ("low_hz, high_hz : float"), in Parameters and Returns
    "PR04", "PR07", "RT02", "RT03",
    # descriptions that start with a dtype or a code name ("float32 for ...")
    "SS02", "PR08", "RT04",
    "SS01",  # fastmel.plans' constants: described in api/plans.rst, not in a docstring
    "PR03",  # KaldiFbank shares its parameter text with KaldiMFCC, in the order of both
}


def _def_line_or_none(validator, _def_line=numpydoc.validate.Validator.source_file_def_line.fget):
    # numpydoc looks for a "def" or "class" line to find where an object's
    # docstring starts; a property made with property(lambda self: ..., doc=...)
    # has none, and numpydoc (1.11) then crashes with StopIteration. The line
    # only serves "# numpydoc ignore" comments, which fastmel does not use, so
    # it is unknown (None), as numpydoc itself answers for compiled objects.
    try:
        return _def_line(validator)
    except StopIteration:
        return None


numpydoc.validate.Validator.source_file_def_line = property(_def_line_or_none)
