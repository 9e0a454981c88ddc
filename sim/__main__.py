"""``python -m sim``: run the simulator (see :mod:`sim.cli`)."""

from sim.cli import main

main()
