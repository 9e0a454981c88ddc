"""Find, validate and load simulation runs into tidy pandas DataFrames.

A *run folder* holds ``manifest.json`` (or ``error.json`` for a failed run); a
*multirun folder* is any folder holding run folders at any depth (Hydra layout:
``multirun/DATE/TIME/<job-num>/``).  The file contract is ``docs/OUTPUTS.md``.

A run is loaded only when it is **complete**: ``manifest.json`` parses, says
``"status": "complete"``, and every file it lists passes the chosen check
(``verify``).  Every other run is *skipped* and listed in the :class:`LoadReport`
with a reason (and logged as a warning); its data are never mixed in.

Verification modes (``verify=``):

``"sha256"``
    every listed file exists and its sha256 equals the manifest's (reads every byte).
``"size"``
    every listed file exists and is not empty, and every Parquet file starts and
    ends with the Parquet magic bytes (catches truncated files; reads 8 bytes).
``"none"``
    only the manifest status and the file list are checked.  A file that turns out
    unreadable while loading is still caught and reported.
``"auto"`` (default)
    ``"sha256"`` for up to :data:`AUTO_SHA256_MAX_RUNS` runs, ``"size"`` above.

In every mode but ``"none"`` the footer schema of each table being loaded is read
and must hold the contract's columns.

Tables are read with :mod:`pyarrow.dataset` over the complete runs' files only,
reading only the needed columns, with the ``metrics`` / ``steps`` /
``stratum_kinds`` filters pushed down to the Parquet reader.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analysis._progress import progress_bar
from analysis.overrides import config_get, parse_override, parse_overrides, parse_value  # noqa: F401 - re-exported

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
ERROR = "error.json"
TIMESERIES = "timeseries.parquet"
COLLECTIVITES = "collectivites.parquet"
STAFF_SUMMARY = "staff_summary.parquet"
OUTPUT_TABLES = (TIMESERIES, COLLECTIVITES, STAFF_SUMMARY)

#: Up to this many runs, ``verify="auto"`` checks sha256; above it, sizes and Parquet magic.
AUTO_SHA256_MAX_RUNS = 500

#: The ``timeseries.parquet`` schema of docs/OUTPUTS.md.
TIMESERIES_SCHEMA = pa.schema(
    [
        ("step", pa.int32()),
        ("year", pa.float64()),
        ("stratum_kind", pa.string()),
        ("stratum", pa.string()),
        ("metric", pa.string()),
        ("value", pa.float64()),
    ]
)
TIMESERIES_COLUMNS: tuple[str, ...] = tuple(TIMESERIES_SCHEMA.names)

#: Columns a table must have to be loaded (checked on the Parquet footer).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    TIMESERIES: TIMESERIES_COLUMNS,
    COLLECTIVITES: ("id", "kind", "population", "pop_band", "rurality", "maturity"),
    STAFF_SUMMARY: ("kind", "category", "job_family", "n_staff"),
}

#: Columns describing a run (besides its swept parameters) in every loaded table.
RUN_COLUMNS: tuple[str, ...] = ("run_id", "scenario", "seed")

Verify = Literal["auto", "sha256", "size", "none"]
VERIFY_MODES: tuple[str, ...] = ("auto", "sha256", "size", "none")

_PARQUET_MAGIC = b"PAR1"


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class RunInfo:
    """One run folder found under the loaded root, with its validation outcome.

    ``status`` is ``"complete"`` (loaded), ``"failed"`` (error.json or manifest
    status ``failed``), ``"incomplete"`` (no manifest, or a status other than
    complete/failed), ``"corrupt"`` (a listed file is missing, truncated or has
    another sha256) or ``"malformed"`` (unreadable manifest, missing table or columns).
    """

    run_id: str
    path: Path
    status: str
    reason: str = ""
    manifest: dict[str, Any] | None = field(default=None, repr=False)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "complete"


@dataclass
class LoadReport:
    """What was found under ``root``: which runs are loaded and which are skipped, and why."""

    root: Path
    verify: str
    runs: list[RunInfo]
    param_columns: list[str] = field(default_factory=list)

    @property
    def complete(self) -> list[RunInfo]:
        return [r for r in self.runs if r.ok]

    @property
    def skipped(self) -> list[RunInfo]:
        return [r for r in self.runs if not r.ok]

    @property
    def n_found(self) -> int:
        return len(self.runs)

    def to_frame(self) -> pd.DataFrame:
        """One row per run folder: run_id, status, reason, path."""
        return pd.DataFrame(
            {
                "run_id": [r.run_id for r in self.runs],
                "status": [r.status for r in self.runs],
                "reason": [r.reason for r in self.runs],
                "path": [str(r.path) for r in self.runs],
            },
            columns=["run_id", "status", "reason", "path"],
        )

    def summary(self, max_listed: int | None = None) -> str:
        """Plain-text account: counts, swept parameters, and every skipped run with its reason."""
        lines = [
            f"Loaded {len(self.complete)} of {self.n_found} runs found under {self.root} (file check: {self.verify})."
        ]
        if self.param_columns:
            lines.append("Swept parameters: " + ", ".join(self.param_columns) + ".")
        skipped = self.skipped
        if skipped:
            lines.append(f"Skipped {len(skipped)} runs:")
            shown = skipped if max_listed is None else skipped[:max_listed]
            lines += [f"  {r.run_id}  [{r.status}] {r.reason}" for r in shown]
            if len(shown) < len(skipped):
                lines.append(f"  ... and {len(skipped) - len(shown)} more")
        else:
            lines.append("No run skipped.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _mark(self, bad: dict[int, tuple[str, str]]) -> None:
        """Turn runs found bad while reading (index -> (status, reason)) into skipped runs."""
        complete = self.complete
        for i, (status, reason) in bad.items():
            run = complete[i]
            new = RunInfo(run.run_id, run.path, status, reason, run.manifest, run.params)
            self.runs[self.runs.index(run)] = new
            log.warning("skipped run %s [%s]: %s", run.run_id, status, reason)
        self.param_columns = _param_columns(self.complete)


# --------------------------------------------------------------------------- overrides


def _scenario_of(manifest: dict[str, Any], params: dict[str, Any]) -> Any:
    """The run's scenario: its ``scenario=`` override, else config ``scenario`` (or its ``name``),
    else config ``scenario_name``."""
    if "scenario" in params:
        return params["scenario"]
    config = manifest.get("config") or {}
    sc = config_get(config, "scenario")
    if isinstance(sc, dict):
        sc = sc.get("name")
    if sc is None:
        sc = config_get(config, "scenario_name")
    return sc if isinstance(sc, (str, int, float, bool)) else None


# --------------------------------------------------------------------------- discovery


def _natural_key(text: str) -> list[Any]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p]


def _is_run_dir(filenames: list[str], dirnames: list[str]) -> bool:
    names = set(filenames)
    if MANIFEST in names or ERROR in names:
        return True
    if names & set(OUTPUT_TABLES) or any(n.endswith(".parquet.tmp") for n in names):
        return True
    # A Hydra job folder (has .hydra/) that has written nothing yet; a sweep folder has multirun.yaml.
    return ".hydra" in dirnames and "multirun.yaml" not in names


def find_run_dirs(root: str | os.PathLike[str]) -> list[Path]:
    """Every run folder under ``root`` (``root`` itself if it is one), in natural order."""
    root = Path(root)
    if root.is_file() and root.name in (MANIFEST, ERROR):
        root = root.parent
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}")
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        if _is_run_dir(filenames, dirnames):
            found.append(Path(dirpath))
            dirnames[:] = []
        else:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    return sorted(found, key=lambda p: _natural_key(p.relative_to(root).as_posix()))


def _run_id(path: Path, root: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return path.resolve().name if rel == "." else rel


# --------------------------------------------------------------------------- checks


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _has_parquet_magic(path: Path) -> bool:
    size = path.stat().st_size
    if size < 12:
        return False
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(size - 4)
        tail = f.read(4)
    return head == _PARQUET_MAGIC and tail == _PARQUET_MAGIC


def _short(text: Any, limit: int = 200) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _unfinished(path: Path, run_id: str) -> RunInfo:
    """A run folder without manifest.json: failed (error.json) or incomplete."""
    err = path / ERROR
    if err.is_file():
        try:
            payload = json.loads(err.read_text(encoding="utf-8"))
            msg = payload.get("error", "") if isinstance(payload, dict) else payload
            reason = "run failed: " + (_short(msg) or "no error message")
        except (OSError, ValueError) as exc:
            reason = f"run failed (error.json unreadable: {_short(exc)})"
        return RunInfo(run_id, path, "failed", reason)
    return RunInfo(run_id, path, "incomplete", "no manifest.json (run unfinished, killed or still running)")


def _inside(rel: str) -> bool:
    """True for a relative path that stays inside its folder (no absolute path, no '..')."""
    norm = os.path.normpath(rel)
    return not os.path.isabs(norm) and norm != ".." and not norm.startswith(".." + os.sep)


def check_run(path: Path, root: Path, verify: str = "sha256", required: Sequence[str] = (TIMESERIES,)) -> RunInfo:
    """Validate one run folder against the output contract; never raises for bad data."""
    run_id = _run_id(path, root)
    mpath = path / MANIFEST
    if not mpath.is_file():
        return _unfinished(path, run_id)
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return RunInfo(run_id, path, "malformed", f"manifest.json unreadable: {_short(exc)}")
    if not isinstance(manifest, dict):
        return RunInfo(run_id, path, "malformed", "manifest.json is not a JSON object")
    status = manifest.get("status")
    if status != "complete":
        kind = "failed" if status == "failed" else "incomplete"
        return RunInfo(run_id, path, kind, f"manifest status is {status!r}, not 'complete'", manifest)
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return RunInfo(run_id, path, "malformed", "manifest lists no files", manifest)
    overrides = manifest.get("overrides") or []
    if not isinstance(overrides, list):
        return RunInfo(run_id, path, "malformed", "manifest overrides is not a list", manifest)
    for name in required:
        if name not in files:
            return RunInfo(run_id, path, "malformed", f"{name} is not listed in the manifest", manifest)
    for rel, digest in files.items():
        if not _inside(rel):
            return RunInfo(run_id, path, "malformed", f"listed file {rel} is outside the run folder", manifest)
        fpath = path / rel
        if not fpath.is_file():
            return RunInfo(run_id, path, "corrupt", f"listed file {rel} is missing", manifest)
        if verify == "sha256":
            if sha256_of(fpath) != str(digest).lower():
                return RunInfo(run_id, path, "corrupt", f"sha256 of {rel} differs from the manifest", manifest)
        elif verify == "size":
            if fpath.stat().st_size == 0:
                return RunInfo(run_id, path, "corrupt", f"listed file {rel} is empty", manifest)
            if rel.endswith(".parquet") and not _has_parquet_magic(fpath):
                return RunInfo(run_id, path, "corrupt", f"{rel} is not a whole Parquet file (truncated?)", manifest)
    if verify != "none":
        for name in required:
            try:
                names = set(pq.read_schema(path / name).names)
            except Exception as exc:  # noqa: BLE001 - any reader error means a bad file
                return RunInfo(run_id, path, "corrupt", f"cannot read {name}: {_short(exc)}", manifest)
            missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in names]
            if missing:
                return RunInfo(run_id, path, "malformed", f"{name} lacks columns {missing}", manifest)
    params = parse_overrides(overrides)
    return RunInfo(run_id, path, "complete", "", manifest, params)


def resolve_verify(verify: str, n_runs: int) -> str:
    if verify not in VERIFY_MODES:
        raise ValueError(f"verify must be one of {VERIFY_MODES}, not {verify!r}")
    if verify == "auto":
        return "sha256" if n_runs <= AUTO_SHA256_MAX_RUNS else "size"
    return verify


def scan(
    folder: str | os.PathLike[str],
    *,
    verify: Verify = "auto",
    required: Sequence[str] = (TIMESERIES,),
    progress: bool | None = None,
    max_workers: int | None = None,
) -> LoadReport:
    """Find and validate every run under ``folder`` without loading any table.

    ``required`` names the tables a run must list to count as complete.  Checks run in
    a thread pool (hashing releases the GIL).  Skipped runs are logged as warnings.
    """
    root = Path(folder)
    if root.is_file() and root.name in (MANIFEST, ERROR):
        root = root.parent
    dirs = find_run_dirs(root)
    mode = resolve_verify(verify, len(dirs))
    workers = max_workers or min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        it = pool.map(lambda p: check_run(p, root, mode, required), dirs)
        runs = list(progress_bar(it, total=len(dirs), desc="checking runs", enable=progress))
    report = LoadReport(root=root, verify=mode, runs=runs)
    report.param_columns = _param_columns(report.complete)
    _log_skipped(report)
    return report


def _log_skipped(report: LoadReport, limit: int = 20) -> None:
    skipped = report.skipped
    for r in skipped[:limit]:
        log.warning("skipped run %s [%s]: %s", r.run_id, r.status, r.reason)
    if len(skipped) > limit:
        log.warning("... and %d more skipped runs (see the load report)", len(skipped) - limit)


# --------------------------------------------------------------------------- run parameters


def _param_columns(runs: Sequence[RunInfo]) -> list[str]:
    keys: dict[str, None] = {}
    for r in runs:
        for k in r.params:
            if k not in ("seed", "scenario"):
                keys.setdefault(k, None)
    return list(keys)


def _column_name(key: str, taken: set[str]) -> str:
    return f"param_{key}" if key in taken else key


def run_table(report: LoadReport, reserved: Iterable[str] = TIMESERIES_COLUMNS) -> pd.DataFrame:
    """One row per complete run: ``run_id``, swept parameters, ``scenario`` (if any), ``seed``.

    A swept key that a run does not override takes that run's configured value.
    A key that clashes with a table column is renamed ``param_<key>``.
    """
    runs = report.complete
    taken = set(reserved) | {"run_id", "seed", "scenario"}
    data: dict[str, list[Any]] = {"run_id": [r.run_id for r in runs]}
    for key in report.param_columns:
        col = _column_name(key, taken)
        data[col] = [
            r.params[key] if key in r.params else _scalar(config_get((r.manifest or {}).get("config") or {}, key))
            for r in runs
        ]
    scenarios = [_scenario_of(r.manifest or {}, r.params) for r in runs]
    if any(s is not None for s in scenarios):
        data["scenario"] = scenarios
    data["seed"] = [(r.manifest or {}).get("seed", r.params.get("seed")) for r in runs]
    table = pd.DataFrame(data)
    for col in table.columns:
        table[col] = _tidy_dtype(table[col])
    return table


def _scalar(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _tidy_dtype(s: pd.Series) -> pd.Series:
    vals = [v for v in s.tolist() if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if vals and all(isinstance(v, bool) for v in vals):
        return s.astype("boolean") if len(vals) < len(s) else s.astype(bool)
    if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return s.astype("Int64") if len(vals) < len(s) else s.astype("int64")
    if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return s.astype("float64")
    return s.astype(object)


def param_columns(df: pd.DataFrame) -> list[str]:
    """The design columns of a loaded table: swept parameters and scenario (not run_id, seed, data)."""
    attrs = df.attrs.get("param_columns")
    cols = list(attrs) if attrs is not None else []
    if not cols:
        data = set(TIMESERIES_COLUMNS)
        end = list(df.columns).index("seed") if "seed" in df.columns else 0
        cols = [c for c in list(df.columns)[:end] if c not in data and c not in ("run_id", "scenario")]
    if "scenario" in df.columns and "scenario" not in cols:
        cols.append("scenario")
    return [c for c in cols if c in df.columns]


# --------------------------------------------------------------------------- reading


def _filter(
    metrics: Sequence[str] | None,
    steps: Sequence[int] | None,
    stratum_kinds: Sequence[str] | None,
    strata: Sequence[str] | None,
) -> ds.Expression | None:
    parts = []
    if metrics is not None:
        parts.append(pc.field("metric").isin(list(metrics)))
    if steps is not None:
        parts.append(pc.field("step").isin([int(s) for s in steps]))
    if stratum_kinds is not None:
        parts.append(pc.field("stratum_kind").isin(list(stratum_kinds)))
    if strata is not None:
        parts.append(pc.field("stratum").isin(list(strata)))
    expr = None
    for p in parts:
        expr = p if expr is None else expr & p
    return expr


def _encode(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Dictionary-encode the string columns: a sweep repeats few distinct strings many times."""
    cols = [
        pc.dictionary_encode(c) if pa.types.is_string(c.type) or pa.types.is_large_string(c.type) else c
        for c in batch.columns
    ]
    return pa.RecordBatch.from_arrays(cols, names=batch.schema.names)


@dataclass
class _Query:
    """What to read: files, their schema, the columns, a pushed-down filter and a per-file row filter."""

    paths: list[str]
    schema: pa.Schema
    columns: list[str]
    expr: ds.Expression | None = None
    keep: Callable[[int, pa.RecordBatch], pa.RecordBatch] | None = None
    progress: bool | None = None


@dataclass
class _Collected:
    """Batches read so far (filtered by ``keep``, strings dictionary-encoded) and their file index."""

    keep: Callable[[int, pa.RecordBatch], pa.RecordBatch] | None
    batches: list[pa.RecordBatch] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)

    def add(self, i: int, batch: pa.RecordBatch) -> None:
        if self.keep is not None:
            batch = self.keep(i, batch)
        if batch.num_rows:
            self.batches.append(_encode(batch))
            self.codes.append(np.full(batch.num_rows, i, dtype=np.int32))


def _scan_dataset(q: _Query) -> tuple[list[pa.RecordBatch], list[np.ndarray]]:
    """Scan all files as one dataset; return batches and the file index of each batch's rows."""
    index = {os.path.normpath(p): i for i, p in enumerate(q.paths)}
    dataset = ds.dataset(q.paths, schema=q.schema, format="parquet")
    scanner = dataset.scanner(columns=q.columns, filter=q.expr, use_threads=True)
    got = _Collected(q.keep)
    bar = progress_bar(None, total=len(q.paths), desc="reading files", enable=q.progress)
    seen: set[int] = set()
    for tagged in scanner.scan_batches():
        i = index[os.path.normpath(tagged.fragment.path)]
        if i not in seen:
            seen.add(i)
            bar.update(1)
        got.add(i, tagged.record_batch)
    bar.update(len(q.paths) - len(seen))
    bar.close()
    return got.batches, got.codes


def _scan_files(q: _Query) -> tuple[list[pa.RecordBatch], list[np.ndarray], dict[int, tuple[str, str]]]:
    """Read file by file, catching unreadable files (used when the one-dataset scan fails)."""
    got = _Collected(q.keep)
    bad: dict[int, tuple[str, str]] = {}
    for i, p in enumerate(progress_bar(q.paths, total=len(q.paths), desc="reading files", enable=q.progress)):
        try:
            table = ds.dataset(p, schema=q.schema, format="parquet").to_table(columns=q.columns, filter=q.expr)
        except Exception as exc:  # noqa: BLE001 - any reader error means a bad file
            bad[i] = ("corrupt", f"cannot read {Path(p).name}: {_short(str(exc).replace(p, Path(p).name))}")
            continue
        for batch in table.to_batches():
            got.add(i, batch)
    return got.batches, got.codes, bad


def _read(q: _Query) -> tuple[list[pa.RecordBatch], list[np.ndarray], dict[int, tuple[str, str]]]:
    """Read with one dataset scan; if a file breaks it, file by file to find the bad ones."""
    if not q.paths:
        return [], [], {}
    try:
        batches, codes = _scan_dataset(q)
        return batches, codes, {}
    except (pa.ArrowException, OSError) as exc:
        log.info("one-dataset scan failed (%s); reading file by file", _short(exc))
        return _scan_files(q)


def _last_steps(
    runs: Sequence[RunInfo], paths: list[str], progress: bool | None
) -> tuple[dict[int, int], dict[int, tuple[str, str]]]:
    """Last step of each run: the manifest's ``n_steps`` (steps run after step 0) when every run
    has one, else the largest step of each file (reading the step column only)."""
    n_steps = [(r.manifest or {}).get("n_steps") for r in runs]
    if all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in n_steps):
        return dict(enumerate(n_steps)), {}
    batches, codes, bad = _read(_Query(paths, TIMESERIES_SCHEMA, ["step"], progress=progress))
    last: dict[int, int] = {}
    for batch, code in zip(batches, codes, strict=True):
        i = int(code[0])
        m = pc.max(batch.column(0)).as_py()
        if m is not None:
            last[i] = max(last.get(i, m), m)
    return last, bad


def _assemble(table: pa.Table, code: np.ndarray, runs: pd.DataFrame) -> pd.DataFrame:
    """Prepend the run columns to ``table`` (row i belongs to run ``code[i]``).

    ``run_id`` and string parameters become categoricals; rows are put in run order.
    """
    if len(code) > 1 and np.any(np.diff(code) < 0):
        order = np.argsort(code, kind="stable")
        table = table.take(pa.array(order))
        code = code[order]
    # self_destruct frees each Arrow column once converted: the peak stays near one copy
    data = table.to_pandas(strings_to_categorical=True, self_destruct=True, split_blocks=True)
    del table
    out: dict[str, Any] = {}
    out["run_id"] = pd.Categorical.from_codes(code, categories=pd.Index(runs["run_id"], dtype=object))
    for col in runs.columns[1:]:
        src = runs[col]
        if src.dtype == object:  # categorise the few run values, then repeat their codes
            cat = pd.Categorical(src)
            out[col] = pd.Categorical.from_codes(cat.codes[code], dtype=cat.dtype)
        else:
            out[col] = src.array.take(code)
    for col in data.columns:
        out[col] = data[col].array
    return pd.DataFrame(out, copy=False)


def _batches_table(
    batches: list[pa.RecordBatch], codes: list[np.ndarray], schema: pa.Schema
) -> tuple[pa.Table, np.ndarray]:
    """One table of the (dictionary-encoded) batches, with unified dictionaries."""
    if batches:
        table = pa.Table.from_batches(batches).unify_dictionaries()
    else:
        table = schema.empty_table()
    code = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32)
    return table, code


def load(
    folder: str | os.PathLike[str],
    *,
    metrics: Sequence[str] | None = None,
    steps: Sequence[int] | None = None,
    last_step_only: bool = False,
    stratum_kinds: Sequence[str] | None = None,
    strata: Sequence[str] | None = None,
    verify: Verify = "auto",
    report: LoadReport | None = None,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """Load the ``timeseries.parquet`` of every complete run under ``folder`` into one tidy table.

    Returns ``(df, report)``.  ``df`` has one row per run x step x stratum x metric with
    columns ``run_id`` (run folder relative to ``folder``; the folder's own name when
    ``folder`` is a run), the swept parameters (keys of the runs' Hydra overrides, values
    typed), ``scenario`` (when configured), ``seed``, then ``step, year, stratum_kind,
    stratum, metric, value``.  String columns are categoricals.

    ``metrics``, ``steps``, ``stratum_kinds`` and ``strata`` keep only the listed values
    (pushed down to the Parquet reader); ``last_step_only`` keeps each run's last step.
    Pass a ``report`` from :func:`scan` to skip re-validating.
    """
    rep = report if report is not None else scan(folder, verify=verify, required=(TIMESERIES,), progress=progress)
    complete = rep.complete
    paths = [os.path.normpath(str(r.path / TIMESERIES)) for r in complete]
    bad: dict[int, tuple[str, str]] = {}
    keep = None
    expr = _filter(metrics, steps, stratum_kinds, strata)
    if last_step_only and paths:
        last, bad = _last_steps(complete, paths, progress)
        if last:
            floor = pc.field("step") >= min(last.values())
            expr = floor if expr is None else expr & floor

        def keep(i: int, batch: pa.RecordBatch) -> pa.RecordBatch:
            return batch.filter(pc.equal(batch.column("step"), last.get(i, -1)))

    batches, codes, bad_read = _read(_Query(paths, TIMESERIES_SCHEMA, list(TIMESERIES_COLUMNS), expr, keep, progress))
    bad.update(bad_read)
    if bad:
        rep._mark(bad)
        return load(
            folder,
            metrics=metrics,
            steps=steps,
            last_step_only=last_step_only,
            stratum_kinds=stratum_kinds,
            strata=strata,
            report=rep,
            progress=progress,
        )
    runs = run_table(rep)
    table, code = _batches_table(batches, codes, TIMESERIES_SCHEMA)
    del batches, codes
    df = _assemble(table, code, runs)
    df.attrs["param_columns"] = [c for c in runs.columns if c not in ("run_id", "seed")]
    return df, rep


def _load_end_table(
    name: str,
    folder: str | os.PathLike[str],
    columns: Sequence[str] | None,
    verify: Verify,
    report: LoadReport | None,
    progress: bool | None,
) -> tuple[pd.DataFrame, LoadReport]:
    if report is None:
        rep = scan(folder, verify=verify, required=(name,), progress=progress)
    else:
        rep = LoadReport(report.root, report.verify, list(report.runs), list(report.param_columns))
        for i, r in enumerate(rep.runs):
            files = (r.manifest or {}).get("files") or {}
            if r.ok and name not in files:
                rep.runs[i] = RunInfo(
                    r.run_id, r.path, "malformed", f"{name} is not listed in the manifest", r.manifest, r.params
                )
    tables: list[pa.Table] = []
    codes: list[np.ndarray] = []
    bad: dict[int, tuple[str, str]] = {}
    complete = rep.complete
    for i, r in enumerate(progress_bar(complete, total=len(complete), desc=f"reading {name}", enable=progress)):
        try:
            t = pq.read_table(r.path / name, columns=list(columns) if columns else None)
        except Exception as exc:  # noqa: BLE001 - any reader error means a bad file
            bad[i] = ("corrupt", f"cannot read {name}: {_short(str(exc).replace(str(r.path / name), name))}")
            continue
        tables.append(t)
        codes.append(np.full(t.num_rows, i, dtype=np.int32))
    if bad:
        rep._mark(bad)
        return _load_end_table(name, folder, columns, verify, rep, progress)
    runs = run_table(rep, reserved=tables[0].column_names if tables else ())
    if tables:
        table = pa.concat_tables(tables, promote_options="permissive")
        del tables
        df = _assemble(table, np.concatenate(codes), runs)
    else:
        df = pd.DataFrame(columns=list(runs.columns))
    df.attrs["param_columns"] = [c for c in runs.columns if c not in ("run_id", "seed")]
    return df, rep


def load_collectivites(
    folder: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    verify: Verify = "auto",
    report: LoadReport | None = None,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """End-of-run collectivité tables of every complete run, with run_id and run parameters.

    One row per run x collectivité; ``columns`` restricts the collectivité columns read.
    """
    return _load_end_table(COLLECTIVITES, folder, columns, verify, report, progress)


def load_staff_summary(
    folder: str | os.PathLike[str],
    *,
    verify: Verify = "auto",
    report: LoadReport | None = None,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """End-of-run staff summaries (kind x category x job family) of every complete run."""
    return _load_end_table(STAFF_SUMMARY, folder, None, verify, report, progress)
