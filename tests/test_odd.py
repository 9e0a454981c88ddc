"""docs/ODD.md is kept in step with the code: every scheduled process and every config group is
described, the processes in the order the model runs them."""

from __future__ import annotations

import re
from pathlib import Path

from sim.config import GROUPS
from sim.processes import STEP_ORDER

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"


def _text() -> str:
    return ODD.read_text(encoding="utf-8")


def test_every_process_has_a_submodel_section_in_schedule_order():
    text = _text()
    names = [p.name for p in STEP_ORDER]
    headings = re.findall(r"^### 7\.\d+ .*`sim/processes/(\w+)\.py`", text, flags=re.MULTILINE)
    assert headings == names
    # The scheduling table of section 3 lists them in the same order.
    table = re.findall(r"^\| \d+ \| `(\w+)` \|", text, flags=re.MULTILINE)
    assert table == names


def test_every_config_group_is_described():
    text = _text()
    missing = [g for g in GROUPS if f"`{g}`" not in text]
    assert missing == []


def test_odd_has_the_sections_of_the_protocol():
    text = _text()
    for heading in (
        "## 1. Purpose and patterns",
        "## 2. Entities, state variables and scales",
        "## 3. Process overview and scheduling",
        "## 4. Design concepts",
        "## 5. Initialization",
        "## 6. Input data",
        "## 7. Submodels",
    ):
        assert heading in text
    for concept in (
        "Basic principles",
        "Emergence",
        "Adaptation",
        "Objectives",
        "Learning",
        "Prediction",
        "Sensing",
        "Interaction",
        "Stochasticity",
        "Collectives",
        "Observation",
    ):
        assert f"**{concept}.**" in text, concept


def test_state_variables_of_the_column_store_are_documented():
    from sim.state import CollectiviteTable, StaffTable

    text = _text()
    colls = CollectiviteTable(1)
    columns = [k for k, v in vars(colls).items() if hasattr(v, "shape")]
    missing = [c for c in columns if f"`{c}`" not in text]
    assert missing == []
    assert [f for f in StaffTable.FIELDS if f"`{f}`" not in text and f != "active"] == []
