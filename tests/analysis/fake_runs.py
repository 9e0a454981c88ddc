"""Write run folders exactly as docs/OUTPUTS.md specifies, with values known in advance.

``make_sweep(root)`` writes a Hydra-style multirun (``multirun/2026-11-23/17-45-00/<job>/``)
of the scenarios in :data:`END` x :data:`SEEDS`, plus, on request, four bad runs:

* ``truncated``  - complete manifest, but timeseries.parquet cut in half (sha mismatch, no footer);
* ``tampered``   - complete manifest, timeseries.parquet rewritten with absurd values (sha mismatch only);
* ``failed``     - error.json, no manifest;
* ``incomplete`` - .hydra/ and timeseries.parquet but no manifest (killed run).

Values: for scenario ``s``, seed index ``k`` and an end-of-run metric ``m``, the value at
the last step (``N_STEPS``) is ``END[s][m][k]``; at step ``t`` it is
``END[s][m][k] * (0.5 + 0.5 * t / N_STEPS)``.  ``spend_total_eur`` is 0 at step 0 and
``SPEND[s][k]`` euros at every later step, so a run's total cost is ``N_STEPS * SPEND[s][k]``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

SEEDS = [0, 1, 2, 3, 4]
N_STEPS = 4
START_YEAR = 2021.0
ABSURD = 1.0e6  # the tampered run's values: would wreck any mean it got into

#: End-of-run values per scenario and metric, one per seed (index = position in SEEDS).
END: dict[str, dict[str, list[float]]] = {
    "baseline": {
        "maturity_mean": [0.30, 0.32, 0.29, 0.33, 0.31],
        "staff_proficient_share": [0.50, 0.52, 0.48, 0.51, 0.49],
        "eservice_use_share": [0.40, 0.41, 0.39, 0.42, 0.38],
        "maturity_gini": [0.40, 0.42, 0.41, 0.39, 0.43],
        "gap_size": [0.20, 0.22, 0.18, 0.21, 0.19],
        "gap_rural_urban": [0.10, 0.12, 0.09, 0.11, 0.08],
        "staff_illectronism_share": [0.20, 0.21, 0.19, 0.22, 0.18],
        "inhabitants_excluded_share": [0.15, 0.16, 0.14, 0.15, 0.15],
    },
    "training_first": {
        "maturity_mean": [0.36, 0.37, 0.35, 0.40, 0.37],
        "staff_proficient_share": [0.60, 0.62, 0.58, 0.63, 0.57],
        "eservice_use_share": [0.45, 0.44, 0.46, 0.47, 0.43],
        "maturity_gini": [0.35, 0.36, 0.37, 0.33, 0.34],
        "gap_size": [0.15, 0.16, 0.14, 0.17, 0.13],
        "gap_rural_urban": [0.06, 0.07, 0.05, 0.08, 0.04],
        "staff_illectronism_share": [0.12, 0.13, 0.11, 0.14, 0.10],
        "inhabitants_excluded_share": [0.14, 0.15, 0.13, 0.14, 0.14],
    },
    "mediation": {
        "maturity_mean": [0.31, 0.34, 0.30, 0.33, 0.32],
        "staff_proficient_share": [0.51, 0.54, 0.49, 0.51, 0.50],
        "eservice_use_share": [0.50, 0.52, 0.49, 0.53, 0.51],
        "maturity_gini": [0.38, 0.41, 0.38, 0.37, 0.41],
        "gap_size": [0.19, 0.20, 0.17, 0.21, 0.18],
        "gap_rural_urban": [0.09, 0.10, 0.08, 0.11, 0.07],
        "staff_illectronism_share": [0.19, 0.21, 0.18, 0.20, 0.17],
        "inhabitants_excluded_share": [0.08, 0.09, 0.07, 0.09, 0.07],
    },
}

#: Euros spent per step (steps 1..N_STEPS; step 0 spends nothing), per seed.
SPEND: dict[str, list[float]] = {
    "baseline": [1000.0, 1000.0, 1000.0, 1000.0, 1000.0],
    "training_first": [3000.0, 3100.0, 2900.0, 3050.0, 2950.0],
    "mediation": [2000.0, 2000.0, 2100.0, 1900.0, 2000.0],
}

POP_BANDS = ["<500", "500-1999", "2000-9999", ">=10000"]
#: Offset of each population band's maturity from the scenario's maturity_mean at the end.
POP_BAND_OFFSET = [-0.10, -0.05, 0.05, 0.10]
RURALITY_OFFSET = {"rural": -0.04, "urban": 0.04}

#: Collectivités of every run: (kind, population, pop_band, rurality, maturity offset).
COLLECTIVITES = [
    ("commune", 300, "<500", "rural", -0.10),
    ("commune", 1200, "500-1999", "rural", -0.05),
    ("commune", 5000, "2000-9999", "urban", 0.0),
    ("commune", 40000, ">=10000", "urban", 0.15),
    ("epci", 46500, ">=10000", "urban", 0.0),
]

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


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def end_value(scenario: str, seed_index: int, metric: str) -> float:
    return END[scenario][metric][seed_index]


def value_at(end: float, step: int) -> float:
    return end * (0.5 + 0.5 * step / N_STEPS)


def timeseries_rows(scenario: str, k: int, scale: float = 1.0) -> dict[str, list[Any]]:
    """All rows of one run's timeseries (``scale`` multiplies every value)."""
    cols: dict[str, list[Any]] = {n: [] for n in TIMESERIES_SCHEMA.names}

    def add(step: int, kind: str, stratum: str, metric: str, value: float) -> None:
        cols["step"].append(step)
        cols["year"].append(START_YEAR + step / 4)
        cols["stratum_kind"].append(kind)
        cols["stratum"].append(stratum)
        cols["metric"].append(metric)
        cols["value"].append(value * scale)

    for step in range(N_STEPS + 1):
        for metric, ends in END[scenario].items():
            add(step, "all", "all", metric, value_at(ends[k], step))
        spend = 0.0 if step == 0 else SPEND[scenario][k]
        add(step, "all", "all", "spend_total_eur", spend)
        add(step, "all", "all", "spend_training_eur", spend / 2)
        mat = value_at(END[scenario]["maturity_mean"][k], step)
        for band, off in zip(POP_BANDS, POP_BAND_OFFSET, strict=True):
            add(step, "pop_band", band, "maturity_mean", mat + off)
        for rur, off in RURALITY_OFFSET.items():
            add(step, "rurality", rur, "maturity_mean", mat + off)
    return cols


def write_parquet(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def collectivites_table(scenario: str, k: int) -> pa.Table:
    mat = END.get(scenario, END["baseline"])["maturity_mean"][k]
    excluded = END.get(scenario, END["baseline"])["inhabitants_excluded_share"][k]
    rows = []
    for i, (kind, pop, band, rur, off) in enumerate(COLLECTIVITES):
        rows.append(
            {
                "id": i + 1,
                "code": f"C{i:03d}",
                "name": f"Collectivité {i}",
                "kind": kind,
                "population": pop,
                "pop_band": band,
                "rurality": rur,
                "epci": "E1",
                "departement": "D1",
                "region": "R1",
                "maturity": mat + off,
                "profile": "Observateur",
                "services_online": 3.0,
                "open_data": i % 2 == 0,
                "it_capacity": 1.0,
                "pooled": False,
                "pool_id": -1,
                "sponsorship": 0.0,
                "budget_eur": 1000.0 * (i + 1),
                "inhabitants_illectronism": 0.2,
                "inhabitants_excluded": excluded * (1.2 if rur == "rural" else 0.8),
                "eservice_use": 0.4,
                "n_staff": 10 * (i + 1),
                "staff_mean_skill": 0.5,
                "staff_illectronism_share": 0.2,
                "staff_proficient_share": 0.5,
                "x": 0.1 + 0.2 * i,
                "y": 0.9 - 0.15 * i,
            }
        )
    return pa.Table.from_pylist(rows)


def staff_table(scenario: str, k: int) -> pa.Table:
    rows = [
        {
            "kind": kind,
            "category": cat,
            "job_family": "admin",
            "n_staff": 10,
            "mean_skill": 0.5,
            "mean_age": 45.0,
            "illectronism_share": END.get(scenario, END["baseline"])["staff_illectronism_share"][k],
            "proficient_share": END.get(scenario, END["baseline"])["staff_proficient_share"][k],
            "trained_share": 0.3,
        }
        for kind in ("commune", "epci")
        for cat in ("A", "B", "C")
    ]
    return pa.Table.from_pylist(rows)


def config_for(scenario: str, seed: int, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "seed": seed,
        "scenario": {"name": scenario, "training_first": scenario == "training_first"},
        "territory": {"n_communes": 40},
        "simulation": {"years": 1, "steps_per_year": 4},
        "training": {"budget_eur_per_agent": 100.0},
    }
    for key, value in (extra or {}).items():
        node = cfg
        *parents, last = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return cfg


def write_run(
    run_dir: Path,
    scenario: str,
    seed_index: int,
    *,
    overrides: Iterable[str] | None = None,
    extra_config: Mapping[str, Any] | None = None,
    timeseries: dict[str, list[Any]] | None = None,
) -> Path:
    """Write one complete run (tables, .hydra/overrides.yaml, manifest.json last)."""
    seed = SEEDS[seed_index]
    run_dir.mkdir(parents=True, exist_ok=True)
    ov = list(overrides) if overrides is not None else [f"scenario={scenario}", f"seed={seed}"]
    hydra = run_dir / ".hydra"
    hydra.mkdir(exist_ok=True)
    (hydra / "overrides.yaml").write_text("".join(f"- {o}\n" for o in ov), encoding="utf-8")
    ts = timeseries if timeseries is not None else timeseries_rows(scenario, seed_index)
    write_parquet(run_dir / "timeseries.parquet", pa.table(ts, schema=TIMESERIES_SCHEMA))
    write_parquet(run_dir / "collectivites.parquet", collectivites_table(scenario, seed_index))
    write_parquet(run_dir / "staff_summary.parquet", staff_table(scenario, seed_index))
    (run_dir / "figures").mkdir(exist_ok=True)
    files = {
        name: sha256_file(run_dir / name)
        for name in ("timeseries.parquet", "collectivites.parquet", "staff_summary.parquet")
    }
    config = config_for(scenario, seed, extra_config)
    manifest = {
        "status": "complete",
        "seed": seed,
        "config": config,
        "config_hash": hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest(),
        "overrides": ov,
        "package_version": "0.0.0",
        "mesa_version": "3.5.1",
        "python_version": "3.12",
        "wall_time_s": 0.5,
        "n_steps": N_STEPS,
        "created_utc": "2026-11-23T17:45:00Z",
        "files": files,
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return run_dir


BAD_KINDS = ("truncated", "tampered", "failed", "incomplete")


def write_bad_run(run_dir: Path, kind: str, scenario: str = "baseline", seed_index: int = 0) -> Path:
    """Write one of the bad runs described in the module docstring."""
    if kind == "truncated":
        write_run(run_dir, scenario, seed_index)
        ts = run_dir / "timeseries.parquet"
        data = ts.read_bytes()
        ts.write_bytes(data[: len(data) // 2])
    elif kind == "tampered":
        write_run(run_dir, scenario, seed_index)
        table = pa.table(timeseries_rows(scenario, seed_index, scale=ABSURD), schema=TIMESERIES_SCHEMA)
        write_parquet(run_dir / "timeseries.parquet", table)
    elif kind == "failed":
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / ".hydra").mkdir(exist_ok=True)
        error = {"status": "failed", "error": "ValueError: budget must be >= 0", "traceback": "Traceback ..."}
        (run_dir / "error.json").write_text(json.dumps(error), encoding="utf-8")
    elif kind == "incomplete":
        write_run(run_dir, scenario, seed_index)
        (run_dir / "manifest.json").unlink()
    else:
        raise ValueError(kind)
    return run_dir


def sweep_dir(root: Path) -> Path:
    return root / "multirun" / "2026-11-23" / "17-45-00"


def make_sweep(
    root: Path,
    scenarios: Iterable[str] = ("baseline", "training_first", "mediation"),
    n_seeds: int = len(SEEDS),
    bad: Iterable[str] = BAD_KINDS,
) -> dict[str, Path]:
    """Write the sweep; return {"good": [...], kind: path} with the run folders by kind."""
    base = sweep_dir(root)
    base.mkdir(parents=True, exist_ok=True)
    (base / "multirun.yaml").write_text("hydra: {}\n", encoding="utf-8")
    job = 0
    good = []
    for scenario in scenarios:
        for k in range(n_seeds):
            good.append(write_run(base / str(job), scenario, k))
            job += 1
    out: dict[str, Any] = {"good": good}
    for kind in bad:
        out[kind] = write_bad_run(base / str(job), kind)
        job += 1
    return out


def grid_value(x: float, y: float, seed: int) -> float:
    """maturity_mean at the end of a grid run: depends on both swept parameters and the seed."""
    return 0.1 + 0.001 * x + 0.5 * y + 0.01 * seed


def make_grid_sweep(
    root: Path, xs: Iterable[float] = (0, 100, 200), ys: Iterable[float] = (0.1, 0.2), n_seeds: int = 2
) -> Path:
    """A 2D sweep over training.budget_eur_per_agent (x) and mediation.coverage (y)."""
    base = root / "grid"
    job = 0
    for x in xs:
        for y in ys:
            for k in range(n_seeds):
                seed = SEEDS[k]
                ts = timeseries_rows("baseline", k)
                ts = {c: list(v) for c, v in ts.items()}
                for i, (step, metric) in enumerate(zip(ts["step"], ts["metric"], strict=True)):
                    if metric == "maturity_mean" and ts["stratum_kind"][i] == "all":
                        ts["value"][i] = value_at(grid_value(x, y, seed), step)
                write_run(
                    base / str(job),
                    "baseline",
                    k,
                    overrides=[f"training.budget_eur_per_agent={x}", f"mediation.coverage={y}", f"seed={seed}"],
                    timeseries=ts,
                )
                job += 1
    return base


def run_rows(end: Mapping[str, float], spend_per_step: float, n_steps: int = N_STEPS) -> dict[str, list[Any]]:
    """Timeseries rows of a run whose metrics end at ``end`` (linear from half) and that spends
    ``spend_per_step`` euros at every step after 0 (as spend_total_eur and spend_levers_eur)."""
    cols: dict[str, list[Any]] = {n: [] for n in TIMESERIES_SCHEMA.names}
    for step in range(n_steps + 1):
        rows = [(m, value_at(v, step)) for m, v in end.items()]
        spend = 0.0 if step == 0 else spend_per_step
        rows += [("spend_total_eur", spend), ("spend_levers_eur", spend)]
        for metric, value in rows:
            cols["step"].append(step)
            cols["year"].append(START_YEAR + step / 4)
            cols["stratum_kind"].append("all")
            cols["stratum"].append("all")
            cols["metric"].append(metric)
            cols["value"].append(value)
    return cols


#: Equal-budget fake: outcome = base + effect per 100 EUR x level / 100, by arm; seeds shift every arm.
EQUAL_BUDGET_ARMS = {
    "equal_budget_training": 0.02,
    "equal_budget_recruitment": 0.01,
    "equal_budget_mutualisation": 0.03,
}
EQUAL_BUDGET_LEVELS = (50, 100, 200)


def equal_budget_maturity(arm: str, level: float, seed: int) -> float:
    base = 0.30 + 0.01 * seed
    return base if arm == "business_as_usual" else base + EQUAL_BUDGET_ARMS[arm] * level / 100


def make_equal_budget_sweep(root: Path, n_seeds: int = 3) -> Path:
    """The equal-budget experiment's layout: business_as_usual run (identically) at every budget level."""
    base = root / "equal_budget"
    for level in EQUAL_BUDGET_LEVELS:
        for arm in ("business_as_usual", *EQUAL_BUDGET_ARMS):
            for k in range(n_seeds):
                seed = SEEDS[k]
                mat = equal_budget_maturity(arm, level, seed)
                spend = 1000.0 if arm == "business_as_usual" else 1000.0 + 10.0 * level
                ts = run_rows({"maturity_mean": mat, "maturity_gini": 0.5 - mat / 2}, spend)
                ov = [f"equal_budget_eur_per_staff={level}", f"scenario={arm}", f"seed={seed}"]
                write_run(base / f"{level}_{arm}_{seed}", arm, k, overrides=ov, timeseries=ts)
    return base


def make_ensemble_sweep(root: Path, members: int = 4, n_seeds: int = 3) -> Path:
    """Scenarios x parameter sets (``ensemble.member``) x seeds: ``good`` beats the baseline by
    0.02 x (member - 1): worse for member 0, equal for member 1, better for members 2 and 3."""
    base = root / "ensemble"
    for member in range(members):
        for scenario in ("business_as_usual", "good"):
            for k in range(n_seeds):
                seed = SEEDS[k]
                mat = 0.3 + 0.01 * seed + 0.05 * member + (0.02 * (member - 1) if scenario == "good" else 0.0)
                ts = run_rows({"maturity_mean": mat}, 1000.0)
                ov = [f"ensemble.member={member}", f"scenario={scenario}", f"seed={seed}"]
                write_run(base / f"{member}_{scenario}_{seed}", scenario, k, overrides=ov, timeseries=ts)
    return base


def discovery_gain(effect: float, coverage: float) -> float:
    """How much ``good`` lowers the Gini against the baseline: only where the training effect is high
    and the pooling coverage low (a box to discover)."""
    return 0.05 if effect > 0.5 and coverage < 0.5 else -0.01


def make_discovery_sweep(root: Path, n: int = 6, n_seeds: int = 2) -> Path:
    """Two scenarios over an n x n grid of behaviour.training_effect x mutualisation.coverage, x seeds."""
    base = root / "discovery"
    values = [round((i + 0.5) / n, 4) for i in range(n)]
    for effect in values:
        for coverage in values:
            for scenario in ("business_as_usual", "good"):
                for k in range(n_seeds):
                    seed = SEEDS[k]
                    gini = 0.4 + 0.01 * seed - (discovery_gain(effect, coverage) if scenario == "good" else 0.0)
                    ts = run_rows({"maturity_gini": gini, "maturity_mean": 0.3 + 0.1 * effect}, 1000.0)
                    ov = [f"behaviour.training_effect={effect}", f"mutualisation.coverage={coverage}",
                          f"scenario={scenario}", f"seed={seed}"]  # fmt: skip
                    write_run(base / f"{effect}_{coverage}_{scenario}_{seed}", scenario, k, overrides=ov, timeseries=ts)
    return base


#: Scenarios with long names for layout tests (the named scenarios of conf/scenario/).
MANY_SCENARIOS = (
    "business_as_usual", "massive_targeted_training", "mutualisation_first", "recruitment_first", "mediation",
    "leadership_first", "peer_networks", "combined", "equal_budget_mutualisation",
)  # fmt: skip


def make_many_scenarios(root: Path, n_seeds: int = 3) -> Path:
    """Every headline metric for nine scenarios x seeds, with collectivités: a report as wide as real ones."""
    base = root / "many"
    for i, scenario in enumerate(MANY_SCENARIOS):
        for k in range(n_seeds):
            shift = 0.01 * i + 0.002 * k
            end = {
                "maturity_mean": 0.3 + shift, "services_online_mean": 0.4 + shift, "staff_proficient_share": 0.2 + shift,
                "eservice_use_share": 0.3 + shift, "maturity_gini": 0.3 - shift / 2, "gap_size": 0.2 - shift / 3,
                "gap_rural_urban": -0.1 + shift / 4, "staff_illectronism_share": 0.15 - shift / 5,
                "inhabitants_excluded_share": 0.14 - shift,
            }  # fmt: skip
            ts = run_rows(end, 1.0e6 * (1 + i) + 1000.0 * k)
            ov = [f"scenario={scenario}", f"seed={SEEDS[k]}"]
            write_run(base / f"{scenario}_{k}", scenario, k, overrides=ov, timeseries=ts)
    return base
