"""Hydra override strings (``key=value``) to typed run parameters; no heavy imports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["config_get", "parse_override", "parse_overrides", "parse_value"]


def parse_value(text: str) -> Any:
    """Type one Hydra override value: quoted -> str, true/false -> bool, null -> None, int, float, else str."""
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "~"):
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def parse_override(text: str) -> tuple[str, Any] | None:
    """``"+a.b=3"`` -> ``("a.b", 3)``; deletions (``~key``) and ``hydra.*`` keys give None."""
    s = str(text).strip()
    if not s or s.startswith("~"):
        return None
    key, sep, value = s.partition("=")
    key = key.lstrip("+").strip()
    if not sep or not key or key == "hydra" or key.startswith("hydra."):
        return None
    return key, parse_value(value)


def parse_overrides(overrides: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in overrides or ():
        kv = parse_override(item)
        if kv is not None:
            out[kv[0]] = kv[1]
    return out


def config_get(config: Any, dotted: str) -> Any:
    """Value at ``a.b.c`` in a nested dict, or None."""
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
