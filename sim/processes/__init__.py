"""The processes of one step, in the order the model runs them.

Each module holds one process: a ``step(model)`` function of vectorised updates over the
model's columns (:mod:`sim.state`), the elementwise formulas it uses (written so that they apply
to numpy arrays and to scalars alike, for the per-agent reference loop of :mod:`sim.reference`),
and a :class:`Process` declaration: what it reads and changes, which policy levers it carries out,
and for each of them what "need" means when the lever is allocated by need. Every list of
processes, levers' needs and random streams derives from these declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Process:
    """What a process is, reads and changes.

    ``reads`` and ``writes`` name columns as ``"colls.<column>"`` or ``"staff.<field>"``
    (:data:`sim.state.COLLECTIVITE_COLUMNS`, :attr:`sim.state.StaffTable.FIELDS`); a process
    that writes staff columns makes the staff aggregates of the collectivités stale, and the
    model refreshes them before the next process that reads one. ``levers`` are the policy
    levers (config groups of :data:`sim.config.LEVERS`) the process carries out, and ``needs``
    gives, for each, the collectivités' need per staff member (>= 0) that allocation='need'
    weighs staff by.
    """

    name: str
    step: Callable
    summary: str
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    levers: tuple[str, ...] = ()
    needs: dict[str, Callable] = field(default_factory=dict)

    @property
    def changes_staff(self) -> bool:
        return any(w.startswith("staff.") for w in self.writes)


def _order() -> tuple[Process, ...]:
    from sim.processes import (
        adoption,
        budget,
        drivers,
        governance,
        inhabitants,
        it_staff,
        maturity,
        mutualisation,
        peer_learning,
        practice,
        recruitment,
        training,
        turnover,
    )

    return tuple(
        m.PROCESS
        for m in (
            drivers,  # 1. exogenous drivers: required skill, obligations, elections calendar, shocks
            budget,  # 2. budgets: digital salaries, own training, investment, calls for projects
            it_staff,  # 5. the collectivités' own hiring of digital staff
            mutualisation,  # 6b. pools: joining, fees, subsidies, pooled capacity (lever)
            recruitment,  # 5b. digital profiles paid by the State (lever)
            training,  # 3. own training and the training lever
            peer_learning,  # 4. colleagues and referents (lever)
            practice,  # 3b. skills follow the bar by practice, or fade unused
            turnover,  # 5. ageing, retirement, departures, replacements
            governance,  # sponsorship (elections, peers, results; awareness lever), strategy, monitoring
            maturity,  # 6. capacity and maturity dynamics
            adoption,  # 7. services online (gated by staff use), open data
            inhabitants,  # 7b. illectronism by age, human help (mediation lever), exclusion, e-services
        )
    )


#: The processes of a step, in order.
STEP_ORDER: tuple[Process, ...] = _order()

#: Lever name -> the process that carries it out.
LEVER_PROCESS: dict[str, Process] = {lever: p for p in STEP_ORDER for lever in p.levers}

__all__ = ["LEVER_PROCESS", "STEP_ORDER", "Process"]
