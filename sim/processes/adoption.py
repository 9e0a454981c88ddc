"""Adoption: services online, staff actual use, inhabitants' e-service use (DESIGN.md, Process 7).

- Services online move toward what maturity allows (``maturity ** 0.8``) and are pulled toward
  the national target (70 %, seed 000 L47) in proportion to IT capacity.
- Open data is published with a hazard growing with maturity squared (slow ramp-up, seed 000
  L54; initial size gradient from seed 004 L70).
- Staff use the tools only if skilled enough, i.e. not overwhelmed (« le travail résiste au
  numérique », seed 000 L104; tools without skills are not used, seed 002): the use share of a
  collectivité is the share of its staff within ``following_band`` of the required skill.
- Inhabitants (per commune): the mediation lever funds conseillers numériques, allocated in
  proportion to inhabitants in illectronism, and optionally makes reception staff mediators
  (seed 003 L34-36). Coverage is ``1 - exp(-served / inhabitants in illectronism)``; covered
  inhabitants leave illectronism at ``exit_rate`` a year; the excluded are those in
  illectronism and not covered, and e-service use is ``services_online * (1 - excluded) *
  ceiling`` (ceiling 80 %, seed 002 L2296-2300).
"""

from __future__ import annotations

import numpy as np

from sim.state import RECEPTION


def services_change(services, maturity, capacity, speed: float, pull: float, target: float):
    return speed * (maturity**0.8 - services) + pull * capacity * np.maximum(0.0, target - services)


def mediation_coverage(served, illectronic_inhabitants):
    return 1.0 - np.exp(-served / np.maximum(illectronic_inhabitants, 1.0))


def step(model) -> None:
    c, st = model.colls, model.staff
    d, b, med = model.cfg.drivers, model.cfg.behaviour, model.cfg.mediation
    spy = model.steps_per_year
    c.services_online = np.clip(
        c.services_online
        + services_change(
            c.services_online, c.maturity, c.capacity_index, b.services_speed, d.obligation_pull, d.online_target
        ),
        0.0,
        1.0,
    )
    publish = ~c.open_data & (model.rng.random(c.n) < b.open_data_rate * c.maturity**2)
    c.open_data |= publish

    # Inhabitants live in communes: mediation and exclusion are computed on communes.
    communes = c.kind == 0
    illectronic = c.illectronism * c.population * communes
    served = np.zeros(c.n)
    if med.budget_eur_per_staff > 0:
        budget_year = med.budget_eur_per_staff * model.budget_staff.sum()
        rows = st.active_rows()
        reception_ok = (st.job_family[rows] == RECEPTION) & (st.skill[rows] >= model.required_skill - d.following_band)
        mediators = np.bincount(st.active_employers()[reception_ok], minlength=c.n) / model.cfg.territory.staff_scale
        mediators = np.where(communes, mediators, 0.0)
        agent_cost = med.agent_mediator_cost_eur * mediators.sum() if med.every_agent_mediator else 0.0
        funded = min(1.0, budget_year / agent_cost) if agent_cost > 0 else 1.0
        if med.every_agent_mediator:
            served += funded * mediators * med.inhabitants_per_agent_mediator
        conseiller_money = max(0.0, budget_year - min(agent_cost, budget_year))
        conseillers = conseiller_money / med.conseiller_cost_eur
        c.conseillers = conseillers * illectronic / max(illectronic.sum(), 1.0)
        served += c.conseillers * med.inhabitants_per_conseiller
        model.spend["mediation"] += (min(agent_cost, budget_year) + conseiller_money) / spy
    c.mediation_coverage = np.where(communes, mediation_coverage(served, illectronic), 0.0)
    exit_rate = b.inhabitant_learning + med.exit_rate * c.mediation_coverage
    c.illectronism = np.clip(c.illectronism * (1.0 - exit_rate / spy), 0.0, 1.0)
    c.excluded = c.illectronism * (1.0 - c.mediation_coverage)
    c.eservice_use = c.services_online * (1.0 - c.excluded) * b.eservice_ceiling
    model.aggregate_inhabitants()
