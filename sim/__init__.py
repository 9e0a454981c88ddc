"""Agent-based simulator of the digital transition of French collectivités and their staff.

Layout: :mod:`sim.agents` (Mesa agents), :mod:`sim.state` (their columns),
:mod:`sim.territory` (territory builders), :mod:`sim.processes` (one module per process),
:mod:`sim.metrics` (outcomes), :mod:`sim.model` (the Mesa model), :mod:`sim.config` (every
parameter with its source), :mod:`sim.io` (outputs), :mod:`sim.cli` (Hydra command line),
:mod:`sim.api` (Python API).
"""

__version__ = "0.1.0"
