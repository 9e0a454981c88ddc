"""Writing a benchmark's results: the Markdown tables printed and saved, and a long CSV (table, key,
value) beside them, in ``bench-results/<name>-<UTC time>.{md,csv}`` (git-ignored)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path


def write_results(out: Path, name: str, markdown: str, rows: Iterable[tuple[str, str, object]]) -> Path:
    """Print ``markdown``, save it as ``<name>-<stamp>.md`` and ``rows`` (table, key, value; dict
    values as JSON) as ``<name>-<stamp>.csv`` in ``out``; returns the Markdown file's path."""
    print()
    print(markdown)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    md_path = out / f"{name}-{stamp}.md"
    md_path.write_text(markdown)
    with open(md_path.with_suffix(".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["table", "key", "value"])
        for table, key, value in rows:
            w.writerow([table, key, json.dumps(value) if isinstance(value, dict) else value])
    print(f"written: {md_path} and .csv")
    return md_path


def keyed(table: str, row: dict) -> list[tuple[str, str, object]]:
    """A row of a table as (table, key, value) triples."""
    return [(table, k, v) for k, v in row.items()]
