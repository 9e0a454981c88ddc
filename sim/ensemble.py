"""Ensembles of parameter sets: runs and sweeps that draw their uncertain parameters from one.

An *ensemble* is a Parquet file with one row per *member* (a parameter set) and one column per
parameter, named by its dotted path (``staff.training_effect``); columns without a dot
(``member``, ``wave``, ``max_implausibility``, ...) describe the member and are not applied.
``python -m analysis calibrate`` writes one (``ensemble.parquet``) with its manifest beside it
(``ensemble.json``: targets, code version, waves, version).

A run takes member ``ensemble.member`` of ``ensemble.path``::

    python -m sim ensemble.path=calibration/v2/ensemble.parquet ensemble.member=3
    python -m sim -m ensemble.path=calibration/v2/ensemble.parquet 'ensemble.member=range(0,20)' \\
        'seed=range(0,5)' scenario=business_as_usual,mediation

:func:`apply_ensemble` (called by :func:`sim.config.to_config`, so before validation) replaces the
configuration's values by the member's; the run's manifest records them in its ``config``, with
``ensemble.path``, ``ensemble.member`` and ``ensemble.version`` (the version of the file the
values came from). Setting ``ensemble.version`` beforehand makes a run refuse an ensemble file
that has changed since. A value set on the command line for a parameter that the ensemble also
sets is replaced by the ensemble's: an ensemble member is a whole parameter set.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Config, ConfigError, iter_params

#: Column numbering the members (0..K-1, in file order when absent).
MEMBER = "member"


@dataclass(frozen=True)
class Ensemble:
    """A loaded ensemble: its parameter table, metadata columns and version."""

    path: Path
    params: pd.DataFrame  # one row per member, one column per dotted parameter path
    meta: pd.DataFrame  # the other columns (member, wave, ...)
    version: str
    manifest: dict

    def __len__(self) -> int:
        return len(self.params)

    def values(self, member: int) -> dict[str, Any]:
        """The parameter values of one member (raises ConfigError when out of range)."""
        if not 0 <= member < len(self.params):
            raise ConfigError(
                f"ensemble.member={member} is out of range: {self.path} has {len(self.params)} members (0..{len(self.params) - 1})"
            )
        row = self.params.iloc[member]
        return {k: _python(v) for k, v in row.items()}


def _python(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def manifest_path(path: str | os.PathLike[str]) -> Path:
    """The manifest beside an ensemble file: ``X.parquet`` -> ``X.json``."""
    return Path(path).with_suffix(".json")


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _leaf_fields() -> dict[str, dataclasses.Field]:
    return {path: f for path, f, _ in iter_params()}


def parameter_columns(columns) -> list[str]:
    """The columns of an ensemble table that are parameters (their name holds a dot)."""
    return [c for c in columns if "." in str(c)]


def check_parameters(columns) -> None:
    """Raise ConfigError unless every parameter column names a numeric or boolean leaf parameter."""
    fields = _leaf_fields()
    errors = []
    for c in parameter_columns(columns):
        f = fields.get(c)
        if f is None:
            errors.append(f"{c} is not a parameter of the configuration (python -m sim --cfg job lists them)")
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if isinstance(default, str) or not isinstance(default, (int, float, bool)):
            errors.append(f"{c} is not a number: an ensemble sets numeric parameters only")
        if c.startswith("ensemble.") or c == "seed":
            errors.append(f"{c} cannot be set by an ensemble")
    if errors:
        raise ConfigError("Invalid ensemble:\n  - " + "\n  - ".join(errors))


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int) -> Ensemble:
    del mtime_ns, size  # cache keys: a rewritten file is read again
    try:
        table = pd.read_parquet(path)
    except Exception as exc:
        raise ConfigError(f"ensemble.path={path}: cannot read the ensemble ({exc})") from exc
    if MEMBER in table.columns:
        table = table.sort_values(MEMBER, kind="stable").reset_index(drop=True)
        if list(table[MEMBER]) != list(range(len(table))):
            raise ConfigError(f"ensemble.path={path}: the '{MEMBER}' column must number the rows 0..K-1")
    cols = parameter_columns(table.columns)
    if not cols:
        raise ConfigError(f"ensemble.path={path}: no parameter column (columns named by a dotted parameter path)")
    check_parameters(table.columns)
    params = table[cols]
    bad = [c for c in cols if not np.isfinite(params[c].to_numpy(dtype=float)).all()]
    if bad:
        raise ConfigError(f"ensemble.path={path}: missing or non-finite values in {', '.join(bad)}")
    manifest = {}
    mpath = manifest_path(path)
    if mpath.is_file():
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{mpath}: unreadable ensemble manifest ({exc})") from exc
    digest = file_sha256(path)
    if manifest.get("sha256") and manifest["sha256"] != digest:
        raise ConfigError(
            f"ensemble.path={path}: the file does not match its manifest {mpath.name} (sha256 differs): "
            "it was changed after it was written"
        )
    version = str(manifest.get("version") or digest[:16])
    meta = table[[c for c in table.columns if c not in cols]]
    return Ensemble(Path(path), params.reset_index(drop=True), meta.reset_index(drop=True), version, manifest)


def load_ensemble(path: str | os.PathLike[str]) -> Ensemble:
    """Read (and cache) an ensemble file; raises ConfigError with the reason when it is not usable."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"ensemble.path={path}: no such file")
    st = p.stat()
    return _load(str(p.resolve()), st.st_mtime_ns, st.st_size)


def _set(cfg: Any, path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = cfg
    for name in parents:
        node = getattr(node, name)
    current = getattr(node, leaf)
    if isinstance(current, bool):
        value = bool(value)
    elif isinstance(current, int):
        if not float(value).is_integer() and not math.isclose(value, round(value)):
            raise ConfigError(f"ensemble value {path}={value!r} must be an integer")
        value = round(value)
    else:
        value = float(value)
    setattr(node, leaf, value)


def apply_ensemble(cfg: Config) -> Config:
    """A copy of ``cfg`` with the parameter values of member ``cfg.ensemble.member`` of
    ``cfg.ensemble.path`` (``cfg`` itself when no ensemble is named)."""
    e = cfg.ensemble
    if not e.path:
        return cfg
    ens = load_ensemble(e.path)
    if e.version and e.version != ens.version:
        raise ConfigError(
            f"ensemble.version={e.version} but {e.path} has version {ens.version}: the ensemble file changed"
        )
    values = ens.values(e.member)
    out = copy.deepcopy(cfg)
    for path, value in values.items():
        _set(out, path, value)
    out.ensemble.version = ens.version
    return out


def write_ensemble(table: pd.DataFrame, path: str | os.PathLike[str], manifest: dict | None = None) -> dict:
    """Write an ensemble (Parquet) and its manifest (JSON) atomically; returns the manifest.

    ``table`` holds parameter columns (dotted paths) and any metadata columns; a ``member``
    column numbering the rows 0..K-1 is added. The manifest gets ``sha256``, ``n_members``,
    ``parameters`` and ``version`` (``<created>-<sha256[:12]>`` unless given).
    """
    from sim import io

    check_parameters(table.columns)
    table = table.drop(columns=[MEMBER], errors="ignore").reset_index(drop=True)
    table.insert(0, MEMBER, np.arange(len(table), dtype=np.int64))
    path = Path(path)
    io.write_parquet(table, path)
    digest = file_sha256(path)
    man = dict(manifest or {})
    created = man.setdefault("created_utc", pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"))
    man["sha256"] = digest
    man["n_members"] = len(table)
    man["parameters"] = parameter_columns(table.columns)
    man.setdefault("version", f"{created[:10]}-{digest[:12]}")
    io.write_json(man, manifest_path(path))
    return man


__all__ = [
    "MEMBER",
    "Ensemble",
    "apply_ensemble",
    "check_parameters",
    "load_ensemble",
    "manifest_path",
    "parameter_columns",
    "write_ensemble",
]
