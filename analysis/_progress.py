"""Progress bars on stderr (tqdm), shown only on a terminal unless asked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm


def progress_bar(iterable: Iterable[Any] | None, *, total: int | None, desc: str, enable: bool | None) -> Any:
    """A tqdm bar; ``enable=None`` shows it only when stderr is a terminal, False never, True always."""
    disable = None if enable is None else not enable
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False, dynamic_ncols=True)
