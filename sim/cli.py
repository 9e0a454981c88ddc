"""Command line: ``python -m sim [overrides]`` (or ``dtsim``) runs one configuration with Hydra.

Hydra composes ``conf/config.yaml`` with the overrides and rejects unknown keys and wrong
types (structured configs); ranges and choices are checked before anything is written (a
refused configuration leaves no directory). ``-m`` sweeps over parameters, scenarios and
seeds with the project's sweeper and launcher (``hydra_plugins/sim_sweeps``, docs/SWEEPS.md):
every job is validated before the first runs, jobs whose complete outputs exist for the same
configuration and model code are skipped, a failing job records ``error.json`` and the others
go on, and the sweep ends with a summary and a non-zero status if any job failed.

Errors a user can fix (a YAML syntax error, an unknown option, an invalid value, an output
directory that cannot be written, Ctrl-C) end with a short message and status 2 (1 for the
output directory, 130 for Ctrl-C); ``HYDRA_FULL_ERROR=1`` shows the full traceback.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.api import CONF_DIR
from sim.config import ConfigError, register_configs, to_config
from sim.run import record_failure, run_simulation
from sim.store import ERROR, JobLocked
from sim.sweeps import JobFailed, SweepFailed, SweepRefused, task_config, watch_sweep_parent_from_env

log = logging.getLogger("sim")
register_configs()


# A joblib worker imports this module to unpickle its first job: from then on it exits if the
# sweep's process dies (the task function does the same in any job's process).
watch_sweep_parent_from_env(workers_only=True)

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def _explicit(overrides: list[str], key: str) -> bool:
    return any(o.lstrip("+~").split("=", 1)[0] == key for o in overrides)


def sweep_settings(config, overrides: list[str]):
    """In a sweep, no figures and no progress bar for each job unless asked for on the command
    line (or in the experiment's sweep parameters): a sweep's jobs are read with the analysis
    package, and figures cost more than a small run (docs/SWEEPS.md)."""
    changes = {key: False for key in ("figures", "progress") if not _explicit(overrides, f"simulation.{key}")}
    if not changes:
        return config
    return dataclasses.replace(config, simulation=dataclasses.replace(config.simulation, **changes))


def task(cfg: DictConfig) -> dict:
    """Hydra's task function: one job (a single run or one job of a sweep)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    multirun = hc.mode == RunMode.MULTIRUN
    if multirun:
        watch_sweep_parent_from_env()
    try:
        config = to_config(cfg)
    except ConfigError as exc:
        if not multirun:  # checked before the run directory is made (ValidateRun): unreachable
            raise
        record_failure(out_dir, exc, overrides)
        log.error("%s: %s", out_dir.name, exc)
        raise JobFailed(f"ConfigError: {exc}") from None
    if multirun:
        config = sweep_settings(config, overrides)
    try:
        result = run_simulation(config, out_dir, overrides=overrides)
    except JobLocked as exc:
        if not multirun:
            raise
        log.error("%s", exc)
        raise JobFailed(f"locked: {exc}") from None
    except Exception as exc:
        if not multirun:
            log.error("run failed: %s: %s (error.json written in %s)", type(exc).__name__, exc, out_dir)
            raise
        log.error("%s failed: %s: %s (traceback in %s)", out_dir.name, type(exc).__name__, exc, out_dir / ERROR)
        raise JobFailed(f"{type(exc).__name__}: {exc}") from None
    status = "skipped" if result.skipped else "complete"
    log.info("%s: %s", status, out_dir)
    if not multirun:
        print(f"Outputs written to {out_dir}" if not result.skipped else f"Complete outputs already in {out_dir}")
        for name in sorted(result.manifest.get("files", {})):
            print(f"  {out_dir / name}")
    return {"status": status, "dir": str(out_dir)}


# ------------------------------------------------------------------------------ --help
#: Parameters shown by ``--help`` (their text, default and range come from sim/config.py).
MAIN_OPTIONS = (
    "seed",
    "territory.kind",
    "territory.n_communes",
    "territory.departements",
    "territory.staff_scale",
    "simulation.years",
    "simulation.figures",
    "simulation.progress",
    "simulation.staff_table",
    "equal_budget_eur_per_staff",
)
#: What a sweep changes in a job's settings (sim.cli.sweep_settings).
SWEEP_NOTES = {
    "simulation.figures": "In a sweep (-m): off unless set on the command line.",
    "simulation.progress": "In a sweep (-m): off unless set on the command line.",
}
#: Config groups that are not a section of the configuration.
PRESET_GROUPS = {
    "scenario": "Policy scenario: a named combination of levers (docs/SCENARIOS.md)",
    "stress": "Stress test (a list composes: stress=[lockdown,cyber_attack])",
    "experiment": "Ready-made sweep, with -m (experiments/README.md)",
}


def _defaults() -> dict:
    import yaml

    entries = yaml.safe_load((CONF_DIR / "config.yaml").read_text(encoding="utf-8")).get("defaults", [])
    return {k: v for e in entries if isinstance(e, dict) for k, v in e.items()}


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def _wrap(text: str, indent: int, width: int = 100) -> str:
    import textwrap

    pad = " " * indent
    return textwrap.fill(" ".join(text.split()), width, initial_indent=pad, subsequent_indent=pad)[indent:]


def help_text() -> str:
    """The text of ``python -m sim --help``, built from conf/ and sim/config.py."""
    from sim.config import GROUPS, iter_params

    defaults = _defaults()
    lines = [
        "dtsim (python -m sim): agent-based simulator of the digital transition of French",
        "collectivités territoriales and their staff (Mesa + Hydra). One run simulates a territory",
        "quarter by quarter and writes tidy Parquet tables, figures and a manifest (docs/OUTPUTS.md).",
        "",
        "Usage:",
        "  python -m sim [OVERRIDE ...]           one run, into outputs/<scenario>/<date>_seed<seed>/",
        "  python -m sim -m [OVERRIDE ...]        a sweep: every combination of comma-separated values,",
        "                                         e.g. seed='range(0,10)' scenario=mediation,combined",
        "  python -m sim --cfg job [OVERRIDE ...] print the composed configuration, run nothing",
        "An OVERRIDE is group=option (a preset from conf/) or dotted.key=value (one parameter).",
        "",
        "Config groups (group=option; * marks the default):",
    ]
    titles = {name: cls.__group_title__ for name, cls in GROUPS.items()} | PRESET_GROUPS
    for group in [*GROUPS, *PRESET_GROUPS]:
        if not (CONF_DIR / group).is_dir():
            continue
        default = defaults.get(group)
        opts = ", ".join(o + ("*" if o == default else "") for o in _options(group))
        lines.append(f"  {group:<16}{_wrap(titles[group] + ': ' + opts, 18)}")
    lines += [
        "  hydra/launcher  How a sweep runs its jobs: sim* (one after the other in this process;",
        "                  hydra.launcher.n_jobs=N runs N at a time), local_parallel (2 at a time),",
        "                  slurm (a SLURM job array, hydra.launcher.batch_size runs per array task)",
        "",
        "Main options (key=value; every parameter in docs/PARAMETERS.md):",
    ]
    fields = {path: (f, default) for path, f, default in iter_params()}
    for path in MAIN_OPTIONS:
        if path not in fields:
            continue
        f, default = fields[path]
        meta = f.metadata or {}
        lo, hi, unit = meta.get("lo"), meta.get("hi"), f" {meta['unit']}" if meta.get("unit") else ""
        bits = [meta.get("help", ""), SWEEP_NOTES.get(path, "")]
        if meta.get("choices"):
            bits.append("One of: " + ", ".join(map(str, meta["choices"])) + ".")
        elif lo is not None and hi is not None:
            bits.append(f"From {lo} to {hi}{unit}.")
        elif lo is not None:
            bits.append(f"At least {lo}{unit}.")
        elif hi is not None:
            bits.append(f"At most {hi}{unit}.")
        value = str(default).lower() if isinstance(default, bool) else default
        lines.append(f"  {path}={value}")
        lines.append("      " + _wrap(" ".join(b for b in bits if b), 6))
    lines += [
        "  hydra.run.dir=DIR, hydra.sweep.dir=DIR",
        "      Output directory of a run, of a sweep. Give a sweep a stable name to relaunch it: complete runs",
        "      are skipped, failed and missing ones done.",
        "",
        "Examples:",
        "  python -m sim scenario=massive_targeted_training territory=small seed=3",
        "  python -m sim -m scenario=business_as_usual,mediation seed='range(0,5)' hydra.sweep.dir=multirun/demo",
        "  python -m sim -m experiment=scenario_comparison hydra.launcher.n_jobs=2",
        "  python -m analysis report multirun/demo -o report.html",
        "",
        "Documentation: README.md and docs/ (SWEEPS.md: sweeps, launchers, relaunching; SCENARIOS.md;",
        "PARAMETERS.md). Hydra's own flags (--cfg, --multirun, --config-dir...): python -m sim --hydra-help",
    ]
    return "\n".join(lines).replace("$", "$$")  # Hydra fills $-placeholders in the template


if not OmegaConf.has_resolver("sim_help"):
    OmegaConf.register_new_resolver("sim_help", help_text)


class ValidateRun(Callback):
    """Checks a single run's configuration before Hydra makes its directory (no empty run
    directory for a refused configuration). Sweeps are checked by the sweeper."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        try:
            to_config(task_config(config))
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(EXIT_USAGE)


_hydra_main = hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")(task)


# ------------------------------------------------------------------------------ short errors
def describe(exc: BaseException) -> tuple[int, str] | None:
    """(exit status, message) for an error the user can fix; None for a bug (traceback)."""
    import yaml
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(exc, SweepFailed):
        return EXIT_FAILED, str(exc)
    if isinstance(exc, (SweepRefused, ConfigError)):
        return EXIT_USAGE, f"error: {exc}"
    if isinstance(exc, JobLocked):
        return EXIT_FAILED, f"error: {exc}; wait for it to finish or use another output directory"
    if isinstance(exc, yaml.YAMLError):
        return EXIT_USAGE, f"error: YAML syntax error in a configuration file:\n{exc}"
    if isinstance(exc, (HydraException, OmegaConfBaseException)):
        text = str(exc)
        if isinstance(exc.__cause__, (OmegaConfBaseException, yaml.YAMLError)):
            text += f"\n{exc.__cause__}"
        return EXIT_USAGE, f"error: {text}\n(python -m sim --help lists the config groups and main options)"
    if isinstance(exc, OSError) and exc.filename:
        return EXIT_FAILED, (
            f"error: {exc.filename}: {exc.strerror or exc}\n"
            "(output directories: hydra.run.dir=DIR for a run, hydra.sweep.dir=DIR for a sweep)"
        )
    return None


def main() -> None:
    """Entry point of ``dtsim`` and ``python -m sim``: Hydra, with short messages for errors
    the user can fix and a non-zero status when a sweep has failed jobs."""
    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let exceptions reach us instead of Hydra's report
    try:
        _hydra_main()
    except KeyboardInterrupt:
        sys.stderr.write(
            "\ninterrupted. Files being written were discarded; relaunch the same command to "
            "resume (complete runs are skipped).\n"
        )
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        described = None if full_error else describe(exc)
        if described is None:
            raise
        code, message = described
        sys.stderr.write(message.rstrip() + "\n")
        sys.exit(code)
    finally:
        if not full_error:
            os.environ.pop("HYDRA_FULL_ERROR", None)


if __name__ == "__main__":
    main()
