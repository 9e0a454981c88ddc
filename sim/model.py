"""The model: a Mesa model of collectivités and their staff.

:class:`TransitionModel` builds the territory, creates one :class:`~sim.agents.Collectivite`
agent per collectivité and, on demand, one :class:`~sim.agents.Staff` agent per modelled staff
member (:meth:`TransitionModel.materialize_staff`), and runs the processes of
:mod:`sim.processes` in order at each step (a quarter by default). State lives in the column
store (:mod:`sim.state`); the agents are views on it.

Time: the model starts at ``simulation.history_start_year`` (2018) from the initial state and
runs its own dynamics without policy levers until ``simulation.start_year`` (the history period,
a spin-up: recorded with negative steps), then ``simulation.years`` of policy period, steps 1 to
``years * steps_per_year``; step 0 is the state at the start year.

Randomness: the territory and initial state come from the territory's seed; every process and
lever draws from its own stream of the run's seed (:mod:`sim.streams`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import mesa
import numpy as np
from mesa.experimental.mesa_signals.signal_types import ModelSignals

from sim import levers, metrics
from sim.agents import Collectivite, Staff, create_agents, materialize_agents, remove_agents, watched
from sim.config import LEVERS, Config, to_config
from sim.processes import STEP_ORDER
from sim.processes.maturity import update_capacity
from sim.processes.practice import uses_tools
from sim.selection import ratio
from sim.state import DIGITAL, INSTRUCTION, MANAGEMENT, RECEPTION, SPEND_CATEGORIES, StaffTable, StepFlows, tune_malloc
from sim.streams import Streams, make_stream
from sim.territory import build_territory
from sim.territory.staffing import populate

#: Aggregates of the staff kept on the collectivités (refreshed when a process changed the staff).
STAFF_AGGREGATES = frozenset(
    f"colls.{name}"
    for name in (
        "n_staff",
        "staff_mean_skill",
        "it_fte",
        "recruited_fte",
        "staff_use_share",
        "front_use_share",
        "manager_skill",
        "proficient_share",
    )
)


@dataclass(frozen=True)
class StaffSnapshot:
    """What the last refresh of the staff aggregates computed over the current staff (in the
    order of ``rows``), for the metrics of the same step: valid while no process changed the
    staff since (:meth:`TransitionModel.step` hands it over only then) and for the same
    thresholds (``thresholds``: required skill, illectronism threshold, following band)."""

    skill: np.ndarray
    family: np.ndarray
    proficient: np.ndarray
    use: np.ndarray
    ill: np.ndarray
    #: Staff counts by (kind of post, in illectronism, up to date, uses the tools, employer).
    cells: np.ndarray
    thresholds: tuple


#: Kind of post by job family, for the staff aggregates: 1 front line, 2 manager, 3 digital.
_POST_KIND = np.zeros(6, dtype=np.uint8)
_POST_KIND[[RECEPTION, INSTRUCTION]] = 1
_POST_KIND[MANAGEMENT] = 2
_POST_KIND[DIGITAL] = 3


def process_name(process) -> str:
    """Short name of a process ('turnover'): a :class:`sim.processes.Process` or any object with
    a ``name``."""
    return getattr(process, "name", None) or process.__name__.rsplit(".", 1)[-1]


class TransitionModel(mesa.Model):
    """Digital transition of the collectivités of a territory and of their staff."""

    #: The processes of a step, in order (each a :class:`sim.processes.Process`).
    processes = STEP_ORDER
    #: What the last refresh of the staff aggregates computed over the staff (a
    #: :class:`StaffSnapshot`), while still valid within a step; None otherwise.
    staff_snapshot: StaffSnapshot | None = None
    #: Compact the staff columns (drop the rows of leavers, :meth:`StaffTable.compact`) after a
    #: process that removes staff, once leavers are more than this share of the rows; None:
    #: never. Results do not depend on it (tests/test_agents.py); only the row numbers do.
    staff_compaction: float | None = 0.05

    def __init__(self, config: Config | None = None, *, rng: int | None = None, **kwargs):
        cfg = to_config(config if config is not None else Config())
        tune_malloc()  # large temporaries without page faults (sim.state)
        seed = cfg.seed if rng is None else rng
        super().__init__(rng=seed, **kwargs)
        self.cfg = cfg
        s = cfg.simulation
        self.steps_per_year = s.steps_per_year
        self.n_history = round((s.start_year - s.history_start_year) * s.steps_per_year)
        self.n_steps = s.years * s.steps_per_year
        self.step_index = -self.n_history
        self.year = float(s.history_start_year)
        self.required_skill = cfg.drivers.required_skill_start
        self.required_skill_rise = 0.0
        self.illectronism_threshold = cfg.drivers.illectronism_threshold
        self.obligation_strength = 0.0
        self.budget_factor = 1.0
        self.france_services_share = 0.0
        self.state_online_share = cfg.drivers.state_online_start
        self.counters: Counter = Counter()
        self.streams = Streams(seed)
        territory_seed = seed if cfg.territory.seed is None else cfg.territory.seed
        territory_rng = make_stream(territory_seed, "territory")

        self.territory = build_territory(cfg.territory, territory_rng)
        self.colls, self.staff = populate(self.territory, cfg, territory_rng)
        c = self.colls
        #: Remainders smaller than one unit of what is bought (a training place, an award).
        self.carry = {"own_training": np.zeros(c.n), "calls": 0.0}
        self.arrivals: list = []
        #: FTE in post in each pool (pool ids: see sim.processes.mutualisation.pool_keys).
        self.pool_staff = np.zeros(max(int(c.epci.max()), int(c.departement.max()), 0) + 1)
        self.pool_staff_started = False
        #: Places a year the training lever's operators can deliver (set when the lever starts).
        self.training_supply = 0.0
        self.conseiller_pipeline: list = []
        #: Levers whose unspent money at the end is worth a warning: name -> EUR.
        self.unspent_warnings: dict = {}
        #: Each lever's money left unspent so far in the policy period (sim.levers.available).
        self.envelope = dict.fromkeys(LEVERS, 0.0)
        #: Each lever's budget over the policy period so far (EUR).
        self.lever_total = dict.fromkeys(LEVERS, 0.0)
        self.spend = dict.fromkeys(SPEND_CATEGORIES, 0.0)
        self.collectivites = create_agents(self, Collectivite, np.arange(c.n))
        # The staff's unique ids follow the collectivités'; their agents are created on demand.
        self.agent_id_counter = self.staff.assign_uids(self.agent_id_counter)
        self.refresh_staff_aggregates()
        self.flows = self._new_flows()
        update_capacity(self)
        from sim.processes.inhabitants import initial_state

        initial_state(self)
        self.records: list[tuple] = []
        metrics.collect(self)

    # ---------------------------------------------------------------- time
    def crossed(self, year: float) -> bool:
        """True if ``year`` falls within the step just taken."""
        return self.year - 1.0 / self.steps_per_year < year <= self.year + 1e-9

    def _new_flows(self) -> StepFlows:
        c = self.colls
        return StepFlows(
            investment=np.zeros(c.n),
            own_training=np.zeros(c.n),
            staff=c.n_staff / self.cfg.territory.staff_scale,
            levers_on=self.step_index >= 1,
        )

    def step(self) -> None:
        # Mesa advances ``time`` by one before calling step(): the number of steps taken.
        self.step_index = round(self.time) - self.n_history
        self.year = self.cfg.simulation.start_year + self.step_index / self.steps_per_year
        self.spend = dict.fromkeys(SPEND_CATEGORIES, 0.0)
        self.flows = self._new_flows()
        # Staff changed since the last refresh of the staff aggregates. Processes that declare
        # reading an aggregate get it up to date; the others see it as it was at the start of the
        # step (the budgets per staff member, the lever's needs).
        # A refresh leaves what it computed over the staff in staff_snapshot, for the metrics,
        # as long as no process changes the staff.
        stale = False
        self.staff_snapshot = None
        for process in self.processes:
            if stale and STAFF_AGGREGATES.intersection(process.reads):
                self.refresh_staff_aggregates()
                stale = False
            process.step(self)
            if process.changes_staff:
                stale, self.staff_snapshot = True, None
            if "staff.active" in process.writes:  # it may have removed staff
                self.compact_staff()
        if stale:
            self.refresh_staff_aggregates()
        metrics.collect(self, self.staff_snapshot)
        self.staff_snapshot = None  # about 35 MB for France: not kept between steps
        if self.step_index >= self.n_steps:
            self.running = False
            levers.warn_unspent(self)

    # ---------------------------------------------------------------- staff bookkeeping
    def add_staff(self, columns: dict) -> np.ndarray:
        """Hire: append staff rows (with the next unique ids) and, if the staff agents exist,
        their agents; return the new rows."""
        st: StaffTable = self.staff
        if st.agents is None and watched(self, Staff, ModelSignals.AGENT_ADDED):
            self.materialize_staff()  # someone watches agents being added: they must exist
        rows = st.append(**columns)
        first = self.agent_id_counter
        st.assign_uids(first)
        if st.agents is None:
            self.agent_id_counter = first + len(rows)
        else:
            st.agents.extend(create_agents(self, Staff, rows))  # ids first, first + 1, ...
        return rows

    def remove_staff(self, rows: np.ndarray) -> None:
        """Staff leaving: mark their rows inactive and deregister their agents, if created.
        The leavers' rows (and agents) stay until the next compaction."""
        st: StaffTable = self.staff
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[st.active[rows]]
        if st.agents is None and watched(self, Staff, ModelSignals.AGENT_REMOVED):
            self.materialize_staff()
        st.deactivate(rows)
        if st.agents is not None:
            agents = st.agents
            remove_agents(self, [agents[r] for r in rows.tolist()])

    def compact_staff(self, force: bool = False) -> bool:
        """Drop the rows of leavers once they exceed :attr:`staff_compaction` of the rows (or
        whenever there are some, with ``force``); return True if rows were renumbered. Called
        between processes: no process holds row indices then (sim.state)."""
        st: StaffTable = self.staff
        dead = st.n_inactive
        if dead == 0 or (not force and (self.staff_compaction is None or dead <= self.staff_compaction * st.size)):
            return False
        st.compact()
        return True

    def materialize_staff(self) -> list:
        """Create the Staff agents of the current staff if not yet done (their ids are those
        given at hiring: ``staff.uid``); return the list of agents by row (``staff.agents``)."""
        st: StaffTable | None = getattr(self, "staff", None)
        if st is None:  # still building
            return []
        if st.agents is None:
            rows = st.active_rows()
            made = materialize_agents(self, Staff, rows, st.uid[rows])
            if len(rows) == st.size:  # no leaver in the columns: the row of made[i] is i
                st.agents = made
            else:
                agents = [None] * st.size
                for r, a in zip(rows.tolist(), made):
                    agents[r] = a
                st.agents = agents
        return st.agents

    # Mesa's views of the agents: the staff agents are created on first use.
    @property
    def agents(self):
        self.materialize_staff()
        return mesa.Model.agents.fget(self)

    @agents.setter
    def agents(self, value) -> None:
        mesa.Model.agents.fset(self, value)

    @property
    def agents_by_type(self) -> dict:
        self.materialize_staff()
        return mesa.Model.agents_by_type.fget(self)

    @property
    def agent_types(self) -> list:
        self.materialize_staff()
        return mesa.Model.agent_types.fget(self)

    def remove_all_agents(self) -> None:
        self.materialize_staff()
        super().remove_all_agents()

    def refresh_staff_aggregates(self) -> None:
        """Per collectivité: staff count and mean skill, digital staff (own and lever-hired), the
        shares of staff who use the tools (all, and reception and instruction), managers' skill
        relative to the required skill, and the share of staff up to date. One count of staff by
        (employer, kind of post, up to date, uses the tools) and two weighted sums, whatever the
        number of aggregates (counts are integers: the sums are exact in any order)."""
        st, c = self.staff, self.colls
        scale = self.cfg.territory.staff_scale
        rows = st.active_rows()
        emp = st.active_employers()
        skill = st.skill[rows]
        family = st.job_family[rows]
        required, threshold = self.required_skill, self.illectronism_threshold
        proficient = skill >= required
        use = uses_tools(skill, required, self.cfg.drivers.following_band)
        ill = skill < threshold
        # Kind of post: 0 other, 1 front line (reception, instruction), 2 manager, 3 own digital,
        # 4 digital hired under the recruitment lever.
        code = np.zeros(len(rows), dtype=np.uint8)
        for fam, kind in enumerate(_POST_KIND.tolist()):  # a table look-up, on bytes
            if kind:
                code += (family == fam).view(np.uint8) * np.uint8(kind)
        code += st.recruited[rows] & (family == DIGITAL)
        # Cell of each staff member: 8 * kind + 4 * in illectronism + 2 * up to date + uses the
        # tools (40 cells); the metrics count the staff by employer from the same cells.
        code <<= 3
        code |= ill.view(np.uint8) << 2
        code |= proficient.view(np.uint8) << 1
        code |= use.view(np.uint8)
        cell = code.astype(np.int64)
        cell *= c.n
        cell += emp
        cells = np.bincount(cell, minlength=40 * c.n).reshape(5, 2, 2, 2, c.n)  # kind, ill, prof, use
        self.staff_snapshot = StaffSnapshot(
            skill, family, proficient, use, ill, cells, (required, threshold, self.cfg.drivers.following_band)
        )
        n = cells.sum(axis=1).reshape(20, c.n)  # staff by (kind, up to date, uses), then employer
        by_kind = [n[k] + n[k + 1] + n[k + 2] + n[k + 3] for k in range(0, 20, 4)]
        count = sum(by_kind).astype(np.float64)
        users = sum(n[k] for k in range(1, 20, 2)).astype(np.float64)
        up_to_date = sum(n[k] + n[k + 1] for k in range(2, 20, 4)).astype(np.float64)
        front_n = by_kind[1].astype(np.float64)
        m_n = by_kind[2].astype(np.float64)
        total = np.bincount(emp, weights=skill, minlength=c.n)
        mean = ratio(total, count)
        c.staff_use_share = np.nan_to_num(ratio(users, count))
        c.proficient_share = np.nan_to_num(ratio(up_to_date, count))
        front_use = ratio(n[5] + n[7], front_n)
        # Managers' skill summed over the managers only: the other rows added 0.0 (no change).
        managers = np.flatnonzero(family == MANAGEMENT)  # indices: faster than a boolean mask here
        m_mean = ratio(np.bincount(emp.take(managers), weights=skill.take(managers), minlength=c.n), m_n)
        c.staff_mean_skill = mean
        c.n_staff = count.astype(np.int64)
        c.it_fte = by_kind[3] / scale
        c.recruited_fte = by_kind[4] / scale
        c.front_use_share = np.where(front_n > 0, front_use, c.staff_use_share)
        relative = np.clip(np.where(m_n > 0, m_mean, mean) / max(self.required_skill, 1e-9), 0.0, 1.0)
        c.manager_skill = np.nan_to_num(relative)

    # ---------------------------------------------------------------- running
    def run(self, progress=None) -> None:
        """Run to the horizon; ``progress(done, total, model)`` is called after each step."""
        total = self.n_history + self.n_steps
        while self.running and self.step_index < self.n_steps:
            self.step()
            if progress is not None:
                progress(self.step_index + self.n_history, total, self)
