"""Run directories on disk: atomic writes, checksums, the manifest, a lock, safe resumption.

A run directory holds the files of one run and, written last, ``manifest.json``, which lists
every file with the sha256 of the bytes *this run* wrote (hashed before the file is renamed
into place): a manifest never certifies data that another process wrote. The rules kept here
(docs/SWEEPS.md, "Crash safety"):

- every file is written under a temporary name (``<name>.<random>.tmp``) in its directory and
  renamed into place; the temporary files of a killed run are removed by the next run of the
  directory (:func:`clean_stale_tmp`);
- one process at a time writes a run directory (:func:`job_lock`): another one is refused at
  once with the holder's pid and host;
- ``error.json`` never stays beside a manifest: a success removes it before writing the
  manifest, a failure moves an earlier run aside before writing it (:func:`record_error`);
- files are only read, checked or moved inside their run directory: a manifest that names a
  path outside it (absolute, ``..``, a symbolic link leading out) is not complete, and such a
  path is never moved (:func:`confined`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on POSIX: no locking (see job_lock)
    fcntl = None

log = logging.getLogger("sim")

MANIFEST = "manifest.json"
ERROR = "error.json"
LOCK = ".lock"
#: Subdirectory of a run directory where the files of an earlier, different run are kept.
SUPERSEDED = "superseded"
TMP_SUFFIX = ".tmp"
#: Names a manifest may not list as files of its run.
RESERVED = frozenset({MANIFEST, ERROR, LOCK, SUPERSEDED})

_UMASK = os.umask(0)
os.umask(_UMASK)


# ------------------------------------------------------------------------------ writing
@contextmanager
def atomic_path(path: Path, digests: dict[str, str] | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only on success.

    With ``digests``, the sha256 of the temporary file is stored under ``str(path)`` before
    the rename: the checksum of what this process wrote, whatever happens to ``path`` later.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the usual permissions
        if digests is not None:
            digests[str(path)] = sha256(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_parquet(df, path: Path) -> str:
    """Write a DataFrame atomically (zstd Parquet); return the sha256 of the bytes written."""
    digests: dict[str, str] = {}
    with atomic_path(path, digests) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    return digests[str(path)]


def write_json(obj, path: Path) -> str:
    """Write JSON atomically; return the sha256 of the bytes written."""
    digests: dict[str, str] = {}
    with atomic_path(path, digests) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))
    return digests[str(path)]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def clean_stale_tmp(directory: Path) -> list[Path]:
    """Remove the temporary files (``*.tmp``) a killed run left in a run directory and its
    ``figures/``. Call it holding the directory's lock: no live writer then owns them."""
    removed = []
    for sub in (Path(directory), Path(directory) / "figures"):
        if not sub.is_dir() or sub.is_symlink():
            continue
        for p in sub.glob("*" + TMP_SUFFIX):
            if p.is_file() and not p.is_symlink():
                p.unlink()
                removed.append(p)
    if removed:
        log.info("removed %d temporary file(s) of an interrupted run in %s", len(removed), directory)
    return removed


# ------------------------------------------------------------------------------ lock
class JobLocked(RuntimeError):
    """Another process holds the lock of this run directory."""


_warned_no_lock: set[str] = set()


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).split(b"\n")[0] or b"{}")
        return f"pid {info['pid']} on {info['host']} since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


@contextmanager
def job_lock(directory: Path) -> Iterator[int | None]:
    """Hold the exclusive lock of a run directory; raise :class:`JobLocked` at once if another
    process (or another open of it in this process) holds it. Yields the lock's file descriptor
    (None when unlocked): a child process given it (``pass_fds``) keeps the lock until it exits,
    even if this process dies first.

    ``flock`` on ``<directory>/.lock``, released by the kernel if the process dies; the file is
    removed on release. On a file system without ``flock`` (some Lustre mounts), a warning is
    logged once and the run goes on unlocked: checksums taken at write time still keep a
    manifest from certifying another run's files.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / LOCK
    if fcntl is None:
        yield None
        return
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise JobLocked(f"{d} is being written by another process ({holder})") from None
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
            if str(d.parent) not in _warned_no_lock:
                _warned_no_lock.add(str(d.parent))
                log.warning("no file locking on the file system of %s (%s): runs are not locked", d, exc)
            yield None
            return
        # A holder that released the lock removed the file: our lock may be on that removed
        # file while a third process locks a new one. Only a lock on the current file counts.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        # One line, read back by _holder. No truncation: on ext4, closing a file truncated to
        # zero forces its write-back (auto_da_alloc), 10-30 ms; a leftover longer line from a
        # killed holder only makes the holder "unknown".
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now()}
        os.pwrite(fd, json.dumps(info).encode() + b"\n", 0)
        yield fd
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


# ------------------------------------------------------------------------------ reading
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def confined(directory: Path, name: object) -> Path | None:
    """``directory / name`` if ``name`` is a relative path that stays inside ``directory``
    (symbolic links resolved) and is not one of the directory's own files; else None."""
    if not isinstance(name, str) or not name or "\x00" in name:
        return None
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts or rel.parts[0] in RESERVED:
        return None
    full = Path(directory) / rel
    root = os.path.realpath(directory)
    real = os.path.realpath(full)
    if real == root or os.path.commonpath([root, real]) != root:
        return None
    return full


def read_manifest(out_dir: Path) -> dict | None:
    path = Path(out_dir) / MANIFEST
    try:
        m = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def files_check(out_dir: Path, manifest: dict) -> bool:
    """True if every file the manifest lists is inside ``out_dir`` and has its sha256."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for name, digest in files.items():
        path = confined(out_dir, name)
        if path is None or not path.is_file() or sha256(path) != digest:
            return False
    return True


def is_complete(out_dir: Path, expected_hash: str | None = None, code_hash: str | None = None) -> bool:
    """True if the run in ``out_dir`` finished and its files match the manifest (and, when
    given, it is of configuration ``expected_hash`` and model code ``code_hash``)."""
    m = read_manifest(out_dir)
    if not m or m.get("status") != "complete":
        return False
    if expected_hash is not None and m.get("config_hash") != expected_hash:
        return False
    if code_hash is not None and m.get("code_hash") != code_hash:
        return False
    return files_check(out_dir, m)


def run_state(out_dir: Path, config_hash: str, code_hash: str) -> tuple[str, dict | None]:
    """What a run directory holds, for a run of ``config_hash`` with model code ``code_hash``:
    ``("absent", None)`` (no manifest), ``("complete", m)`` (that run, its files checked), or
    ``("other", m)`` with the reason in ``m["_reason"]`` (another configuration, another model
    code, or files that do not match)."""
    m = read_manifest(out_dir)
    if m is None:
        if (Path(out_dir) / MANIFEST).exists():
            return "other", {"_reason": "unreadable manifest"}
        return "absent", None
    if m.get("status") != "complete":
        reason = f"manifest status {m.get('status')!r}"
    elif m.get("config_hash") != config_hash:
        reason = "another configuration (config_hash {})".format(str(m.get("config_hash"))[:12])
    elif m.get("code_hash") != code_hash:
        reason = "another version of the model code (code_hash {}, git commit {})".format(
            str(m.get("code_hash"))[:12], m.get("git_commit", "unknown")
        )
    elif not files_check(out_dir, m):
        reason = "files that do not match their manifest"
    else:
        return "complete", m
    return "other", {**m, "_reason": reason}


# ------------------------------------------------------------------------------ moving aside
def _safe(text: object, pattern: str = r"[^0-9A-Za-z_-]") -> str:
    return re.sub(pattern, "", str(text))[:32] or "unknown"


def set_aside(out_dir: Path, reason: str = "") -> Path | None:
    """Move the manifest of an earlier run and the files it lists, unchanged and with their
    names, to ``superseded/<created>_<hash12>/`` in the run directory; return that directory
    (None if there was no manifest). Only files inside the run directory are moved (a listed
    path leading out of it is left alone and reported); the manifest is moved last."""
    out = Path(out_dir)
    mpath = out / MANIFEST
    if not mpath.exists():
        return None
    old = read_manifest(out) or {}
    stamp = _safe(str(old.get("created_utc", "")).replace("+00:00", "Z"))
    dest = out / SUPERSEDED / f"{stamp}_{_safe(old.get('config_hash', ''))[:12]}"
    base, n = dest.name, 1
    while dest.exists():
        dest = dest.with_name(f"{base}~{n}")
        n += 1
    files = old.get("files") if isinstance(old.get("files"), dict) else {}
    outside = []
    for name in files:
        src = confined(out, name)
        if src is None:
            outside.append(name)
            continue
        if src.is_file() or src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(src, dest / name)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.move(mpath, dest / MANIFEST)
    with contextlib.suppress(OSError):
        (out / "figures").rmdir()  # only if empty
    if outside:
        log.warning("%s: the manifest listed paths outside the run directory, not moved: %s", out, outside)
    log.warning("%s held a run of %s: moved to %s", out, reason or "another kind", dest)
    return dest


def record_error(out_dir: Path, payload: dict) -> None:
    """Write ``error.json`` (call it holding the lock). A manifest there belongs to an earlier
    run: it is moved aside first, so that error.json never sits beside a manifest."""
    out = Path(out_dir)
    if (out / MANIFEST).exists():
        set_aside(out, "an earlier attempt (this one failed)")
    write_json({"status": "failed", "created_utc": _now(), **payload}, out / ERROR)


def remove_error(out_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (Path(out_dir) / ERROR).unlink()


def write_manifest(out_dir: Path, manifest: dict) -> dict:
    """Write the manifest (last: it makes the run complete) with its creation time."""
    manifest = {"status": "complete", "created_utc": _now(), **manifest}
    write_json(manifest, Path(out_dir) / MANIFEST)
    return manifest


__all__ = [
    "ERROR",
    "LOCK",
    "MANIFEST",
    "SUPERSEDED",
    "JobLocked",
    "atomic_path",
    "clean_stale_tmp",
    "config_hash",
    "confined",
    "files_check",
    "is_complete",
    "job_lock",
    "read_manifest",
    "record_error",
    "remove_error",
    "run_state",
    "set_aside",
    "sha256",
    "write_json",
    "write_manifest",
    "write_parquet",
]
