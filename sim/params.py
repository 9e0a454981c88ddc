"""The parameter table: ``docs/PARAMETERS.md``, generated from the metadata of :mod:`sim.config`.

    python -m sim.params            # (re)write docs/PARAMETERS.md
    python -m sim.params --check    # exit 1 if the committed file is stale
    python -m sim.params --quotes ../shared/seeds   # print each cited seed line, to audit sources

Every leaf parameter of :class:`sim.config.Config` is one row, grouped by config group (the
Hydra group that sets it): dotted path, default, allowed range or choices, unit, meaning and
source (seed file and line, another document, or "assumption"). The table is a pure function of
``sim/config.py``, so the test suite can check that the committed file is up to date.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

from sim.config import ASSUMPTION, GROUPS, Config, iter_params

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PARAMETERS.md"

#: Number of lines of each seed file of ``../shared/seeds`` (``NNN_*.txt``), counting a last line
#: without a final newline (``wc -l`` says 116, 2837, 138, 184: no file ends with a newline). Citations must fall inside.
SEED_LINES = {"000": 117, "002": 2838, "003": 139, "004": 185}

#: What each seed is (for the docs; research/*.md give the details).
SEED_TITLES = {
    "000": "CNFPT (2021), Les impacts de la transition numérique sur les métiers de la FPT, volet "
    "prospectif: tableau de synthèse, caractérisation des variables",
    "002": "CNFPT (2018), Les impacts de la transition numérique sur les métiers de la FPT, volet rétrospectif",
    "003": "CNFPT (2021), volet prospectif, VI.3-VI.4: vision cible et préconisations (41 recommendations)",
    "004": "CNFPT (September 2020), volet 2, synthèse thématique, variable 3: l'action des "
    "collectivités dans le domaine du numérique",
}

#: Section titles: the run's top-level keys, then each config group's declared title.
GROUP_TITLES = {"": "Run", **{name: cls.__group_title__ for name, cls in GROUPS.items()}}

_SEED = re.compile(r"\bseeds? (\d{3})\b")
_LINES = re.compile(r"\bL(\d+)(?:[-–](\d+))?\b")


def cited_lines(source: str) -> list[tuple[str, int, int]]:
    """``(seed, first, last)`` for each line reference ``Lx`` or ``Lx-y`` in a source string; a
    reference belongs to the last ``seed NNN`` named before it (``seed 003 L52 (...), L54-58``)."""
    out = []
    marks = list(_SEED.finditer(source))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(source)
        for a, b in _LINES.findall(source, m.end(), end):
            out.append((m.group(1), int(a), int(b or a)))
    return out


def citation_errors(source: str) -> list[str]:
    """Problems with the seed citations of a source string (unknown seed, line out of range)."""
    errors = []
    for seed, first, last in cited_lines(source):
        if seed not in SEED_LINES:
            errors.append(f"seed {seed} is not one of the seeds {sorted(SEED_LINES)}")
        elif not 1 <= first <= last <= SEED_LINES[seed]:
            errors.append(f"seed {seed} L{first}-{last} is outside 1..{SEED_LINES[seed]}")
    return errors


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if value == "":
        return "''"
    return str(value)


def _range(meta: dict) -> str:
    if meta.get("choices"):
        return " / ".join(f"`{c}`" for c in meta["choices"])
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None and hi is None:
        return ""
    left = "−∞" if lo is None else _fmt(float(lo))
    right = "∞" if hi is None else _fmt(float(hi))
    return f"{left} .. {right}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def rows():
    """One dict per leaf parameter: group, path, default, range, unit, help, source."""
    for path, f, default in iter_params():
        meta = dict(f.metadata)
        group = path.split(".")[0] if "." in path else ""
        yield {
            "group": group,
            "path": path,
            "default": _fmt(default),
            "range": _range(meta),
            "unit": meta.get("unit", ""),
            "help": meta.get("help", ""),
            "source": meta.get("source", ""),
            "prior": ""
            if meta.get("prior") is None
            else f"{_fmt(float(meta['prior'][0]))} .. {_fmt(float(meta['prior'][1]))}",
        }


def render() -> str:
    """The whole of docs/PARAMETERS.md."""
    all_rows = list(rows())
    n_assumed = sum(r["source"] == ASSUMPTION for r in all_rows)
    n_seed = sum(bool(cited_lines(r["source"])) for r in all_rows)
    lines = [
        "# Parameters",
        "",
        "<!-- Generated by `python -m sim.params` from the metadata of sim/config.py. Do not edit by hand:",
        "     change sim/config.py and regenerate (the test suite fails when this file is stale). -->",
        "",
        "Every parameter of a run, grouped by the Hydra config group that sets it. Set one on the command line",
        "with its dotted path (`python -m sim staff.training_effect=0.3`) or pick a preset of its group",
        "(`python -m sim training=targeted_blended`; presets are the YAML files of `conf/<group>/`).",
        "Ranges are checked before any simulation runs (`sim.config.to_config`).",
        "",
        "**Sources.** `seed NNN Lx` is line x of the seed document `NNN_*.txt` (the CNFPT studies the model",
        "is built from; English extracts with every figure and its line in `research/seed_*.md`);",
        "`DESIGN.md` is the project's conceptual model; `research/anchors.md` gathers outside references.",
        "`assumption` means no source gives the value: it is the modeller's choice, to be swept.",
        "**Prior**: the range an uncertain behavioural parameter may take given what is known (narrow",
        "when a source gives the value, wide for assumptions); calibration (`python -m analysis calibrate`)",
        "explores it and experiments on an ensemble draw from it.",
        '"calibrated to" means the value was set so that the model reproduces the cited figure',
        '(see docs/VALIDATION.md). A source written "assumption; direction seed ..." gives the direction',
        "of an effect, not its size.",
        "",
        f"{len(all_rows)} parameters: {n_seed} cite a seed line, {n_assumed} are plain assumptions, the others",
        "cite DESIGN.md or research/anchors.md or are technical settings.",
        "",
        "Seeds:",
        "",
    ]
    for key, title in SEED_TITLES.items():
        lines.append(f"- seed {key}: {title}.")
    lines.append("")
    lines.append("Contents: " + ", ".join(f"[{GROUP_TITLES[g]}](#{_anchor(g)})" for g in _group_order()) + ".")
    for group in _group_order():
        lines += ["", f"## {GROUP_TITLES[group]}", ""]
        if group:
            cls = GROUPS[group]
            doc = (cls.__doc__ or "").strip()
            if doc and not doc.startswith(cls.__name__ + "("):
                lines += [doc, ""]
            lines += [f"Config group `{group}` (`conf/{group}/*.yaml`; schema `sim.config.{cls.__name__}`).", ""]
        else:
            lines += ["Top-level keys of `conf/config.yaml` (schema `sim.config.Config`).", ""]
        lines += [
            "| parameter | default | range | prior | unit | meaning | source |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in all_rows:
            if r["group"] != group:
                continue
            lines.append(
                f"| `{r['path']}` | `{_cell(r['default'])}` | {_cell(r['range'])} | {_cell(r['prior'])} | {_cell(r['unit'])} | "
                f"{_cell(r['help'])} | {_cell(r['source'])} |"
            )
    return "\n".join(lines) + "\n"


def _group_order() -> list[str]:
    return [""] + [f.name for f in dataclasses.fields(Config) if f.name in GROUPS]


def _anchor(group: str) -> str:
    title = GROUP_TITLES[group].lower()
    title = re.sub(r"[^\w\- ]", "", title)
    return title.replace(" ", "-")


def check(path: Path = DOC) -> list[str]:
    """Problems with the parameter metadata and the committed table (empty = all good)."""
    problems = []
    for r in rows():
        if not r["help"].strip():
            problems.append(f"{r['path']}: empty help")
        if not r["source"].strip():
            problems.append(f"{r['path']}: empty source")
        problems += [f"{r['path']}: {e}" for e in citation_errors(r["source"])]
    if not path.exists():
        problems.append(f"{path} does not exist: run `python -m sim.params`")
    elif path.read_text(encoding="utf-8") != render():
        problems.append(f"{path} is stale: run `python -m sim.params` and commit it")
    return problems


def quotes(seeds_dir: Path) -> str:
    """Each seed citation of the parameters with the cited lines' text (to audit the sources)."""
    files = {p.name[:3]: p for p in Path(seeds_dir).glob("*.txt")}
    text = {k: p.read_text(encoding="utf-8", errors="replace").split("\n") for k, p in files.items()}
    out = []
    for r in rows():
        for seed, first, last in cited_lines(r["source"]):
            body = text.get(seed)
            excerpt = " ".join(body[first - 1 : last]) if body else "(seed file not found)"
            excerpt = re.sub(r"<[^>]+>", " ", excerpt)
            excerpt = re.sub(r"\s+", " ", excerpt).strip()
            out.append(f"{r['path']}  [seed {seed} L{first}-{last}]\n    {excerpt[:400]}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.params", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if docs/PARAMETERS.md is stale or metadata is missing"
    )
    parser.add_argument("--out", type=Path, default=DOC, help="where to write the table (default docs/PARAMETERS.md)")
    parser.add_argument("--quotes", type=Path, metavar="SEEDS_DIR", help="print the seed lines each parameter cites")
    args = parser.parse_args(argv)
    if args.quotes:
        print(quotes(args.quotes))
        return 0
    if args.check:
        problems = check(args.out)
        for p in problems:
            print(p, file=sys.stderr)
        if not problems:
            print(f"{args.out} is up to date ({sum(1 for _ in rows())} parameters).")
        return 1 if problems else 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(), encoding="utf-8")
    print(f"wrote {args.out} ({sum(1 for _ in rows())} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
