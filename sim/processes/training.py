"""Training: own training and the training lever (DESIGN.md, Process 3).

Each collectivité spends its own training budget on self-service e-learning offered to staff
at random (universal, voluntary). The training lever adds State money, shared among collectivités
by its allocation, with a targeting rule inside each collectivité and a modality (seed 003
L37-39, recommendation 6; seed 003 L81-88, recommendation 23).

- Who is offered: staff who have not completed a training within ``staff.retrain_interval_years``
  and have no training gain still pending.
- Supply: the lever's places a year are limited by what training operators can deliver
  (``training.supply_per_1000_staff``, by modality), which grows by ``supply_growth`` a year
  while the funded demand exceeds it; money beyond the supply, or with no one left to train, is
  not spent now and stays in the lever's envelope (:mod:`sim.levers`); what is left at the end is
  reported (spend_unspent_training_eur). Whole places are bought.
- Who completes: completion is linear in skill between two values per modality
  (``training.completion``). Self-service e-learning is completed mostly by the already
  skilled and not at all by staff in illectronism, who lack a work computer or the basic
  digital culture it presupposes (seed 002 L1317-1321; seed 000 L107: « peu ou pas de
  formation » for them), which widens the gap (seed 000 L108); blended training and tutoring
  reach the illectronic.
- Gain of a completed training: ``effect * efficacy * (1 - skill) * (1 - w * attitude)``
  (diminishing returns, smaller for resistant staff; the effect size is unknown, seed 000 L109).
  It becomes usable at work ``staff.competence_delay_steps`` later, and then decays while its
  holder does not use the tools (:mod:`sim.processes.practice`).
"""

from __future__ import annotations

import numpy as np

from sim import levers
from sim.processes import Process
from sim.selection import first_k_per_group
from sim.state import INSTRUCTION, NEVER, RECEPTION

MODALITIES = ("elearning", "blended", "tutoring")
#: Priority of job families for 'most_impacted' targeting: reception and instruction first
#: (seed 000 L61: « fort besoin de renouvellement des compétences sur les fonctions d'accueil,
#: d'instruction-gestion »; seed 003 L81-88), then the others.
IMPACT_PRIORITY = np.array([0, 1, 2, 2, 3, 2])
assert IMPACT_PRIORITY[RECEPTION] == 0 and IMPACT_PRIORITY[INSTRUCTION] == 1


def completion_probability(skill, low: float, high: float, min_skill: float = 0.0):
    """Probability of completing a training: linear in skill from ``low`` to ``high``, and zero
    below ``min_skill`` (self-service e-learning presupposes basic digital skills)."""
    return np.where(skill < min_skill, 0.0, low + (high - low) * skill)


def training_gain(skill, attitude, effect: float, efficacy: float, resistance_weight: float):
    """Skill gained by completing one training (diminishing returns)."""
    return effect * efficacy * (1.0 - skill) * (1.0 - resistance_weight * attitude)


def need(model) -> np.ndarray:
    """Need for the lever: the share of a collectivité's staff below the required skill."""
    return 1.0 - model.colls.proficient_share


def eligible(last_training, gain_step, step_index: int, interval: int):
    """Staff who may be offered training: no training completed within ``interval`` steps, no
    gain pending."""
    return ((last_training == NEVER) | (step_index - last_training >= interval)) & (gain_step == NEVER)


def retrain_interval(model) -> int:
    """Steps between two trainings of the same staff member."""
    return round(model.cfg.staff.retrain_interval_years * model.steps_per_year)


def eligible_rows(model) -> np.ndarray:
    """Current staff who may be offered training: no training completed recently, no gain pending.
    (Tested on the whole columns, masked by ``active``: cheaper than gathering the active rows.)"""
    st = model.staff
    n = st.size
    # eligible() in three passes instead of six: ``last == NEVER or step - last >= interval`` is
    # ``last <= step - interval`` (NEVER is the smallest int32; the difference cannot overflow).
    latest = model.step_index - retrain_interval(model)
    if latest < NEVER:  # not with any real step index; kept exact all the same
        ok = eligible(st.last_training[:n], st.gain_step[:n], model.step_index, retrain_interval(model))
    else:
        ok = st.last_training[:n] <= latest
        ok &= st.gain_step[:n] == NEVER
    ok &= st.active[:n]
    return np.flatnonzero(ok)


def apply_due_gains(model) -> None:
    """Gains whose delay is over become skill (and start decaying if not used: practice)."""
    st = model.staff
    n = st.size
    gain_step = st.gain_step[:n]
    # gain_step <= step and gain_step != NEVER in one comparison: shifted as unsigned integers,
    # NEVER (the smallest int32) becomes the largest value and the order of the others is kept.
    shift = np.uint32(-(NEVER + 1))
    shifted = gain_step.view(np.uint32) + shift
    due = np.flatnonzero((shifted <= np.uint32(model.step_index + int(shift))) & st.active[:n])
    if len(due):
        gain = st.pending_gain[due]
        st.skill[due] = np.minimum(1.0, st.skill[due] + gain)
        st.fresh_gain[due] += gain
        st.pending_gain[due] = 0.0
        st.gain_step[due] = NEVER


def _train(model, money, carry, modality: str, targeting: str, cost_per_real: float, places: float, rng) -> tuple:
    """Offer training within each collectivité's money and within ``places`` (real trainees, the
    supply); return (spent, new carry per collectivité)."""
    st, c = model.staff, model.colls
    scale = model.cfg.territory.staff_scale
    cost = cost_per_real / scale  # a modelled agent stands for 1/scale real staff
    available = money + carry
    rows = eligible_rows(model)
    emp = st.employer[rows]
    n_eligible = np.bincount(emp, minlength=c.n)
    quota = np.minimum(np.floor(available / cost + 1e-9), n_eligible).astype(np.int64)
    total = int(quota.sum())
    limit = int(np.floor(places * scale + 1e-9)) if np.isfinite(places) else total
    if total > limit:  # the supply binds: cut every quota in the same proportion (largest remainders)
        exact = quota * (limit / total)
        quota_cut = np.floor(exact).astype(np.int64)
        rest = limit - int(quota_cut.sum())
        if rest > 0:
            order = np.argsort(-(exact - quota_cut), kind="stable")[:rest]
            quota_cut[order] += 1
        quota = quota_cut
    spent = quota * cost
    # Only the remainder smaller than one place is carried; the rest is not spent.
    new_carry = np.minimum(available - spent, cost)
    if quota.sum() == 0:
        return 0.0, new_carry
    noise = rng.random(len(rows))
    if targeting == "furthest":
        keys = st.skill[rows] + 1e-6 * noise
    elif targeting == "most_impacted":
        keys = IMPACT_PRIORITY[st.job_family[rows]] + noise
    else:
        keys = noise
    chosen = rows[first_k_per_group(emp, keys, quota)]
    s = st.skill[chosen]
    low, high = model.cfg.training.completion[modality]
    min_skill = model.illectronism_threshold if modality == "elearning" else 0.0
    completed = rng.random(len(chosen)) < completion_probability(s, low, high, min_skill)
    done = chosen.take(np.flatnonzero(completed))  # faster than a boolean mask here
    sc = model.cfg.staff
    eff = model.cfg.training.efficacy[modality]
    st.pending_gain[done] = training_gain(
        st.skill[done], st.attitude[done], sc.training_effect, eff, sc.resistance_weight
    )
    st.gain_step[done] = model.step_index + sc.competence_delay_steps
    st.last_training[done] = model.step_index
    model.counters["trainings"] += len(chosen)
    model.counters["trainings_completed"] += int(completed.sum())
    return float(spent.sum()), new_carry


def step(model, train=_train, apply_gains=apply_due_gains) -> None:
    """Gains due, then own training, then the training lever. ``train`` (default :func:`_train`)
    and ``apply_gains`` (:func:`apply_due_gains`) are replaced by sim.reference's per-agent
    versions."""
    apply_gains(model)
    t = model.cfg.training
    c = model.colls
    spent_own, model.carry["own_training"] = train(
        model,
        model.flows.own_training,
        model.carry["own_training"],
        "elearning",
        "universal",
        t.cost_eur["elearning"],
        np.inf,
        model.streams["training"],
    )
    model.spend["own_training"] += spent_own
    budget = levers.available(model, "training")
    spent = 0.0
    if budget > 0:
        # The lever's supply of places: its initial level, grown while the funded demand exceeds it.
        base = t.supply_per_1000_staff[t.modality] * float(model.flows.staff.sum()) / 1000.0
        supply = model.training_supply = max(model.training_supply or base, base)
        places = supply / model.steps_per_year
        demand = budget / t.cost_eur[t.modality]
        if demand > places:
            grown = supply * (1.0 + t.supply_growth) ** (1.0 / model.steps_per_year)
            model.training_supply = min(grown, demand * model.steps_per_year)
        spent, _ = train(
            model,
            levers.share(model, "training", budget),
            np.zeros(c.n),
            t.modality,
            t.targeting,
            t.cost_eur[t.modality],
            places,
            model.streams["lever.training"],
        )
    levers.record(model, "training", spent, budget)
    if model.cfg.staff.competence_delay_steps <= 0:  # gains with no delay (none due otherwise)
        apply_gains(model)


PROCESS = Process(
    name="training",
    step=step,
    summary="own e-learning and the training lever: who is offered, who completes, gains after a delay, within the supply",
    reads=("staff.skill", "staff.attitude", "staff.job_family", "staff.last_training"),
    writes=("staff.skill", "staff.pending_gain", "staff.gain_step", "staff.fresh_gain", "staff.last_training"),
    levers=("training",),
    needs={"training": need},
)
