"""The README and the citation metadata: figures shown inline exist and stay small, the documents
they point to exist, CITATION.cff is valid and names the package version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_readme_figures_exist_and_are_small():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) >= 3
    for rel in images:
        path = ROOT / rel
        assert path.is_file(), rel
        assert path.stat().st_size < 200_000, f"{rel} is {path.stat().st_size} bytes"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_readme_links_to_the_reference_documents():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in ("docs/ODD.md", "docs/PARAMETERS.md", "docs/VALIDATION.md", "docs/OUTPUTS.md", "CITATION.cff"):
        assert f"]({doc})" in text, doc
        assert (ROOT / doc).is_file(), doc
    assert "make run" in text and "make test" in text


def test_citation_cff_is_valid_and_matches_the_package_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    for key in ("cff-version", "message", "title", "authors", "version", "license"):
        assert cff.get(key), key
    assert cff["cff-version"] == "1.2.0"
    assert all("name" in a or "family-names" in a for a in cff["authors"])
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert str(cff["version"]) == version
    for ref in cff.get("references", []):
        assert ref["type"] and ref["title"] and ref["authors"]
