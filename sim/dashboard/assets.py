"""Solara's front-end files, installed from the npm registry: ``python -m sim.dashboard.assets``.

A Solara page loads its JavaScript and CSS (the Vuetify app, RequireJS, Font Awesome, the
draggable grid that SolaraViz lays components on) through the server's CDN proxy, which
fetches them from a public CDN on first use and keeps them in a cache directory
(``solara.server.settings.assets.proxy_cache_dir``). Where that CDN cannot be reached the page
stays blank. The CDN serves npm packages file by file, so the same files come from the npm
registry: this module finds which packages (``name@version``) the installed Solara asks for,
fetches each with ``npm pack`` and unpacks it where the proxy looks first.

``--check`` only lists what is missing (exit status 1 when something is).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# "{{cdn}}/@scope/name@1.2.3/..." in the page template, "${this.getCdn()}/name@1.2.3/..." in widgets.
_SPEC = re.compile(r"(?:\{\{\s*cdn\s*\}\}|getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/")


def solara_dir() -> Path:
    import solara

    return Path(solara.__file__).resolve().parent


def cache_dir() -> Path:
    """Where Solara's CDN proxy looks for files (SOLARA_ASSETS_PROXY_CACHE_DIR overrides it)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def required_packages() -> list[str]:
    """npm ``name@version`` specs that the installed Solara loads through its CDN proxy."""
    root = solara_dir()
    specs: set[str] = set()
    files = [*(root / "server" / "templates").glob("*.j2"), *(root / "widgets" / "vue").glob("gridlayout*.vue")]
    for path in files:
        specs.update(_SPEC.findall(path.read_text(encoding="utf-8")))
    from solara.server import settings

    fontawesome = re.match(r"/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/", settings.assets.fontawesome_path)
    if fontawesome:
        specs.add(fontawesome.group(1))
    return sorted(specs)


def tarball_name(spec: str) -> str:
    """File that ``npm pack`` writes for a spec: "@scope/name@1.0" -> "scope-name-1.0.tgz"."""
    name, version = spec.rsplit("@", 1)
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def missing_packages(directory: Path | None = None) -> list[str]:
    directory = cache_dir() if directory is None else directory
    return [spec for spec in required_packages() if not (directory / spec / "package.json").is_file()]


def install(directory: Path | None = None, *, quiet: bool = False) -> list[str]:
    """Fetch the missing packages with ``npm pack`` into the proxy cache; return what was installed."""
    directory = cache_dir() if directory is None else directory
    missing = missing_packages(directory)
    if not missing:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is not installed: it is needed once to fetch Solara's front-end files " + ", ".join(missing)
        )
    with tempfile.TemporaryDirectory(prefix="solara-assets-") as tmp:
        out = subprocess.run(
            [npm, "pack", "--silent", *missing], cwd=tmp, capture_output=True, text=True, timeout=600, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(f"npm pack failed ({out.returncode}): {out.stderr.strip()}")
        for spec in missing:
            name = tarball_name(spec)
            if not (Path(tmp) / name).is_file():
                raise RuntimeError(f"npm pack did not write {name} (it printed {out.stdout.split()})")
            target = directory / spec
            staging = Path(tmp) / ("unpacked-" + name)
            with tarfile.open(Path(tmp) / name) as tar:
                tar.extractall(staging, filter="data")
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(staging / "package"), target)  # npm tarballs hold one folder "package"
            if not quiet:
                print(f"installed {spec} -> {target}")
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.dashboard.assets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report missing packages")
    args = parser.parse_args(argv)
    if args.check:
        missing = missing_packages()
        for spec in missing:
            print(f"missing: {spec}")
        print(f"{len(required_packages()) - len(missing)}/{len(required_packages())} present in {cache_dir()}")
        return 1 if missing else 0
    try:
        installed = install()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Solara front-end files: {len(installed)} installed, all present in {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
