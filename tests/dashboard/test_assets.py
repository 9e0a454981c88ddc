"""Solara's front-end files: which npm packages, and their unpacking (with a stand-in for npm)."""

from __future__ import annotations

import os
import stat
import sys

import pytest

pytest.importorskip("solara", reason="the dashboard extra (solara) is not installed")

from sim.dashboard import assets


def test_required_packages_are_read_from_solara():
    specs = assets.required_packages()
    names = {spec.rsplit("@", 1)[0] for spec in specs}
    # The page template (Vuetify app, RequireJS, Font Awesome) and SolaraViz's draggable grid.
    assert {"requirejs", "font-awesome", "@widgetti/vue-grid-layout"} <= names
    assert any(name.startswith("@widgetti/solara-vuetify") for name in names)
    assert all(spec.rsplit("@", 1)[1][0].isdigit() for spec in specs), specs


def test_tarball_names_follow_npm_pack():
    assert (
        assets.tarball_name("@widgetti/vue-grid-layout@2.3.13-alpha.2") == "widgetti-vue-grid-layout-2.3.13-alpha.2.tgz"
    )
    assert assets.tarball_name("requirejs@2.3.6") == "requirejs-2.3.6.tgz"


FAKE_NPM = """#!{python}
# Stand-in for `npm pack SPEC...`: writes SPEC's tarball (one folder "package") in the cwd.
import io, json, sys, tarfile
for spec in [a for a in sys.argv[2:] if not a.startswith("-")]:
    name, version = spec.rsplit("@", 1)
    tarball = name.lstrip("@").replace("/", "-") + "-" + version + ".tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for path, text in (("package/package.json", json.dumps({{"name": spec}})), ("package/dist/x.js", "//")):
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    print(tarball)
"""


def test_install_unpacks_each_missing_package_where_the_proxy_looks(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable))
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    cache = tmp_path / "cdn"
    specs = assets.required_packages()
    (cache / "requirejs@2.3.6").mkdir(parents=True)
    (cache / "requirejs@2.3.6" / "package.json").write_text("{}")  # already there: not fetched again

    installed = assets.install(cache, quiet=True)

    assert sorted(installed) == sorted(s for s in specs if s != "requirejs@2.3.6")
    for spec in installed:
        assert (cache / spec / "dist" / "x.js").is_file()  # served as /_solara/cdn/<spec>/dist/x.js
    assert assets.missing_packages(cache) == []
    assert assets.install(cache) == []


def test_install_without_npm_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="npm is not installed.*requirejs@"):
        assets.install(tmp_path / "cdn")
