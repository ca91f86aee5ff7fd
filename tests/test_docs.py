"""The documentation stands on its own: every link in the repository's Markdown points at a file
of the repository (and a heading or anchor in it that exists) or at a public http(s) site; no
page refers to files a clone does not have; the API reference is what the OpenAPI document
gives today."""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".git", ".venv", "var", "node_modules", "staticfiles", "__pycache__"}
# Files that exist for the team but not in a clone, named in prose or code spans.
OUTSIDE = re.compile(r"\.\./shared|/work/|\b(?:API|DESIGN|STYLE)\.md\b")
ANCHOR_TAG = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
PUBLIC = ("http://", "https://", "mailto:")


def markdown_files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*.md"):
        if not SKIPPED & set(path.relative_to(ROOT).parts):
            found.append(path)
    return sorted(found)


def slug(text: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def parsed(path: Path):
    return MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))


@functools.cache  # a page's anchors, parsed once however many links point at it
def anchors_of(path: Path) -> set[str]:
    tokens, anchors, seen = parsed(path), set(), {}
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[index + 1]
            text = "".join(child.content for child in inline.children or ()
                           if child.type in ("text", "code_inline"))
            base = slug(text)
            count = seen.get(base, 0)
            seen[base] = count + 1
            anchors.add(base if count == 0 else f"{base}-{count}")
        if token.type in ("html_block", "html_inline", "inline"):
            anchors.update(ANCHOR_TAG.findall(token.content))
    return anchors


def links_of(path: Path) -> list[str]:
    targets = []
    for token in parsed(path):
        for child in token.children or ():
            if child.type == "link_open":
                targets.append(child.attrs.get("href", ""))
            elif child.type == "image":
                targets.append(child.attrs.get("src", ""))
    return targets


def broken_links(path: Path) -> list[str]:
    problems = []
    for target in links_of(path):
        if target.startswith(PUBLIC):
            continue
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:
            problems.append(f"{target}: not a public http(s) site")
            continue
        where = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
        if ROOT not in where.parents and where != ROOT:
            problems.append(f"{target}: outside the repository")
            continue
        if not where.exists():
            problems.append(f"{target}: no such file in the repository")
            continue
        if parts.fragment and where.suffix == ".md" and parts.fragment not in anchors_of(where):
            problems.append(f"{target}: no heading or anchor #{parts.fragment}")
    return problems


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_points_into_the_repository_or_at_a_public_site(path):
    assert broken_links(path) == []


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_refers_to_files_a_clone_does_not_have(path):
    lines = [f"{number}: {line.strip()}" for number, line in
             enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if OUTSIDE.search(line)]
    assert lines == []


def test_the_checker_catches_what_it_must(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[a](../shared/API.md) [b](missing.md) [c](page.md#nowhere) "
                    "[d](ftp://files.example.com/x) [e](/work/shared/DESIGN.md) [f](page.md#title) "
                    "[g](https://example.com/x) [h](#title)\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    problems = broken_links(page)
    assert [problem.split(":")[0] for problem in problems] == [
        "../shared/API.md", "missing.md", "page.md#nowhere", "ftp", "/work/shared/DESIGN.md"]


def test_the_api_reference_is_generated_from_todays_openapi_document():
    sys.path.insert(0, str(ROOT / "scripts"))
    import api_reference
    from drf_spectacular.generators import SchemaGenerator

    fresh = api_reference.render(SchemaGenerator().get_schema(request=None, public=True))
    assert (ROOT / "docs" / "api-reference.md").read_text() == fresh, (
        "docs/api-reference.md is out of date: run .venv/bin/python scripts/api_reference.py")
