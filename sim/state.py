"""Agent state kept in columns owned by the model.

Why columns: at national scale the model holds about 1.9 million staff. Keeping their state in
numpy arrays lets every rule be one vectorised update (tens of milliseconds per step), while
each staff member can still be seen as a real ``mesa.Agent`` whose attributes read and write
its row (see :mod:`sim.agents`; the staff agents are created on demand).

Every column is declared once, with its meaning, in :data:`COLLECTIVITE_COLUMNS` or
:attr:`StaffTable.FIELDS`; the agents' attributes, the output tables and the docs derive from
these declarations.

Staff rows. A staff member who leaves is marked inactive (:meth:`StaffTable.deactivate`); hires
are appended (the arrays grow geometrically). When leavers accumulate, the model *compacts* the
table (:meth:`StaffTable.compact`, between two processes of a step): the rows of leavers are
dropped, the others keep their order and move down, so **a row index is only valid until the
next compaction**. The rules that follow from it, for any code that adds per-staff state:

- Per-staff state lives in a column of :class:`StaffTable`, declared in
  :attr:`StaffTable.FIELDS` (the one place that lists them; a module may add its own entry,
  with a :attr:`StaffTable.FILL` value if it does not start at 0). Compaction moves every
  column listed there, so such state follows its staff member. Never keep per-staff state in
  arrays indexed by row held elsewhere.
- A process may hold row indices (``active_rows()``, selections) while it runs, never from one
  process or step to the next. To follow staff members across time, keep their ``uid`` (the
  Mesa ``unique_id``, never reused; increasing with the row) and find their current rows with
  :meth:`StaffTable.rows_of`.
- Everything else that holds a row (the staff agents' ``row``, the cached ``active_rows``) is
  remapped by :meth:`StaffTable.compact` itself.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections import deque
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

    ``active``, ``employer`` and ``uid`` are read-only outside :meth:`append`,
    :meth:`deactivate`, :meth:`assign_uids` and :meth:`compact`, which keep the cached
    :meth:`active_rows` and :meth:`active_employers` in step with them (a row's employer never
    changes; a move would be a departure and a hire).

    ``uid`` is the staff member's Mesa ``unique_id``, given by the model when the row is created
    (:meth:`assign_uids`) whether or not its :class:`~sim.agents.Staff` agent exists: uids
    increase with the row and survive compaction. ``agents`` is ``None`` until the model
    creates the staff agents (on demand), then the list of agents by row.
    """

    LOCKED = ("active", "employer", "uid")

    FIELDS: ClassVar[dict[str, type]] = {
        "uid": np.int64,
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
    #: Initial value of columns that do not start at 0 (uid -1: not given yet; NEVER: no training
    #: yet, no gain pending). Rows not yet written, and rows freed by compaction, hold it.
    FILL: ClassVar[dict[str, int]] = {"uid": -1, "last_training": NEVER, "gain_step": NEVER}

    def __init__(self, capacity: int):
        self.size = 0
        self._capacity = max(int(capacity), 16)
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.full(self._capacity, self.FILL.get(name, 0), dtype=dtype))
        self._lock()
        self.agents: list | None = None  # row -> Staff agent, once the model has created them
        self.compactions = 0  # how many times rows were renumbered
        self._uids_upto = 0  # rows below have their uid
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
        """Append rows (FIELDS but ``active`` and those with a FILL value may be omitted: they
        get their FILL value); return their indices. The model then gives them uids
        (:meth:`assign_uids`)."""
        n = len(columns["employer"])
        if self.size + n > self._capacity:
            self._grow(self.size + n)
        rows = np.arange(self.size, self.size + n)
        end = self.size + n
        self._lock(False)
        for name, values in columns.items():
            getattr(self, name)[self.size : end] = values
        for name, value in self.FILL.items():
            if name not in columns:
                getattr(self, name)[self.size : end] = value
        self.active[self.size : end] = True
        self._lock()
        if self._active_rows is not None:
            self._active_rows = _frozen(np.concatenate([self._active_rows, rows]))
        if self._active_employers is not None:
            self._active_employers = _frozen(np.concatenate([self._active_employers, self.employer[self.size : end]]))
        self.size = end
        return rows

    def assign_uids(self, first: int) -> int:
        """Give the rows appended since the last call the uids ``first, first+1, ...`` in row
        order; return the next free uid."""
        start, n = self._uids_upto, self.size - self._uids_upto
        self.uid.flags.writeable = True
        self.uid[start : self.size] = np.arange(first, first + n)
        self.uid.flags.writeable = False
        self._uids_upto = self.size
        return first + n

    def _lock(self, locked: bool = True) -> None:
        for name in self.LOCKED:
            getattr(self, name).flags.writeable = not locked

    def deactivate(self, rows: np.ndarray) -> None:
        """Mark rows as no longer current staff (their columns are kept until :meth:`compact`)."""
        self.active.flags.writeable = True
        self.active[rows] = False
        self.active.flags.writeable = False
        self._active_rows = None
        self._active_employers = None

    def view(self, name: str) -> np.ndarray:
        """Column over all rows (current staff and leavers not yet compacted away)."""
        return getattr(self, name)[: self.size]

    def active_rows(self) -> np.ndarray:
        """Indices of current staff, increasing (cached until the next append, deactivate or
        compact). The array is shared: treat it as read-only."""
        if self._active_rows is None:
            self._active_rows = _frozen(np.flatnonzero(self.active[: self.size]))
        return self._active_rows

    def active_employers(self) -> np.ndarray:
        """``employer[active_rows()]`` (cached like it: a row's employer never changes)."""
        if self._active_employers is None:
            self._active_employers = _frozen(self.employer[self.active_rows()])
        return self._active_employers

    @property
    def n_active(self) -> int:
        return len(self.active_rows())

    @property
    def n_inactive(self) -> int:
        """Rows of leavers still in the columns (dropped by the next :meth:`compact`)."""
        return self.size - len(self.active_rows())

    def rows_of(self, uids) -> np.ndarray:
        """Current row of each uid, or -1 for a uid with no row (dropped by a compaction, or
        never created). The row may be inactive until the next compaction."""
        uids = np.asarray(uids, dtype=np.int64)
        column = self.uid[: self.size]
        pos = np.minimum(np.searchsorted(column, uids), max(self.size - 1, 0))
        found = (column[pos] == uids) if self.size else np.zeros(uids.shape, dtype=bool)
        return np.where(found, pos, -1)

    def compact(self) -> np.ndarray:
        """Drop the rows of leavers; the current staff keep their order and move to rows
        ``0..n-1``. Every column of :attr:`FIELDS` moves with them, the caches and the staff
        agents' ``row`` are remapped (agents of dropped rows get ``row = None``: reading them
        raises). Returns the old row of each new row (``new -> old``): the new row of an old row
        ``r`` is ``np.searchsorted(old_rows, r)`` if it was kept."""
        keep = self.active_rows()
        n = len(keep)
        if n == self.size:
            return keep
        kept_mask = self.active[: self.size].copy()
        self._lock(False)
        for name in self.FIELDS:
            column = getattr(self, name)
            column[:n] = column[keep]  # a gather into a temporary, then one copy
            column[n : self.size] = self.FILL.get(name, 0)
        self._lock()
        if self.agents is not None:  # every current staff member has an agent
            agents = self.agents
            for r in np.flatnonzero(~kept_mask).tolist():
                if agents[r] is not None:
                    agents[r].row = None
            kept = list(map(agents.__getitem__, keep.tolist()))
            if kept:
                # Set every agent's row through the slot's descriptor: twice as fast as a loop.
                deque(map(type(kept[0]).row.__set__, kept, range(n)), maxlen=0)
            self.agents = kept
        self._uids_upto = int(np.count_nonzero(keep < self._uids_upto))
        self.size = n
        self.compactions += 1
        self._active_rows = _frozen(np.arange(n))
        if self._active_employers is not None:
            self._active_employers = _frozen(self.employer[:n].copy())
        return keep


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# ---------------------------------------------------------------------------------------------
# Memory allocator
#
# A step over two million staff allocates and frees dozens of temporary arrays of 2 to 20 MB.
# glibc's malloc serves blocks above its mmap threshold (128 kB, raised dynamically up to 32 MB
# as blocks are freed) with fresh mmap'd pages, and gives the top of its heap back to the system
# beyond its trim threshold: then every temporary costs page faults, the kernel zeroing each
# page again. For France that was 2.5-3 s of system time (470,000 page faults) in a 15 s run.
# Serving blocks up to 32 MB from the heap and keeping up to 256 MB of free heap for reuse
# removes almost all of them (under 0.1 s). The process keeps that much freed memory for reuse
# instead of returning it; it never holds more than its peak.
# ---------------------------------------------------------------------------------------------
MALLOC_ENV = "SIM_MALLOC_TUNING"  # "0": leave the allocator alone
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
_malloc_tuned: bool | None = None


def tune_malloc(mmap_threshold: int = 32 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Keep large temporaries in the heap (glibc only; once per process; see above). Returns
    True if the allocator was tuned (now or before)."""
    global _malloc_tuned
    if _malloc_tuned is None:
        _malloc_tuned = False
        if os.environ.get(MALLOC_ENV, "1") != "0" and sys.platform.startswith("linux"):
            try:
                if os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
                    libc = ctypes.CDLL(None)
                    ok = libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
                    ok &= libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
                    _malloc_tuned = bool(ok)
            except (AttributeError, OSError, ValueError):  # not glibc, or no mallopt
                pass
    return _malloc_tuned
