"""The documentation builds in strict mode, and every example in it runs.

Pages: README.md and every ``docs/*.md``, found by name, so a page added later is
covered without editing this file.  The ```python blocks of one page run in order,
in one namespace (as a reader pastes them into one session), in a temporary working
directory, with matplotlib's Agg backend; one test per page.  Shell and text blocks
(```bash, ```console, ```text, or no language) are not run.

Markers, HTML comments in the markdown itself (invisible in the built site):

- ``<!-- skdense-docs: skip (downloads OpenML) -->`` on the line (blank lines
  allowed) before a ```python block: the block is not run, only compiled, and is
  reported as skipped with that reason.  Later blocks of the page must not need it.
- ``<!-- skdense-docs: slow -->`` anywhere in a page: its test is marked slow.

Docstring examples (numpydoc ``Examples``, doctest syntax) run for every module of
the package that has one, again found automatically.
"""

import doctest
import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

RUN = {"python", "py"}
NOT_RUN = {"", "bash", "console", "shell", "sh", "text"}

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<language>[\w+-]*)(?P<rest>.*)$")
_MARKER = re.compile(r"<!--\s*skdense-docs:(?P<body>.*?)-->")
_SKIP = re.compile(r"skip \((?P<reason>[^()]+)\)")


class CodeBlock(NamedTuple):
    """One fenced block of a markdown page."""

    page: str  # path relative to the repository, e.g. "docs/tabular.md"
    line: int  # 1-based line of the opening fence
    language: str  # "" for a fence without one
    code: str
    skip: str | None  # the reason of a skip marker before it


class Page(NamedTuple):
    """A markdown page: its fenced blocks, whether it is slow, and its marker errors."""

    name: str
    blocks: list[CodeBlock]
    slow: bool
    problems: list[str]  # malformed or misplaced markers

    @property
    def runnable(self):
        return [b for b in self.blocks if b.language in RUN and b.skip is None]

    @property
    def skipped(self):
        return [b for b in self.blocks if b.language in RUN and b.skip is not None]


def read_page(path):
    """Split a markdown file into fenced blocks and read its skdense-docs markers."""
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, problems, slow = [], [], False
    pending_skip = None  # (reason, line) of a skip marker waiting for its block
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence is None:
            for marker in _MARKER.finditer(line):
                body = marker["body"].strip()
                skip = _SKIP.fullmatch(body)
                if body == "slow":
                    slow = True
                elif skip:
                    if pending_skip:
                        problems.append(f"{name}:{pending_skip[1]}: skip marker before no block")
                    pending_skip = (skip["reason"].strip(), i + 1)
                else:
                    problems.append(
                        f"{name}:{i + 1}: unknown marker {marker[0]!r}; use "
                        "'<!-- skdense-docs: skip (reason) -->' or '<!-- skdense-docs: slow -->'"
                    )
            if line.strip() and not _MARKER.fullmatch(line.strip()) and pending_skip:
                problems.append(f"{name}:{pending_skip[1]}: skip marker not followed by a block")
                pending_skip = None
            i += 1
            continue
        indent, ticks, language = len(fence["indent"]), fence["fence"], fence["language"]
        start = i
        body = []
        i += 1
        while i < len(lines):
            close = _FENCE.match(lines[i])
            if (
                close
                and close["fence"][0] == ticks[0]
                and len(close["fence"]) >= len(ticks)
                and not close["language"]
                and not close["rest"].strip()
            ):
                break
            text = lines[i]
            body.append(text[indent:] if not text[:indent].strip() else text.lstrip())
            i += 1
        else:
            problems.append(f"{name}:{start + 1}: code block never closed")
        skip = None
        if pending_skip:
            if language in RUN:
                skip = pending_skip[0]
            else:
                problems.append(f"{name}:{pending_skip[1]}: skip marker before a {language!r} block")
            pending_skip = None
        blocks.append(CodeBlock(name, start + 1, language, "\n".join(body) + "\n", skip))
        i += 1
    if pending_skip:
        problems.append(f"{name}:{pending_skip[1]}: skip marker before no block")
    return Page(name, blocks, slow, problems)


_PAGES = [read_page(path) for path in PAGES]


def _compile(block):
    # Padded so that tracebacks give the line in the markdown file, and show it.
    return compile("\n" * block.line + block.code, str(ROOT / block.page), "exec")


@pytest.mark.skipif(shutil.which("mkdocs") is None, reason="mkdocs is in the dev extra")
def test_docs_build_strict(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        ["mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "index.html").exists()


def test_every_block_is_known_and_every_marker_well_placed():
    """A ```Python or ```py3 block would silently not run; a stray marker would mislead."""
    problems = [p for page in _PAGES for p in page.problems]
    for page in _PAGES:
        for block in page.blocks:
            if block.language not in RUN | NOT_RUN:
                problems.append(
                    f"{block.page}:{block.line}: unknown language {block.language!r} "
                    f"(run: {sorted(RUN)}; not run: {sorted(NOT_RUN)})"
                )
    assert problems == []
    assert any(page.runnable for page in _PAGES)


def test_read_page_finds_blocks_markers_and_mistakes(tmp_path):
    path = tmp_path / "page.md"
    path.write_text(
        "<!-- skdense-docs: slow -->\n"
        "```python\nx = 1\nif x:\n    y = 2\n```\n"
        "<!-- skdense-docs: skip (downloads OpenML) -->\n\n"
        "~~~python\nfetch()\n~~~\n"
        "- a list item:\n\n    ```py\n    z = 3\n    ```\n"
        "<!-- skdense-docs: skip (needs a GPU) -->\n```bash\nnvidia-smi\n```\n"
        "<!-- skdense-docs: skip (stale) -->\nSome text.\n"
        "<!-- skdense-docs: skipp (typo) -->\n"
        "```python\nnever closed\n",
        encoding="utf-8",
    )
    page = read_page(path)
    assert page.slow
    assert [(b.line, b.language, b.skip) for b in page.blocks] == [
        (2, "python", None), (9, "python", "downloads OpenML"), (14, "py", None),
        (18, "bash", None), (24, "python", None),
    ]
    assert page.blocks[0].code == "x = 1\nif x:\n    y = 2\n"
    assert page.blocks[2].code == "z = 3\n"
    assert [b.line for b in page.runnable] == [2, 14, 24]
    assert [b.line for b in page.skipped] == [9]
    assert page.problems == [
        "page.md:17: skip marker before a 'bash' block",
        "page.md:21: skip marker not followed by a block",
        (
            "page.md:23: unknown marker '<!-- skdense-docs: skipp (typo) -->'; use "
            "'<!-- skdense-docs: skip (reason) -->' or '<!-- skdense-docs: slow -->'"
        ),
        "page.md:24: code block never closed",
    ]


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(page, id=page.name, marks=[pytest.mark.slow] if page.slow else [])
        for page in _PAGES
        if page.runnable
    ],
)
def test_docs_page_runs(page, tmp_path, monkeypatch):
    """The page's Python blocks run, in order, against the code as it is now.

    Running without an exception is the behaviour under test: an example that
    uses a renamed parameter, a removed function or an outdated call fails here.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    try:
        for block in page.runnable:
            exec(_compile(block), namespace)  # noqa: S102 (the documentation's own code)
    finally:
        plt.close("all")


@pytest.mark.parametrize(
    "block",
    [pytest.param(b, id=f"{b.page}:{b.line}") for page in _PAGES for b in page.skipped],
)
def test_docs_block_not_run(block):
    """A block marked skip is still valid Python; it is reported as skipped, with its reason."""
    _compile(block)
    pytest.skip(f"{block.page}:{block.line}: {block.skip}")


_REPO_PATH = re.compile(r"(?<![\w/.-])(?:benchmarks|tests|skdense|\.ci)/[\w./-]*\w")


def test_files_named_in_the_docs_exist():
    """`python benchmarks/bench_fit.py`, `tests/test_dask.py`, `skdense/_network/build.py`: still there."""
    missing = [
        f"{path.relative_to(ROOT).as_posix()}: {name}"
        for path in PAGES
        for name in sorted(set(_REPO_PATH.findall(path.read_text(encoding="utf-8"))))
        if not (ROOT / name).exists()
    ]
    assert missing == []


def _modules_with_examples():
    package = ROOT / "skdense"
    for path in sorted(package.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("module", list(_modules_with_examples()))
def test_docstring_examples_run(module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(
        importlib.import_module(module),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0, f"{module} has '>>>' but doctest found no example"
    assert result.failed == 0
