"""The Mesa agents: collectivités and their staff.

Both are real ``mesa.Agent`` subclasses, registered with the model, so that
``model.agents_by_type[Staff]`` and AgentSet operations (``select``, ``agg``, ``get``...) work
as Mesa users expect. Their attributes are properties over the model's column store
(:mod:`sim.state`): the processes update the columns in bulk, and an agent always shows its
current state. Writing an attribute writes the column.

The collectivités' agents are created with the model. The staff's agents are created on demand
(:meth:`sim.model.TransitionModel.materialize_staff`): the rules never need them, and two
million Python objects cost seconds and hundreds of megabytes. The first access to
``model.agents``, ``model.agents_by_type``, ``model.agent_types``, ``Collectivite.staff``, an
observer of the model's agent signals or a Mesa data set tracking :class:`Staff` creates them
all, with the ``unique_id`` each staff member was given when hired (the column
``StaffTable.uid``): the same ids, in the same order, as if they had been created then; from
then on, hires and departures create and remove agents as they happen.
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


class StaffGoneError(LookupError):
    """A staff agent whose row was dropped: it left the model before the last compaction."""


def _gone(agent) -> StaffGoneError:
    return StaffGoneError(
        f"staff agent {agent.unique_id} left the model and its row was dropped when the staff "
        "columns were compacted: its state is no longer kept"
    )


def _staff_column(name: str, doc: str, cast=float):
    """Property over a StaffTable column; the agent's ``row`` is None once its row is dropped."""

    def getter(self):
        try:
            return cast(getattr(self.model.staff, name)[self.row])
        except (TypeError, ValueError):
            if self.row is None:
                raise _gone(self) from None
            raise

    def setter(self, value):
        if self.row is None:
            raise _gone(self)
        getattr(self.model.staff, name)[self.row] = value

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
        """The collectivité's current staff agents (creates the staff agents if not yet done)."""
        agents = self.model.materialize_staff()
        st = self.model.staff
        rows = st.active_rows()
        return [agents[r] for r in rows[st.active_employers() == self.row].tolist()]

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
    """An agent territorial employed by a collectivité.

    Created by the model, on demand (see the module's doc), never directly: hires go through
    ``model.add_staff``. ``row`` is its row in ``model.staff``; it changes when the model
    compacts the staff columns, and becomes None for an agent that left the model before a
    compaction (its attributes then raise :class:`StaffGoneError`). ``remove()`` makes the
    staff member leave: its row becomes inactive and the agent is deregistered.
    """

    # Every attribute Mesa and the model set has a slot: no per-agent dict. (On Python 3.13 a
    # subclass with only ``row`` in its slots gets a real dict: 430 bytes an agent, not 110.)
    __slots__ = ("model", "pos", "row", "unique_id")

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = row

    def _code(self, column: str) -> int:
        row = self.row
        if row is None:
            raise _gone(self)
        return getattr(self.model.staff, column)[row]

    category = property(lambda self: CATEGORIES[self._code("category")], doc="A, B or C")
    job_family = property(lambda self: JOB_FAMILIES[self._code("job_family")])
    age = _staff_column("age", "years")
    skill = _staff_column("skill", "digital skill, 0..1")
    attitude = _staff_column("attitude", "resistance to digital change, 0..1")
    last_training = _staff_column("last_training", "step of the last training (sim.state.NEVER: never)", int)
    recruited = _staff_column("recruited", "hired under the recruitment lever", bool)
    pending_gain = _staff_column("pending_gain", "skill of a completed training, not yet usable at work")
    gain_step = _staff_column("gain_step", "step when the pending gain becomes usable (NEVER: none)", int)
    fresh_gain = _staff_column("fresh_gain", "skill from training not yet consolidated by use")

    @property
    def employer(self) -> Collectivite:
        return self.model.collectivites[self._code("employer")]

    @property
    def illectronic(self) -> bool:
        return self.skill < self.model.illectronism_threshold

    @property
    def proficient(self) -> bool:
        return self.skill >= self.model.required_skill

    def remove(self) -> None:
        """The staff member leaves the model (its row becomes inactive, the agent is
        deregistered from Mesa); nothing happens if it has already left."""
        row = self.row
        if row is not None and self.model.staff.active[row]:
            self.model.remove_staff(np.array([row]))

    def __repr__(self) -> str:
        if self.row is None:
            return f"Staff({self.unique_id}, left)"
        return f"Staff({self.category}, {self.job_family}, age={self.age:.0f}, skill={self.skill:.2f})"


# ---------------------------------------------------------------------------------------------
# Creating and removing many agents at once
#
# ``Staff(model, row)`` costs about 3 µs in Mesa 3.5 (signal wrapper, logging call, two
# AgentSet insertions) and creating millions of tracked objects triggers repeated full garbage
# collections. The helpers below do exactly what ``Agent.__init__``/``Model.register_agent`` and
# ``Agent.remove``/``Model.deregister_agent`` do (same attributes, same ``unique_id`` sequence,
# same AgentSets, in the same order) in one pass, with the garbage collector paused. They fall
# back to the per-agent Mesa calls whenever someone could notice the difference: an observer
# of the model's ``agents`` signals, a signal batch, a data-recorder dataset tracking the agent
# class, or Mesa's debug logging (:func:`_bulk_ok`).
# They use Mesa 3.5 internals (``Model._all_agents``, ``Model._agents_by_type``, the ``_agents``
# dict of ``_HardKeyAgentSet``); mesa is pinned (pyproject.toml) and tests/test_national.py
# checks that the agents are those Mesa's own calls would give.
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


def watched(model, cls, signal=None) -> bool:
    """True if someone follows ``cls`` agents being added or removed: a subscriber to the
    model's agent signals (``signal``, or either) or a Mesa data set tracking the class. The
    model then creates the Staff agents, which it otherwise creates on demand."""
    signals = (signal,) if signal is not None else (ModelSignals.AGENT_ADDED, ModelSignals.AGENT_REMOVED)
    return bool(cls._datasets or any(model._has_subscribers("agents", s) for s in signals))


def _bulk_ok(model, cls, signal) -> bool:
    """False if creating or removing agents in bulk could be noticed: :func:`watched`, a signal
    batch, or Mesa's debug logging (one line an agent)."""
    return not (
        watched(model, cls, signal)
        or getattr(model, "_batch_context", None) is not None
        or _mesa_logger.isEnabledFor(logging.DEBUG)
    )


def _register(model, cls, agents: list) -> None:
    keys = dict.fromkeys(agents)
    model._all_agents._agents.update(keys)
    by_type = model._agents_by_type.get(cls)
    if by_type is None:
        by_type = _HardKeyAgentSet([], random=model.random)
        by_type._agents = keys  # what its constructor would build from ``agents``
        model._agents_by_type[cls] = by_type
    else:
        by_type._agents.update(keys)


def _new_agents(model, cls, rows: list, uids) -> list:
    new = object.__new__
    agents = []
    append = agents.append
    for uid, r in zip(uids, rows):
        a = new(cls)
        # The attributes Agent.__init__ sets, in its order, then the row.
        a.model = model
        a.unique_id = uid
        a.pos = None
        a.row = r
        append(a)
    return agents


def create_agents(model, cls, rows) -> list:
    """Create and register one ``cls(model, row)`` agent per row (new agents: the next
    ``unique_id`` of the model each, the ``agents`` signal sent); return them in row order."""
    rows = np.asarray(rows).tolist()
    if not rows:
        return []
    with gc_paused():
        if cls.__init__ not in (Staff.__init__, Collectivite.__init__) or not _bulk_ok(
            model, cls, ModelSignals.AGENT_ADDED
        ):
            return [cls(model, r) for r in rows]
        start = model.agent_id_counter
        agents = _new_agents(model, cls, rows, range(start, start + len(rows)))
        model.agent_id_counter = start + len(agents)
        _register(model, cls, agents)
    return agents


def materialize_agents(model, cls, rows, uids) -> list:
    """Agents for members that already exist in the columns (``rows``), with the unique ids they
    were given when created (``uids``): registered with Mesa in row order, without a signal
    (nothing was added to the model) and without touching the id counter; added to the Mesa
    data sets that track ``cls``. Returns them in row order."""
    rows = np.asarray(rows).tolist()
    uids = np.asarray(uids).tolist()
    if len(rows) != len(uids):
        raise ValueError("materialize_agents: one uid per row")
    with gc_paused():
        agents = _new_agents(model, cls, rows, uids)
        if agents:
            _register(model, cls, agents)
        for dataset in cls._datasets:
            for a in agents:
                model.data_registry[dataset].add_agent(a)
    return agents


def remove_agents(model, agents) -> None:
    """Deregister agents from Mesa, as ``mesa.Agent.remove`` does (each must be registered)."""
    agents = [a for a in agents if a is not None]
    if not agents:
        return
    classes = {type(a) for a in agents}
    if any(not _bulk_ok(model, cls, ModelSignals.AGENT_REMOVED) for cls in classes):
        for a in agents:
            mesa.Agent.remove(a)
        return
    everyone = model._all_agents._agents
    by_type = {cls: model._agents_by_type[cls]._agents for cls in classes}
    for a in agents:
        del by_type[type(a)][a]
        del everyone[a]
