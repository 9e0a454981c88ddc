"""Adoption by the collectivités: services online and open data (DESIGN.md, Process 7).

- Services online move toward what maturity allows, ``maturity ** exponent``, times the share of
  the staff who handle procedures (reception and instruction) who use the tools: a procedure put
  online that the back office processes on paper delivers little (« retour au papier »,
  DESIGN.md Process 7; seed 000 L104). The national obligation (70 %, seed 000 L47) pulls them
  up in proportion to IT capacity, harder as its deadline nears (:mod:`sim.processes.drivers`).
- Open data is published with a hazard growing with maturity squared (slow ramp-up, seed 000
  L54; initial size gradient from seed 004 L70).
"""

from __future__ import annotations

import numpy as np

from sim.processes import Process


def services_potential(maturity, front_use_share, exponent: float, gate_floor: float):
    return maturity**exponent * (gate_floor + (1.0 - gate_floor) * front_use_share)


def services_change(services, potential, capacity, speed: float, pull: float, target: float):
    return speed * (potential - services) + pull * capacity * np.maximum(0.0, target - services)


def step(model) -> None:
    c = model.colls
    d, o = model.cfg.drivers, model.cfg.organisation
    potential = services_potential(c.maturity, c.front_use_share, o.services_maturity_exponent, o.use_gate_floor)
    pull = d.obligation_pull * model.obligation_strength
    c.services_online = np.clip(
        c.services_online
        + services_change(c.services_online, potential, c.capacity_index, o.services_speed, pull, d.online_target),
        0.0,
        1.0,
    )
    publish = ~c.open_data & (model.streams["open_data"].random(c.n) < o.open_data_rate * c.maturity**2)
    c.open_data |= publish


PROCESS = Process(
    name="adoption",
    step=step,
    summary="services online toward what maturity and the staff's use allow, pulled by the obligation; open data",
    reads=("colls.maturity", "colls.front_use_share", "colls.capacity_index"),
    writes=("colls.services_online", "colls.open_data"),
)
