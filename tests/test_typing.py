"""fastmel's annotations as a user's type checker sees them.

mypy (strict, the configuration in pyproject.toml) must accept the usage
example, examples/typed_usage.py, and reject every marked line of
tests/typing/rejected.py with the errors its comment names.  The tests that
run mypy skip where it is not installed (pip install '.[types]'); CI's types
leg installs it.  The example also has to run.
"""
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
USAGE = ROOT / "examples" / "typed_usage.py"
REJECTED = ROOT / "tests" / "typing" / "rejected.py"

# A line of rejected.py that must fail: `...  # E: arg-type, call-arg`.
_MARK = re.compile(r"#\s*E:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)\s*$")
# mypy's lines: `path:line: error: message  [code]`.
_ERROR = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*?)\s+\[(?P<code>[a-z-]+)\]$")


def _expected():
    marks = {}
    for number, text in enumerate(REJECTED.read_text().splitlines(), start=1):
        match = _MARK.search(text)
        if match:
            marks[number] = sorted(code.strip() for code in match.group(1).split(","))
    return marks


EXPECTED = _expected()


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory):
    """(file, line) -> [(code, message)] from one mypy run over both files."""
    pytest.importorskip("mypy", reason="mypy is not installed: pip install '.[types]' "
                                       "(CI's types leg runs these tests)")
    cache = tmp_path_factory.mktemp("mypy-cache")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(cache), "--show-absolute-path", "--no-pretty",
         "--show-error-codes", "--no-error-summary", str(USAGE), str(REJECTED)],
        cwd=ROOT, capture_output=True, text=True)
    # 0: no errors, 1: errors found; anything else is mypy failing to run.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    errors = defaultdict(list)
    for line in result.stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            errors[Path(match["path"]), int(match["line"])].append(
                (match["code"], match["message"]))
    return errors


def test_rejected_file_marks_lines():
    # The parametrization below is only as good as the marks it found.
    assert len(EXPECTED) >= 15


def test_usage_example_type_checks(mypy_errors):
    found = {key: value for key, value in mypy_errors.items() if key[0] == USAGE}
    assert not found, "mypy --strict rejects the usage example:\n" + "\n".join(
        f"  line {line}: {message} [{code}]"
        for (_, line), errors in sorted(found.items()) for code, message in errors)


@pytest.mark.parametrize("line", sorted(EXPECTED))
def test_rejected_line(mypy_errors, line):
    text = REJECTED.read_text().splitlines()[line - 1].split("  #")[0]
    got = sorted(code for code, _ in mypy_errors.get((REJECTED, line), []))
    assert got == EXPECTED[line], (
        f"{text}: mypy reports {got or 'nothing'}, expected {EXPECTED[line]}: "
        f"{mypy_errors.get((REJECTED, line))}")


def test_rejected_file_unmarked_lines_pass(mypy_errors):
    extra = {line: errors for (path, line), errors in mypy_errors.items()
             if path == REJECTED and line not in EXPECTED}
    assert not extra, f"errors on lines of rejected.py not marked to fail: {extra}"


def test_usage_example_runs(tmp_path):
    env = dict(os.environ, FASTMEL_CACHE_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, str(USAGE)], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    # The example asserts what it shows (stream == offline, round trips) as it goes.
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("log-mel ("), result.stdout
