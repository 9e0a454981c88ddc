"""What every policy lever shares: its budget for the step, how it is shared among
collectivités (allocation), and the accounting of the money it spends or cannot spend.

A lever's budget is ``budget_eur_per_staff`` (per staff member of the territory, per year); it is
shared among collectivités by the lever's ``allocation``: in proportion to their staff, to their
staff times their need (each lever declares what its need is, see
:class:`sim.processes.Process`), to the staff of rural collectivités, or of communes of some
population bands. A lever's budget is an envelope over the policy period: money it cannot spend
in a step (no one to train within the training supply, posts not filled yet...) stays available
at the next steps, and what is left at the end is recorded as ``unspent_<key>`` (at the last
step) with a warning, never silently dropped.
"""

from __future__ import annotations

import logging

import numpy as np

from sim.config import LEVERS

log = logging.getLogger("sim")


def lever_config(model, name: str):
    return getattr(model.cfg, name)


def step_budget(model, name: str) -> float:
    """The lever's new money for this step (EUR): 0 during the history period."""
    if not model.flows.levers_on:
        return 0.0
    budget = getattr(lever_config(model, name), LEVERS[name].budget_field)
    return float(budget) * float(model.flows.staff.sum()) / model.steps_per_year


#: Unspent money at the end above this share of a lever's total budget is warned about.
WARN_SHARE = 0.01


def available(model, name: str) -> float:
    """What the lever may spend this step: its new money plus what it left unspent before (a
    lever's budget is an envelope over the policy period, like a State programme's credits)."""
    return step_budget(model, name) + model.envelope[name]


def remaining_years(model) -> float:
    """Years of the policy period left after this step."""
    return max(model.n_steps - model.step_index, 0) / model.steps_per_year


def allocation_weights(model, name: str) -> np.ndarray:
    """Non-negative weight of each collectivité in the lever's money (not normalised)."""
    from sim.processes import LEVER_PROCESS
    from sim.state import POP_BANDS

    cfg = lever_config(model, name)
    c = model.colls
    staff = model.flows.staff
    if cfg.allocation == "staff":
        return staff.copy()
    if cfg.allocation == "need":
        need = np.maximum(np.nan_to_num(LEVER_PROCESS[name].needs[name](model)), 0.0)
        return staff * need
    if cfg.allocation == "rural":
        return staff * c.rural
    bands = np.isin(c.pop_band, [POP_BANDS.index(b) for b in cfg.allocation_bands])
    return staff * ((c.kind == 0) & bands)


def share(model, name: str, money: float) -> np.ndarray:
    """The lever's money split among collectivités by its allocation weights (EUR each)."""
    w = allocation_weights(model, name)
    total = w.sum()
    if total <= 0 or money <= 0:
        return np.zeros(model.colls.n)
    return money * w / total


def record(model, name: str, spent: float, had: float) -> None:
    """Record what a lever spent this step out of what it ``had`` (:func:`available`). The rest
    stays in its envelope for the next steps; what is left at the end of the policy period is
    recorded as ``unspent_<key>`` at the last step, with a warning."""
    key = LEVERS[name].spend_key
    spent = float(spent)
    model.spend[key] += spent
    model.lever_total[name] += step_budget(model, name)
    model.envelope[name] = max(0.0, float(had) - spent)
    if model.step_index >= model.n_steps and model.envelope[name] > 0.0:
        model.spend[f"unspent_{key}"] += model.envelope[name]
        if model.envelope[name] > WARN_SHARE * model.lever_total[name]:
            model.unspent_warnings[name] = model.envelope[name]
        model.envelope[name] = 0.0


def warn_unspent(model) -> None:
    """Log once per run the levers that could not spend all their money."""
    for name, unspent in sorted(model.unspent_warnings.items()):
        key, total = LEVERS[name].spend_key, model.lever_total[name]
        log.warning(
            "lever %s left %.3g EUR of its %.3g EUR budget unspent (%.0f %%): see spend_unspent_%s_eur",
            name,
            unspent,
            total,
            100.0 * unspent / total if total else 0.0,
            key,
        )
