"""The model: a Mesa model of collectivités and their staff.

:class:`TransitionModel` builds the territory, creates one :class:`~sim.agents.Collectivite`
agent per collectivité and, on demand, one :class:`~sim.agents.Staff` agent per modelled staff
member (:meth:`TransitionModel.materialize_staff`), and runs the processes of
:mod:`sim.processes` in order at each step (a quarter by default). State lives in the column
store (:mod:`sim.state`); the agents are views on it.
"""

from __future__ import annotations

from collections import Counter

import mesa
import numpy as np
from mesa.experimental.mesa_signals.signal_types import ModelSignals

from sim import metrics
from sim.agents import Collectivite, Staff, create_agents, materialize_agents, remove_agents, watched
from sim.config import Config, to_config
from sim.processes import STEP_ORDER
from sim.selection import group_mean
from sim.state import SPEND_CATEGORIES, StaffTable, tune_malloc
from sim.territory import build_territory
from sim.territory.staffing import populate

#: Spending categories: the collectivités' own money (investment, own training, contributions
#: paid into their pools) and the policy levers' money (the others).


#: Processes that leave every staff column unchanged (they read the staff at most). After the
#: last staff-changing process the staff aggregates are up to date and are not recomputed.
STAFF_UNCHANGED = frozenset({"drivers", "budget", "mutualisation", "sponsorship", "maturity", "adoption"})


def process_name(process) -> str:
    """Short name of a process ('turnover'): a module of sim.processes or any object with a
    ``step(model)`` method and a ``name`` (the per-agent versions of :mod:`sim.reference`)."""
    return getattr(process, "name", None) or process.__name__.rsplit(".", 1)[-1]


class TransitionModel(mesa.Model):
    """Digital transition of the collectivités of a territory and of their staff."""

    #: The processes of a step, in order (each has ``step(model)``).
    processes = STEP_ORDER
    #: Compact the staff columns (drop the rows of leavers, :meth:`StaffTable.compact`) after
    #: turnover once leavers are more than this share of the rows; None: never. Results do not
    #: depend on it (tests/test_national.py); only the row numbers do.
    staff_compaction: float | None = 0.05

    def __init__(self, config: Config | None = None, *, rng: int | None = None, **kwargs):
        cfg = to_config(config if config is not None else Config())
        tune_malloc()  # large temporaries without page faults (sim.state)
        seed = cfg.seed if rng is None else rng
        super().__init__(rng=seed, **kwargs)
        self.cfg = cfg
        self.steps_per_year = cfg.simulation.steps_per_year
        self.n_steps = cfg.simulation.years * self.steps_per_year
        self.year = float(cfg.simulation.start_year)
        self.required_skill = cfg.drivers.required_skill_start
        self.illectronism_threshold = cfg.drivers.illectronism_threshold
        self.step_index = 0
        self.budget_factor = 1.0
        self.counters: Counter = Counter()
        self.events: list = []
        self.carry = {"own_training": 0.0, "training": 0.0, "sponsorship": 0.0}
        self.spend = dict.fromkeys(SPEND_CATEGORIES, 0.0)

        self.territory = build_territory(cfg.territory, self.rng)
        self.colls, self.staff = populate(self.territory, cfg, self.rng)
        self.pool_fte_share = np.zeros(self.colls.n)
        self._pool_hosts = None
        self.alloc_investment = np.zeros(self.colls.n)
        self.collectivites = create_agents(self, Collectivite, np.arange(self.colls.n))
        # The staff's unique ids follow the collectivités'; their agents are created on demand.
        self.agent_id_counter = self.staff.assign_uids(self.agent_id_counter)
        self.refresh_staff_aggregates()
        self.budget_staff = self.colls.n_staff / cfg.territory.staff_scale
        self.colls.capacity_index = self._initial_capacity()
        c = self.colls
        c.excluded = c.illectronism.copy()
        c.eservice_use = c.services_online * (1.0 - c.excluded) * cfg.behaviour.eservice_ceiling
        self.aggregate_inhabitants()
        self.records: list[tuple] = []
        metrics.collect(self)

    # ---------------------------------------------------------------- time
    def crossed(self, year: float) -> bool:
        """True if ``year`` falls within the step just taken."""
        return self.year - 1.0 / self.steps_per_year < year <= self.year + 1e-9

    def step(self) -> None:
        # Mesa advances ``time`` by one before calling step(): it is the index of this step.
        self.step_index = round(self.time)
        self.year = self.cfg.simulation.start_year + self.step_index / self.steps_per_year
        self.spend = dict.fromkeys(SPEND_CATEGORIES, 0.0)
        stale = False  # staff changed since the last refresh of the staff aggregates
        for process in self.processes:
            process.step(self)
            name = process_name(process)
            if name == "turnover":  # the processes after it read the refreshed aggregates
                self.compact_staff()
                self.refresh_staff_aggregates()
                stale = False
            elif name not in STAFF_UNCHANGED:
                stale = True
        if stale:
            self.refresh_staff_aggregates()
        metrics.collect(self)
        if self.step_index >= self.n_steps:
            self.running = False

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
        st, c = self.staff, self.colls
        rows = st.active_rows()
        mean, count = group_mean(st.active_employers(), st.skill[rows], c.n)
        c.staff_mean_skill = mean
        c.n_staff = count.astype(np.int64)

    # ---------------------------------------------------------------- pools
    def pool_hosts(self) -> np.ndarray:
        """Row of the collectivité hosting each pool: the EPCI itself (pool id = its row), or
        for OPSN pools the département's collectivité (else its most populous commune)."""
        if self._pool_hosts is None:
            c = self.colls
            if self.cfg.mutualisation.mode == "opsn":
                n_dep = int(c.departement.max()) + 1
                hosts = np.full(n_dep, -1, dtype=np.int64)
                deps = np.flatnonzero(c.kind == 2)
                hosts[c.departement[deps]] = deps
                for d in np.flatnonzero(hosts < 0):
                    members = np.flatnonzero((c.departement == d) & (c.kind == 0))
                    hosts[d] = members[np.argmax(c.population[members])] if len(members) else 0
            else:
                hosts = np.arange(c.n)
            self._pool_hosts = hosts
        return self._pool_hosts

    def pooled_recruited_share(self) -> np.ndarray:
        """Digital profiles hired by a pool's host, shared among members (pooled hiring)."""
        c = self.colls
        if not (self.cfg.recruitment.pooled_hiring and (c.pool >= 0).any()):
            return np.zeros(c.n)
        hosts = self.pool_hosts()
        pooled = c.pool >= 0
        real_staff = c.n_staff / self.cfg.territory.staff_scale
        pool_staff = np.bincount(c.pool[pooled], weights=real_staff[pooled], minlength=len(hosts))
        host = hosts[np.maximum(c.pool, 0)]
        share = real_staff / np.maximum(pool_staff[np.maximum(c.pool, 0)], 1.0)
        return np.where(pooled & (host != np.arange(c.n)), c.recruited_fte[host] * share, 0.0)

    # ---------------------------------------------------------------- inhabitants
    def aggregate_inhabitants(self) -> None:
        """Give EPCI, départements and régions the population-weighted values of their communes."""
        c = self.colls
        communes = c.kind == 0
        w = c.population * communes
        for key, kind in ((c.epci, 1), (c.departement, 2), (c.region, 3)):
            rows = np.flatnonzero(c.kind == kind)
            if len(rows) == 0:
                continue
            valid = communes & (key >= 0)
            size = int(key.max()) + 1
            idx = rows if kind == 1 else key[rows]
            for name in ("illectronism", "excluded", "mediation_coverage"):
                col = getattr(c, name)
                mean, _ = group_mean(key[valid], col[valid], size, weights=w[valid])
                col[rows] = np.nan_to_num(mean[idx])
        groups = ~communes
        c.eservice_use[groups] = (
            c.services_online[groups] * (1.0 - c.excluded[groups]) * self.cfg.behaviour.eservice_ceiling
        )

    def _initial_capacity(self) -> np.ndarray:
        from sim.processes.maturity import capacity_index

        c = self.colls
        real_staff = np.maximum(c.n_staff / self.cfg.territory.staff_scale, 1.0)
        return capacity_index(c.it_fte, real_staff, c.it_fte < self.cfg.behaviour.dsi_critical_fte)

    # ---------------------------------------------------------------- running
    def run(self, progress=None) -> None:
        """Run to the horizon; ``progress(step, n_steps, model)`` is called after each step."""
        while self.running and self.step_index < self.n_steps:
            self.step()
            if progress is not None:
                progress(self.step_index, self.n_steps, self)
