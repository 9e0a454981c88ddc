"""Writing a run's outputs: tidy Parquet tables, figures and a manifest, atomically.

Every file is written to a temporary name in the same directory and renamed into place
(``os.replace`` is atomic on POSIX), so an interrupted run never leaves a half-written table
under its final name. The manifest, written last, lists every file with its sha256: a run is
complete only when the manifest says so (docs/OUTPUTS.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.state import CATEGORIES, JOB_FAMILIES, KINDS, NEVER, POP_BANDS, PROFILES

MANIFEST = "manifest.json"
ERROR = "error.json"


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path next to ``path``; rename it to ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")


def write_json(obj, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


# ------------------------------------------------------------------------------------ tables
def timeseries_table(model) -> pd.DataFrame:
    df = pd.DataFrame(model.records, columns=["step", "year", "stratum_kind", "stratum", "metric", "value"])
    df["step"] = df["step"].astype("int32")
    for col in ("stratum_kind", "stratum", "metric"):
        df[col] = df[col].astype("string")
    return df


def collectivites_table(model) -> pd.DataFrame:
    """One row per collectivité at the end of the run."""
    from sim.processes.governance import profile_index

    c, st = model.colls, model.staff
    rows = st.active_rows()
    emp = st.active_employers()
    skill = st.skill[rows]
    n = np.bincount(emp, minlength=c.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        ill = np.bincount(emp, weights=(skill < model.illectronism_threshold).astype(float), minlength=c.n) / n
        prof = np.bincount(emp, weights=(skill >= model.required_skill).astype(float), minlength=c.n) / n
    t = model.territory
    return pd.DataFrame(
        {
            "id": np.array([a.unique_id for a in model.collectivites], dtype=np.int64),
            "code": t["code"].astype("string").to_numpy(),
            "name": t["name"].astype("string").to_numpy(),
            "kind": pd.array([KINDS[k] for k in c.kind], dtype="string"),
            "population": c.population,
            "pop_band": pd.array([POP_BANDS[b] for b in c.pop_band], dtype="string"),
            "rurality": pd.array(np.where(c.rural, "rural", "urban"), dtype="string"),
            "epci": t["epci"].astype("string").to_numpy(),
            "departement": t["departement"].astype("string").to_numpy(),
            "region": t["region"].astype("string").to_numpy(),
            "maturity": c.maturity,
            "profile": pd.array([PROFILES[p] for p in profile_index(c, model.cfg.organisation)], dtype="string"),
            "services_online": c.services_online,
            "open_data": c.open_data,
            "has_strategy": c.has_strategy,
            "has_monitoring": c.has_monitoring,
            "it_capacity": c.it_fte + c.recruited_fte,
            "it_fte_lever": c.recruited_fte,
            "it_vacancies": c.it_vacancies,
            "capacity_index": c.capacity_index,
            "pooled": c.pool >= 0,
            "pool_id": c.pool,
            "pool_fte": c.pool_fte,
            "pool_critical": c.pool_critical,
            "sponsorship": c.sponsorship,
            "leadership": c.leadership,
            "budget_eur": c.budget * model.budget_factor,
            "inhabitants_illectronism": c.illectronism,
            "inhabitants_excluded": c.excluded,
            "help_coverage": c.help_coverage,
            "eservice_use": c.eservice_use,
            "conseillers": c.conseillers,
            "n_staff": n / model.cfg.territory.staff_scale,
            "staff_mean_skill": c.staff_mean_skill,
            "staff_illectronism_share": ill,
            "staff_proficient_share": prof,
            "staff_use_share": c.staff_use_share,
            "x": c.x,
            "y": c.y,
        }
    )


def staff_summary_table(model) -> pd.DataFrame:
    c, st = model.colls, model.staff
    rows = st.active_rows()
    df = pd.DataFrame(
        {
            "kind": c.kind[st.employer[rows]],
            "category": st.category[rows],
            "job_family": st.job_family[rows],
            "skill": st.skill[rows],
            "age": st.age[rows],
            "ill": st.skill[rows] < model.illectronism_threshold,
            "prof": st.skill[rows] >= model.required_skill,
            "trained": st.last_training[rows] != NEVER,
        }
    )
    g = df.groupby(["kind", "category", "job_family"], sort=True)
    out = g.agg(
        n_staff=("skill", "size"),
        mean_skill=("skill", "mean"),
        mean_age=("age", "mean"),
        illectronism_share=("ill", "mean"),
        proficient_share=("prof", "mean"),
        trained_share=("trained", "mean"),
    ).reset_index()
    out["n_staff"] = out["n_staff"] / model.cfg.territory.staff_scale
    out["kind"] = pd.array([KINDS[k] for k in out["kind"]], dtype="string")
    out["category"] = pd.array([CATEGORIES[k] for k in out["category"]], dtype="string")
    out["job_family"] = pd.array([JOB_FAMILIES[k] for k in out["job_family"]], dtype="string")
    return out


def staff_table(model, sample: float = 1.0) -> pd.DataFrame:
    """One row per current staff member, or a uniform random sample of ``sample`` of them
    (drawn with the model's generator, after the run; rows stay in staff order)."""
    st = model.staff
    rows = st.active_rows()
    if sample < 1.0:
        k = round(sample * len(rows))
        rows = rows[np.sort(model.rng.choice(len(rows), size=k, replace=False))]
    return pd.DataFrame(
        {
            "id": st.uid[rows],  # the Staff agent's unique_id (agents are created on demand)
            "employer_code": np.asarray(model.colls.codes, dtype=object)[st.employer[rows]],
            "category": [CATEGORIES[k] for k in st.category[rows]],
            "job_family": [JOB_FAMILIES[k] for k in st.job_family[rows]],
            "age": st.age[rows],
            "skill": st.skill[rows],
            "attitude": st.attitude[rows],
            # Missing (<NA>) for staff never trained.
            "last_training_step": pd.Series(st.last_training[rows])
            .where(st.last_training[rows] != NEVER)
            .astype("Int32"),
        }
    )


def environment() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    def v(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {
        "package_version": v("digital-transition-sim"),
        "mesa_version": v("mesa"),
        "numpy_version": v("numpy"),
        "python_version": platform.python_version(),
    }


def write_manifest(
    out_dir: Path, *, config: dict, overrides: list[str], seed: int, wall_time_s: float, n_steps: int, files: list[str]
) -> dict:
    manifest = {
        "status": "complete",
        "seed": seed,
        "config": config,
        "config_hash": config_hash(config),
        "overrides": list(overrides),
        "wall_time_s": round(wall_time_s, 3),
        "n_steps": n_steps,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {f: sha256(out_dir / f) for f in files},
        **environment(),
    }
    write_json(manifest, out_dir / MANIFEST)
    return manifest


def read_manifest(out_dir: Path) -> dict | None:
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def is_complete(out_dir: Path, expected_hash: str | None = None) -> bool:
    """True if the run in ``out_dir`` finished and its files match the manifest."""
    m = read_manifest(out_dir)
    if not m or m.get("status") != "complete":
        return False
    if expected_hash is not None and m.get("config_hash") != expected_hash:
        return False
    return all((Path(out_dir) / f).exists() and sha256(Path(out_dir) / f) == h for f, h in m.get("files", {}).items())
