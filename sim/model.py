"""The model: a Mesa model of collectivités and their staff.

:class:`TransitionModel` builds the territory, creates one :class:`~sim.agents.Collectivite`
agent per collectivité and one :class:`~sim.agents.Staff` agent per modelled staff member, and
runs the processes of :mod:`sim.processes` in order at each step (a quarter by default). State
lives in the column store (:mod:`sim.state`); the agents are views on it.

Time: the model starts at ``simulation.history_start_year`` (2018) from the initial state and
runs its own dynamics without policy levers until ``simulation.start_year`` (the history period,
a spin-up: recorded with negative steps), then ``simulation.years`` of policy period, steps 1 to
``years * steps_per_year``; step 0 is the state at the start year.

Randomness: the territory and initial state come from the territory's seed; every process and
lever draws from its own stream of the run's seed (:mod:`sim.streams`).
"""

from __future__ import annotations

from collections import Counter

import mesa
import numpy as np

from sim import levers, metrics
from sim.agents import Collectivite, Staff, create_agents, remove_agents
from sim.config import LEVERS, Config, to_config
from sim.processes import STEP_ORDER
from sim.processes.maturity import update_capacity
from sim.processes.practice import uses_tools
from sim.selection import ratio
from sim.state import DIGITAL, INSTRUCTION, MANAGEMENT, RECEPTION, SPEND_CATEGORIES, StaffTable, StepFlows
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


def process_name(process) -> str:
    """Short name of a process ('turnover'): a :class:`sim.processes.Process` or any object with
    a ``name``."""
    return getattr(process, "name", None) or process.__name__.rsplit(".", 1)[-1]


class TransitionModel(mesa.Model):
    """Digital transition of the collectivités of a territory and of their staff."""

    #: The processes of a step, in order (each a :class:`sim.processes.Process`).
    processes = STEP_ORDER

    def __init__(self, config: Config | None = None, *, rng: int | None = None, **kwargs):
        cfg = to_config(config if config is not None else Config())
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
        self.staff.agents = create_agents(self, Staff, np.arange(self.staff.size))
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
        stale = False
        for process in self.processes:
            if stale and STAFF_AGGREGATES.intersection(process.reads):
                self.refresh_staff_aggregates()
                stale = False
            process.step(self)
            stale = stale or process.changes_staff
        if stale:
            self.refresh_staff_aggregates()
        metrics.collect(self)
        if self.step_index >= self.n_steps:
            self.running = False
            levers.warn_unspent(self)

    # ---------------------------------------------------------------- staff bookkeeping
    def add_staff(self, columns: dict) -> np.ndarray:
        """Append staff rows and create their Staff agents; return the new rows."""
        rows = self.staff.append(**columns)
        self.staff.agents.extend(create_agents(self, Staff, rows))
        return rows

    def remove_staff(self, rows: np.ndarray) -> None:
        """Staff leaving: mark their rows inactive and remove their agents from Mesa."""
        st: StaffTable = self.staff
        st.deactivate(rows)
        agents = st.agents
        leaving = [agents[r] for r in np.asarray(rows).tolist()]
        remove_agents(self, leaving)
        for r in np.asarray(rows).tolist():
            agents[r] = None

    def refresh_staff_aggregates(self) -> None:
        """Per collectivité: staff count and mean skill, digital staff (own and lever-hired), the
        shares of staff who use the tools (all, and reception and instruction), managers' skill
        relative to the required skill, and the share of staff up to date. One count of staff by
        (employer, kind of staff) and two weighted sums, whatever the number of aggregates."""
        st, c = self.staff, self.colls
        scale = self.cfg.territory.staff_scale
        rows = st.active_rows()
        emp = st.active_employers()
        skill = st.skill[rows]
        family = st.job_family[rows]
        digital = family == DIGITAL
        recruited = st.recruited[rows]
        use = uses_tools(skill, self.required_skill, self.cfg.drivers.following_band)
        managers = family == MANAGEMENT
        front = (family == RECEPTION) | (family == INSTRUCTION)
        # Bits: 1 uses the tools, 2 up to date, 4 own digital, 8 lever-hired digital, 16 front line,
        # 32 manager.
        code = (
            use.view(np.uint8)
            | ((skill >= self.required_skill).view(np.uint8) << 1)
            | ((digital & ~recruited).view(np.uint8) << 2)
            | ((digital & recruited).view(np.uint8) << 3)
            | (front.view(np.uint8) << 4)
            | (managers.view(np.uint8) << 5)
        )
        counts = np.bincount(emp * 64 + code, minlength=c.n * 64).reshape(c.n, 64).astype(np.float64)
        bits = np.arange(64)

        def n_with(mask_bits: int, value_bits: int | None = None) -> np.ndarray:
            sel = (bits & mask_bits) == (mask_bits if value_bits is None else value_bits)
            return counts[:, sel].sum(axis=1)

        count = counts.sum(axis=1)
        total = np.bincount(emp, weights=skill, minlength=c.n)
        mean = ratio(total, count)
        c.staff_use_share = np.nan_to_num(ratio(n_with(1), count))
        c.proficient_share = np.nan_to_num(ratio(n_with(2), count))
        front_n = n_with(16)
        front_use = ratio(n_with(17), front_n)
        m_n = n_with(32)
        m_mean = ratio(np.bincount(emp, weights=skill * managers, minlength=c.n), m_n)
        c.staff_mean_skill = mean
        c.n_staff = count.astype(np.int64)
        c.it_fte = n_with(4) / scale
        c.recruited_fte = n_with(8) / scale
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
