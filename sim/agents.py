"""The Mesa agents: collectivités and their staff.

Both are real ``mesa.Agent`` subclasses, registered with the model, so that
``model.agents_by_type[Staff]`` and AgentSet operations (``select``, ``agg``, ``get``...) work
as Mesa users expect. Their attributes are properties over the model's column store
(:mod:`sim.state`): the processes update the columns in bulk, and an agent always shows its
current state. Writing an attribute writes the column.
"""

from __future__ import annotations

import mesa

from sim.state import CATEGORIES, JOB_FAMILIES, KINDS, POP_BANDS, PROFILES, maturity_profile


def _column(table: str, name: str, doc: str, cast=float):
    def getter(self):
        return cast(getattr(getattr(self.model, table), name)[self.row])

    def setter(self, value):
        getattr(getattr(self.model, table), name)[self.row] = value

    return property(getter, setter, doc=doc)


class Collectivite(mesa.Agent):
    """A collectivité territoriale: commune, EPCI, département or région."""

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = row

    kind = property(lambda self: KINDS[self.model.colls.kind[self.row]], doc="commune, epci, departement or region")
    code = property(lambda self: self.model.colls.codes[self.row], doc="INSEE/SIREN-like code")
    name = property(lambda self: self.model.colls.names[self.row])
    population = _column("colls", "population", "inhabitants")
    rural = _column("colls", "rural", "True for rural collectivités", bool)
    pop_band = property(lambda self: POP_BANDS[self.model.colls.pop_band[self.row]])
    budget = _column("colls", "budget", "yearly digital budget (EUR)")
    it_capacity = _column("colls", "it_fte", "own IT/digital staff (FTE)")
    sponsorship = _column("colls", "sponsorship", "political and managerial sponsorship, 0..1")
    maturity = _column("colls", "maturity", "digital maturity, 0..1")
    services_online = _column("colls", "services_online", "share of services online, 0..1")
    open_data = _column("colls", "open_data", "has published open data", bool)
    pool = _column("colls", "pool", "pool id (-1 when not pooled)", int)
    inhabitants_illectronism = _column("colls", "illectronism", "share of inhabitants in illectronism")
    inhabitants_excluded = _column("colls", "excluded", "share of inhabitants excluded from e-services")
    eservice_use = _column("colls", "eservice_use", "share of transactions made online")

    @property
    def pooled(self) -> bool:
        return self.pool >= 0

    @property
    def has_dsi(self) -> bool:
        """Own IT team at or above the critical size."""
        return self.it_capacity >= self.model.cfg.behaviour.dsi_critical_fte

    @property
    def has_strategy(self) -> bool:
        """A digital strategy: assumed once sponsorship and maturity are both above one half."""
        return self.sponsorship > 0.5 and self.maturity > 0.5

    @property
    def profile(self) -> str:
        return PROFILES[int(maturity_profile(self.maturity))]

    @property
    def staff(self) -> list:
        """The collectivité's current staff agents."""
        st = self.model.staff
        rows = st.active_rows()
        return [st.agents[r] for r in rows[st.employer[rows] == self.row]]

    def __repr__(self) -> str:
        return f"Collectivite({self.kind} {self.name!r}, pop={self.population:.0f}, maturity={self.maturity:.2f})"


class Staff(mesa.Agent):
    """An agent territorial employed by a collectivité."""

    __slots__ = ("row",)

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = row

    category = property(lambda self: CATEGORIES[self.model.staff.category[self.row]], doc="A, B or C")
    job_family = property(lambda self: JOB_FAMILIES[self.model.staff.job_family[self.row]])
    age = _column("staff", "age", "years")
    skill = _column("staff", "skill", "digital skill, 0..1")
    attitude = _column("staff", "attitude", "resistance to digital change, 0..1")
    last_training = _column("staff", "last_training", "step of the last training (-1: never)", int)

    @property
    def employer(self) -> Collectivite:
        return self.model.collectivites[self.model.staff.employer[self.row]]

    @property
    def illectronic(self) -> bool:
        return self.skill < self.model.illectronism_threshold

    @property
    def proficient(self) -> bool:
        return self.skill >= self.model.required_skill

    def __repr__(self) -> str:
        return f"Staff({self.category}, {self.job_family}, age={self.age:.0f}, skill={self.skill:.2f})"
