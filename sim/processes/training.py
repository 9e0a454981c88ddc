"""Training: own training and the training lever (DESIGN.md, Process 3).

Each collectivité spends its own training budget on self-service e-learning offered to
staff at random (universal, voluntary). The training lever adds State money with a targeting
rule and a modality (seed 003 L37-39, recommendation 6; seed 003 L81-88, recommendation 23).

- Who completes: completion is linear in skill between two values per modality
  (``training.completion``). Self-service e-learning is completed mostly by the already
  skilled and not at all by staff in illectronism, who lack a work computer or the basic
  digital culture it presupposes (seed 002 L1317-1321; seed 000 L107: « peu ou pas de
  formation » for them), which widens the gap (seed 000 L108); blended training and tutoring
  reach the illectronic.
- Gain of a completed training: ``effect * efficacy * (1 - skill) * (1 - w * attitude)``:
  diminishing returns as skill nears 1, smaller for resistant staff. The effect size is
  unknown in the sources (seed 000 L109): a swept parameter.
- Money: trainees are bought with whole units of cost; what is left is carried over to the
  next step, so spending never exceeds the budget.
"""

from __future__ import annotations

import numpy as np

from sim.selection import first_k_per_group
from sim.state import INSTRUCTION, RECEPTION

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


def _train(model, budget, carry, modality: str, targeting: str, cost_per_real: float) -> tuple:
    """Offer training within each collectivité's budget; return (spent, new carry)."""
    st, c = model.staff, model.colls
    scale = model.cfg.territory.staff_scale
    cost = cost_per_real / scale  # a modelled agent stands for 1/scale real staff
    available = budget + carry
    quota = np.minimum(np.floor(available / cost), c.n_staff).astype(np.int64)
    spent = quota * cost
    if quota.sum() == 0:
        return 0.0, available
    rows = st.active_rows()
    skill = st.skill[rows]
    noise = model.rng.random(len(rows))
    if targeting == "furthest":
        keys = skill + 1e-6 * noise
    elif targeting == "most_impacted":
        keys = IMPACT_PRIORITY[st.job_family[rows]] + noise
    else:
        keys = noise
    chosen = rows[first_k_per_group(st.active_employers(), keys, quota)]
    s = st.skill[chosen]
    low, high = model.cfg.training.completion[modality]
    min_skill = model.illectronism_threshold if modality == "elearning" else 0.0
    completed = model.rng.random(len(chosen)) < completion_probability(s, low, high, min_skill)
    done = chosen[completed]
    b = model.cfg.behaviour
    eff = model.cfg.training.efficacy[modality]
    st.skill[done] = np.minimum(
        1.0,
        st.skill[done] + training_gain(st.skill[done], st.attitude[done], b.training_effect, eff, b.resistance_weight),
    )
    st.last_training[done] = model.step_index
    model.counters["trainings"] += len(chosen)
    model.counters["trainings_completed"] += int(completed.sum())
    return float(spent.sum()), available - spent


def step(model, train=_train, allocation=None) -> None:
    """Own training, then the training lever. ``train`` and ``allocation`` (default
    :func:`_train` and ``budget.lever_allocation``) are replaced by sim.reference's per-agent
    versions."""
    from sim.processes.budget import lever_allocation

    allocation = allocation or lever_allocation
    t = model.cfg.training
    spent_own, model.carry["own_training"] = train(
        model, model.alloc_own_training, model.carry["own_training"], "elearning", "universal", t.cost_eur["elearning"]
    )
    model.spend["own_training"] += spent_own
    if t.budget_eur_per_staff > 0:
        spent, model.carry["training"] = train(
            model,
            allocation(model, t.budget_eur_per_staff),
            model.carry["training"],
            t.modality,
            t.targeting,
            t.cost_eur[t.modality],
        )
        model.spend["training"] += spent
