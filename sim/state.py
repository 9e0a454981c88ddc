"""Agent state kept in columns owned by the model.

Why columns: at national scale the model holds about 1.9 million staff. Keeping their state in
numpy arrays lets every rule be one vectorised update (tens of milliseconds per step) while
each staff member is still a real ``mesa.Agent`` whose attributes read and write its row
(see :mod:`sim.agents`). Rows are never reused: a staff member who leaves is marked inactive
and removed from Mesa; hires are appended (the arrays grow geometrically).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.config import LEVERS

KINDS = ("commune", "epci", "departement", "region")
CATEGORIES = ("A", "B", "C")
JOB_FAMILIES = ("reception", "instruction", "technical", "management", "digital", "other")
RECEPTION, INSTRUCTION, TECHNICAL, MANAGEMENT, DIGITAL, OTHER = range(6)
PROFILES = ("Observateur", "Explorateur", "Entrepreneur", "Éclaireur", "Systémique")
#: Spending categories: the collectivités' own money, then the policy levers' (State) money
#: (one per lever, the ``spend_key`` declared on its config group: sim.config.LEVERS).
OWN_SPEND = ("investment", "own_training", "pool_contributions")
LEVER_SPEND = tuple(lever.spend_key for lever in LEVERS.values())
SPEND_CATEGORIES = OWN_SPEND + LEVER_SPEND
POP_BANDS = ("<500", "500-2k", "2k-10k", "10k-50k", "50k+")
POP_BAND_EDGES = np.array([500.0, 2000.0, 10000.0, 50000.0])


def pop_band_index(population: np.ndarray) -> np.ndarray:
    """Population band (index into POP_BANDS) of each population."""
    return np.searchsorted(POP_BAND_EDGES, population, side="right").astype(np.int8)


def maturity_profile(maturity: np.ndarray) -> np.ndarray:
    """Five survey profiles as equal fifths of the 0..1 maturity scale (an assumption)."""
    return np.minimum((np.asarray(maturity) * 5).astype(np.int8), 4)


class CollectiviteTable:
    """Columns of the collectivités (fixed set over a run)."""

    def __init__(self, n: int):
        self.n = n
        f = lambda: np.zeros(n, dtype=np.float64)
        self.kind = np.zeros(n, dtype=np.int8)
        self.population = f()
        self.rural = np.zeros(n, dtype=bool)
        self.pop_band = np.zeros(n, dtype=np.int8)
        self.epci = np.full(n, -1, dtype=np.int64)  # row of the EPCI (communes), own row for EPCI
        self.departement = np.full(n, -1, dtype=np.int64)  # index of the département (0..D-1)
        self.region = np.full(n, -1, dtype=np.int64)
        self.x = f()
        self.y = f()
        self.budget = f()  # yearly digital budget, EUR
        self.it_fte = f()  # own IT/digital FTE
        self.recruited_fte = f()  # FTE hired under the recruitment lever (paid by it)
        self.sponsorship = f()
        self.maturity = f()
        self.services_online = f()
        self.open_data = np.zeros(n, dtype=bool)
        self.pool = np.full(n, -1, dtype=np.int64)  # pool id, -1 = not pooled
        self.illectronism = f()  # inhabitants' illectronism share
        self.mediation_coverage = f()
        self.excluded = f()
        self.eservice_use = f()
        self.conseillers = f()
        self.referents = f()
        self.capacity_index = f()
        self.n_staff = np.zeros(n, dtype=np.int64)
        self.staff_mean_skill = f()
        self.codes: list[str] = []
        self.names: list[str] = []
        self.departement_codes: list[str] = []
        self.region_codes: list[str] = []


class StaffTable:
    """Columns of the staff, growable; ``active`` marks current staff.

    ``active`` and ``employer`` are read-only outside :meth:`append` and :meth:`deactivate`,
    which keep the cached :meth:`active_rows` and :meth:`active_employers` in step with them
    (a row's employer never changes; a move would be a departure and a hire).
    """

    LOCKED = ("active", "employer")

    FIELDS: ClassVar[dict[str, type]] = {
        "employer": np.int64,
        "category": np.int8,
        "job_family": np.int8,
        "age": np.float64,
        "skill": np.float64,
        "attitude": np.float64,
        "last_training": np.int32,
        "active": bool,
        "recruited": bool,
    }

    def __init__(self, capacity: int):
        self.size = 0
        self._capacity = max(int(capacity), 16)
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.zeros(self._capacity, dtype=dtype))
        self.last_training[:] = -1
        self._lock()
        self.agents: list = []  # row -> Staff agent (None once removed)
        self._active_rows: np.ndarray | None = None
        self._active_employers: np.ndarray | None = None

    def _grow(self, needed: int) -> None:
        new_cap = max(needed, int(self._capacity * 1.5) + 16)
        for name, dtype in self.FIELDS.items():
            old = getattr(self, name)
            arr = np.zeros(new_cap, dtype=dtype)
            arr[: self.size] = old[: self.size]
            setattr(self, name, arr)
        self.last_training[self.size :] = -1
        self._lock()
        self._capacity = new_cap

    def append(self, **columns: np.ndarray) -> np.ndarray:
        """Append rows (all FIELDS but ``active``/``last_training`` given); return their indices."""
        n = len(columns["employer"])
        if self.size + n > self._capacity:
            self._grow(self.size + n)
        rows = np.arange(self.size, self.size + n)
        end = self.size + n
        self._lock(False)
        for name, values in columns.items():
            getattr(self, name)[self.size : end] = values
        self.active[self.size : end] = True
        self._lock()
        self.last_training[self.size : end] = -1
        if self._active_rows is not None:
            self._active_rows = _frozen(np.concatenate([self._active_rows, rows]))
        if self._active_employers is not None:
            self._active_employers = _frozen(np.concatenate([self._active_employers, self.employer[self.size : end]]))
        self.size = end
        return rows

    def _lock(self, locked: bool = True) -> None:
        for name in self.LOCKED:
            getattr(self, name).flags.writeable = not locked

    def deactivate(self, rows: np.ndarray) -> None:
        """Mark rows as no longer current staff (their columns are kept)."""
        self.active.flags.writeable = True
        self.active[rows] = False
        self.active.flags.writeable = False
        self._active_rows = None
        self._active_employers = None

    def view(self, name: str) -> np.ndarray:
        """Column over all rows ever created (active or not)."""
        return getattr(self, name)[: self.size]

    def active_rows(self) -> np.ndarray:
        """Indices of current staff, increasing (cached until the next append or deactivate).

        The array is shared: treat it as read-only.
        """
        if self._active_rows is None:
            self._active_rows = _frozen(np.flatnonzero(self.active[: self.size]))
        return self._active_rows

    def active_employers(self) -> np.ndarray:
        """``employer[active_rows()]`` (cached like it: a row's employer never changes)."""
        if self._active_employers is None:
            self._active_employers = _frozen(self.employer[self.active_rows()])
        return self._active_employers


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a
