"""Agent state kept in columns owned by the model.

Why columns: at national scale the model holds about 1.9 million staff. Keeping their state in
numpy arrays lets every rule be one vectorised update (tens of milliseconds per step) while
each staff member is still a real ``mesa.Agent`` whose attributes read and write its row
(see :mod:`sim.agents`). Rows are never reused: a staff member who leaves is marked inactive
and removed from Mesa; hires are appended (the arrays grow geometrically).

Every column is declared once, with its meaning, in :data:`COLLECTIVITE_COLUMNS` or
:attr:`StaffTable.FIELDS`; the agents' attributes, the output tables and the docs derive from
these declarations. Processes keep any per-staff state in StaffTable columns (never in arrays
indexed by row held elsewhere), so that the table can be compacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from sim.config import AGE_GROUP_LABELS, KIND_KEYS, LEVERS, POP_BAND_LABELS

KINDS = KIND_KEYS
CATEGORIES = ("A", "B", "C")
JOB_FAMILIES = ("reception", "instruction", "technical", "management", "digital", "other")
RECEPTION, INSTRUCTION, TECHNICAL, MANAGEMENT, DIGITAL, OTHER = range(6)
#: The non-digital job families, in the order of territory.job_family_shares.
NON_DIGITAL_FAMILIES = (RECEPTION, INSTRUCTION, TECHNICAL, MANAGEMENT, OTHER)
AGE_GROUPS = AGE_GROUP_LABELS
#: Width in years of each age group but the last (75+), for the cohort flow between groups.
AGE_GROUP_WIDTHS = (10.0, 15.0, 20.0, 15.0)
#: First age group whose able inhabitants may fall into illectronism as tools change (40-59).
AGE_DRIFT_FROM = 2
PROFILES = ("Observateur", "Explorateur", "Entrepreneur", "Éclaireur", "Systémique")

#: Step value meaning "never" / "none" in step columns (steps of the history period are negative).
NEVER = int(np.iinfo(np.int32).min)

#: Spending categories. The collectivités' own money: investment, own training, salaries of
#: their digital staff, fees paid into their pools. National programmes that are not levers:
#: calls for projects. The policy levers' (State) money: one per lever, the ``spend_key``
#: declared on its config group (sim.config.LEVERS). Unspent lever money is recorded apart
#: (``unspent_<key>``).
OWN_SPEND = ("investment", "own_training", "it_staff", "pool_contributions")
PROGRAMME_SPEND = ("calls_for_projects",)
LEVER_SPEND = tuple(lever.spend_key for lever in LEVERS.values())
UNSPENT = tuple(f"unspent_{key}" for key in LEVER_SPEND)
SPEND_CATEGORIES = OWN_SPEND + PROGRAMME_SPEND + LEVER_SPEND + UNSPENT
POP_BANDS = POP_BAND_LABELS
POP_BAND_EDGES = np.array([500.0, 2000.0, 10000.0, 50000.0])


def pop_band_index(population: np.ndarray) -> np.ndarray:
    """Population band (index into POP_BANDS) of each population."""
    return np.searchsorted(POP_BAND_EDGES, population, side="right").astype(np.int8)


# ---------------------------------------------------------------------------------- columns
@dataclass(frozen=True)
class Column:
    """A per-collectivité column: dtype, meaning, unit, shape of one row (() or (k,)) and
    initial value."""

    dtype: type
    doc: str
    unit: str = ""
    shape: tuple = ()
    fill: float = 0


COLLECTIVITE_COLUMNS: dict[str, Column] = {
    # structure (fixed over a run)
    "kind": Column(np.int8, "kind of collectivité (index into KINDS)"),
    "population": Column(np.float64, "inhabitants", "inhabitants"),
    "rural": Column(bool, "rural collectivité"),
    "pop_band": Column(np.int8, "population band (index into POP_BANDS)"),
    "epci": Column(np.int64, "row of its EPCI (communes; own row for an EPCI; -1 none)", fill=-1),
    "departement": Column(np.int64, "index of its département (-1 none)", fill=-1),
    "region": Column(np.int64, "index of its région (-1 none)", fill=-1),
    "x": Column(np.float64, "longitude (france) or position on the unit square (synthetic)"),
    "y": Column(np.float64, "latitude (france) or position on the unit square (synthetic)"),
    "budget": Column(np.float64, "yearly digital budget before trend and cuts", "EUR / year"),
    # capacity
    "it_fte": Column(np.float64, "own digital/IT staff (FTE, at the last refresh)", "FTE"),
    "recruited_fte": Column(np.float64, "digital staff hired under the recruitment lever (FTE)", "FTE"),
    "it_vacancies": Column(np.float64, "open digital posts of the collectivité's own hiring", "posts"),
    "it_pending": Column(np.float64, "digital posts filled, hire not arrived yet", "posts"),
    "recruited_pending": Column(np.float64, "lever posts filled, hire not arrived yet", "posts"),
    "pool": Column(np.int64, "pool id (-1 when not pooled)", fill=-1),
    "pool_fte": Column(np.float64, "its share of its pool's effective capacity", "FTE"),
    "pool_critical": Column(bool, "its pool's effective capacity reaches the critical size of an IT team"),
    "pool_capacity": Column(np.float64, "capacity index of its pool against its members' needs, 0..1"),
    "capacity_index": Column(np.float64, "IT capacity index, 0..1"),
    "project_funds": Column(np.float64, "money won in calls for projects, not yet spent", "EUR"),
    # governance
    "sponsorship": Column(np.float64, "political and managerial sponsorship, 0..1"),
    "has_strategy": Column(bool, "has a formal digital strategy"),
    "has_monitoring": Column(bool, "monitors and evaluates its digital projects"),
    "leadership": Column(np.float64, "leadership index: sponsorship and managers' skill, 0..1"),
    # adoption
    "maturity": Column(np.float64, "digital maturity, 0..1"),
    "services_online": Column(np.float64, "share of services online, 0..1"),
    "open_data": Column(bool, "has published open data"),
    "staff_use_share": Column(np.float64, "share of its staff who use the tools (at the last refresh)"),
    "front_use_share": Column(np.float64, "share of its reception and instruction staff who use the tools"),
    "manager_skill": Column(np.float64, "managers' mean skill relative to the required skill, 0..1"),
    # inhabitants (communes; EPCI, départements and régions get their communes' averages)
    "age_share": Column(np.float64, "shares of the 15+ inhabitants by age group", shape=(len(AGE_GROUPS),)),
    "illectronism_age": Column(np.float64, "illectronism share by age group", shape=(len(AGE_GROUPS),)),
    "illectronism": Column(np.float64, "share of its 15+ inhabitants in illectronism"),
    "help_coverage": Column(np.float64, "share of the need for human help with online procedures met"),
    "excluded": Column(np.float64, "share of 15+ inhabitants excluded from procedures that went online"),
    "eservice_use": Column(np.float64, "share of transactions made online"),
    "conseillers": Column(np.float64, "conseillers numériques serving (FTE)", "FTE"),
    "referents": Column(np.float64, "digital referents funded (FTE-equivalents)", "FTE"),
    # staff aggregates (refreshed after processes that change staff)
    "n_staff": Column(np.int64, "staff agents employed (at the last refresh)"),
    "staff_mean_skill": Column(np.float64, "mean skill of its staff (at the last refresh)"),
    "proficient_share": Column(np.float64, "share of its staff at or above the required skill (at the last refresh)"),
}


class CollectiviteTable:
    """Columns of the collectivités (a fixed set of rows over a run), one attribute per entry
    of :data:`COLLECTIVITE_COLUMNS`."""

    def __init__(self, n: int):
        self.n = n
        for name, col in COLLECTIVITE_COLUMNS.items():
            setattr(self, name, np.full((n, *col.shape), col.fill, dtype=col.dtype))
        self.codes: list[str] = []
        self.names: list[str] = []
        self.departement_codes: list[str] = []
        self.region_codes: list[str] = []

    @property
    def real_staff(self) -> np.ndarray:
        """Staff counts at the last refresh, in real staff (not modelled agents), at least 1."""
        return np.maximum(self.n_staff / self.staff_scale, 1.0)

    staff_scale: float = 1.0


@dataclass
class StepFlows:
    """Money flowing between processes within one step (reset at each step)."""

    #: Own money of each collectivité left for investment this step (EUR).
    investment: np.ndarray
    #: Own money of each collectivité for its own training this step (EUR).
    own_training: np.ndarray
    #: Real staff of each collectivité at the start of the step: lever budgets are per staff.
    staff: np.ndarray
    #: Whether the policy levers act (False during the history period).
    levers_on: bool = True
    #: Lever money per lever for this step, before it is spent (EUR).
    lever_budget: dict = field(default_factory=dict)


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
        "pending_gain": np.float64,  # skill of a completed training, not yet usable at work
        "gain_step": np.int32,  # step when it becomes usable (NEVER: none pending)
        "fresh_gain": np.float64,  # skill from training not yet consolidated by use (decays unused)
    }
    #: Initial value of columns that do not start at 0 (NEVER: no training yet, no gain pending).
    FILL: ClassVar[dict[str, int]] = {"last_training": NEVER, "gain_step": NEVER}

    def __init__(self, capacity: int):
        self.size = 0
        self._capacity = max(int(capacity), 16)
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.full(self._capacity, self.FILL.get(name, 0), dtype=dtype))
        self._lock()
        self.agents: list = []  # row -> Staff agent (None once removed)
        self._active_rows: np.ndarray | None = None
        self._active_employers: np.ndarray | None = None

    def _grow(self, needed: int) -> None:
        new_cap = max(needed, int(self._capacity * 1.5) + 16)
        for name, dtype in self.FIELDS.items():
            old = getattr(self, name)
            arr = np.full(new_cap, self.FILL.get(name, 0), dtype=dtype)
            arr[: self.size] = old[: self.size]
            setattr(self, name, arr)
        self._lock()
        self._capacity = new_cap

    def append(self, **columns: np.ndarray) -> np.ndarray:
        """Append rows (FIELDS but ``active`` and those with a FILL value may be omitted); return
        their indices."""
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
        for name, value in self.FILL.items():
            if name not in columns:
                getattr(self, name)[self.size : end] = value
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
