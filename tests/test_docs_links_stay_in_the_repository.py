"""The README, docs/ and the results records point only at files inside the repository, and every link they
make resolves.

A reader of a fresh clone has the repository and nothing else: a link to a file beside the
checkout (a design note in a workspace) or to a page that moved leaves them with nothing. Links
to a heading of a Markdown file must name a heading that file has.
"""
from __future__ import annotations

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(md_path: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but '-' and '_' dropped, spaces to '-'."""
    out = set()
    for line in open(md_path, encoding="utf-8"):
        m = re.match(r"#+\s+(.*)", line)
        if m:
            text = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower().replace("`", ""))
            out.add(text.replace(" ", "-"))
    return out


def _problems(md_path: str) -> list[str]:
    bad = []
    text = open(md_path, encoding="utf-8").read()
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            bad.append(f"{md_path}: {target} leaves the repository")
            continue
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(md_path), path)) if path else md_path
        if os.path.relpath(full, ROOT).startswith(".."):
            bad.append(f"{md_path}: {target} points outside the repository")
        elif not os.path.exists(full):
            bad.append(f"{md_path}: {target} does not exist")
        elif anchor and full.endswith(".md") and anchor not in _anchors(full):
            bad.append(f"{md_path}: {target} names no heading of {os.path.relpath(full, ROOT)}")
    for m in re.finditer(r"\.\./shared|/work/", text):
        bad.append(f"{md_path}: mentions {m.group(0)}, outside the repository")
    return bad


def test_readme_and_docs_links_resolve_inside_the_repository():
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.md"),
                                                                recursive=True)) \
        + sorted(glob.glob(os.path.join(ROOT, "benchmarks", "results", "*.md")))
    bad = [p for f in files for p in _problems(f)]
    assert bad == [], "\n".join(bad)
