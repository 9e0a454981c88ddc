"""The Mesa agents: collectivités and their staff.

Both are real ``mesa.Agent`` subclasses, registered with the model, so that
``model.agents_by_type[Staff]`` and AgentSet operations (``select``, ``agg``, ``get``...) work
as Mesa users expect. Their attributes are properties over the model's column store
(:mod:`sim.state`): the processes update the columns in bulk, and an agent always shows its
current state. Writing an attribute writes the column.
"""

from __future__ import annotations

import gc
import logging
from contextlib import contextmanager

import mesa
import numpy as np
from mesa.agentset import _HardKeyAgentSet
from mesa.experimental.mesa_signals.signal_types import ModelSignals
from mesa.model import _mesa_logger

from sim.state import CATEGORIES, COLLECTIVITE_COLUMNS, JOB_FAMILIES, KINDS, POP_BANDS, PROFILES


def _column(table: str, name: str, doc: str, cast=float):
    def getter(self):
        return cast(getattr(getattr(self.model, table), name)[self.row])

    def setter(self, value):
        getattr(getattr(self.model, table), name)[self.row] = value

    return property(getter, setter, doc=doc)


class Collectivite(mesa.Agent):
    """A collectivité territoriale: commune, EPCI, département or région.

    Every scalar column of :data:`sim.state.COLLECTIVITE_COLUMNS` is an attribute (read and
    written through the model's columns); ``kind``, ``pop_band`` and ``profile`` give labels.
    """

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = row

    code = property(lambda self: self.model.colls.codes[self.row], doc="INSEE/SIREN-like code")
    name = property(lambda self: self.model.colls.names[self.row])

    @property
    def pooled(self) -> bool:
        return self.pool >= 0

    @property
    def has_dsi(self) -> bool:
        """Own IT team at or above the critical size."""
        return self.it_fte + self.recruited_fte >= self.model.cfg.organisation.dsi_critical_fte

    @property
    def profile(self) -> str:
        """Survey profile (Observateur ... Systémique) from the criteria it meets."""
        from sim.processes.governance import profile_index

        c = self.model.colls
        return PROFILES[int(profile_index(c, self.model.cfg.organisation)[self.row])]

    @property
    def staff(self) -> list:
        """The collectivité's current staff agents."""
        st = self.model.staff
        rows = st.active_rows()
        return [st.agents[r] for r in rows[st.employer[rows] == self.row]]

    def __repr__(self) -> str:
        return f"Collectivite({self.kind} {self.name!r}, pop={self.population:.0f}, maturity={self.maturity:.2f})"


_CASTS = {np.dtype(bool): bool, np.dtype(np.int64): int, np.dtype(np.int8): int}
_LABELS = {"kind": KINDS, "pop_band": POP_BANDS}
for _name, _col in COLLECTIVITE_COLUMNS.items():
    if _col.shape:  # a vector per collectivité: its row of the column (a view: writes go through)
        setattr(Collectivite, _name, _column("colls", _name, _col.doc, lambda row: row))
    elif _name in _LABELS:
        setattr(
            Collectivite,
            _name,
            property(lambda self, n=_name: _LABELS[n][self.model.colls.__dict__[n][self.row]], doc=_col.doc),
        )
    else:
        setattr(Collectivite, _name, _column("colls", _name, _col.doc, _CASTS.get(np.dtype(_col.dtype), float)))
#: Former names of attributes, kept for existing scripts.
Collectivite.it_capacity = _column("colls", "it_fte", "own digital/IT staff (FTE)")
Collectivite.inhabitants_illectronism = _column("colls", "illectronism", "share of inhabitants in illectronism")
Collectivite.inhabitants_excluded = _column("colls", "excluded", "share of inhabitants excluded")


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
    last_training = _column("staff", "last_training", "step of the last training (sim.state.NEVER: never)", int)
    recruited = _column("staff", "recruited", "hired under the recruitment lever", bool)
    pending_gain = _column("staff", "pending_gain", "skill of a completed training, not yet usable at work")
    gain_step = _column("staff", "gain_step", "step when the pending gain becomes usable (NEVER: none)", int)
    fresh_gain = _column("staff", "fresh_gain", "skill from training not yet consolidated by use")

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


# ---------------------------------------------------------------------------------------------
# Creating and removing many agents at once
#
# ``Staff(model, row)`` costs about 3 µs in Mesa 3.5 (signal wrapper, logging call, two
# AgentSet insertions) and creating millions of tracked objects triggers repeated full garbage
# collections: about 7 s for the 2 million staff of France. The helpers below do exactly what
# ``Agent.__init__``/``Model.register_agent`` and ``Agent.remove``/``Model.deregister_agent`` do
# (same attributes, same ``unique_id`` sequence, same AgentSets, in the same order) in one pass,
# with the garbage collector paused. They fall back to the per-agent Mesa calls whenever someone
# could notice the difference: an observer of the model's ``agents`` signals, a signal batch,
# a data-recorder dataset tracking the agent class, or Mesa's debug logging.
# They use Mesa 3.5 internals (``Model._all_agents``, ``Model._agents_by_type``, the ``_agents``
# dict of ``_HardKeyAgentSet``); mesa is pinned (pyproject.toml) and
# tests/test_national.py checks that the agents are those Mesa's own calls would give.
# ---------------------------------------------------------------------------------------------
@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector (restored on exit, even on error)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _bulk_ok(model, cls, signal) -> bool:
    return (
        not cls._datasets
        and getattr(model, "_batch_context", None) is None
        and not model._has_subscribers("agents", signal)
        and not _mesa_logger.isEnabledFor(logging.DEBUG)
    )


def create_agents(model, cls, rows) -> list:
    """Create and register one ``cls(model, row)`` agent per row; return them in row order."""
    rows = np.asarray(rows).tolist()
    if not rows:
        return []
    with gc_paused():
        if cls.__init__ not in (Staff.__init__, Collectivite.__init__) or not _bulk_ok(
            model, cls, ModelSignals.AGENT_ADDED
        ):
            return [cls(model, r) for r in rows]
        new = object.__new__
        agents = []
        append = agents.append
        start = model.agent_id_counter
        for uid, r in zip(range(start, start + len(rows)), rows):
            a = new(cls)
            # The attributes Agent.__init__ sets, in its order, then the row.
            a.model = model
            a.unique_id = uid
            a.pos = None
            a.row = r
            append(a)
        model.agent_id_counter = start + len(agents)
        keys = dict.fromkeys(agents)
        model._all_agents._agents.update(keys)
        by_type = model._agents_by_type.get(cls)
        if by_type is None:
            model._agents_by_type[cls] = _HardKeyAgentSet(agents, random=model.random)
        else:
            by_type._agents.update(keys)
    return agents


def remove_agents(model, agents) -> None:
    """``agent.remove()`` for each agent (each must be registered with ``model``)."""
    agents = [a for a in agents if a is not None]
    if not agents:
        return
    classes = {type(a) for a in agents}
    if any(not _bulk_ok(model, cls, ModelSignals.AGENT_REMOVED) for cls in classes):
        for a in agents:
            a.remove()
        return
    everyone = model._all_agents._agents
    by_type = {cls: model._agents_by_type[cls]._agents for cls in classes}
    for a in agents:
        del by_type[type(a)][a]
        del everyone[a]
