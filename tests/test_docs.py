"""The documentation builds in strict mode, and its examples run."""

import doctest
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import skdense._estimators

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("mkdocs") is None, reason="mkdocs is in the dev extra")
def test_docs_build_strict(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        ["mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "index.html").exists()


def test_docstring_examples_run():
    result = doctest.testmod(skdense._estimators, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 2
    assert result.failed == 0


def _python_blocks(page):
    text = (ROOT / "docs" / page).read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.slow
@pytest.mark.parametrize("page, block", [("index.md", 0), ("walkthrough.md", 1)])
def test_docs_examples_run(page, block, capsys):
    code = _python_blocks(page)[block]
    exec(compile(code, f"docs/{page}", "exec"), {"__name__": "__docs__"})
    out = capsys.readouterr().out
    assert "Total params" in out  # each example ends with a model summary
