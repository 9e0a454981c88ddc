"""The GP emulator recovers known functions, and its uncertainty and leave-one-out checks are honest."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import qmc

from analysis.emulator import GPEmulator, loo_summary


def _f(x):
    return np.sin(3 * x[:, 0]) + 0.5 * x[:, 1] ** 2 + 0.2 * x[:, 0] * x[:, 1]


def test_emulator_recovers_a_known_function():
    x = qmc.LatinHypercube(d=3, seed=1).random(60) * 2 - 1
    emu = GPEmulator([-1] * 3, [1] * 3).fit(x, _f(x))
    xt = np.random.default_rng(0).uniform(-1, 1, (400, 3))
    mean, var = emu.predict(xt)
    err = mean - _f(xt)
    spread = _f(xt).std()
    assert np.sqrt(np.mean(err**2)) < 0.05 * spread
    # honest uncertainty: at least 90 % of the errors within 3 emulator sd
    assert np.mean(np.abs(err) <= 3 * np.sqrt(var) + 1e-6) >= 0.9
    # the third input does not matter: its length scale is much longer than the others'
    ls = emu.length_scales
    assert ls[2] > 5 * max(ls[0], ls[1])


def test_variance_is_small_at_training_points_and_grows_away():
    x = np.linspace(0, 1, 8)[:, None]
    emu = GPEmulator([0], [1], linear_mean=False).fit(x, np.sin(6 * x[:, 0]))
    _, v_train = emu.predict(x)
    _, v_mid = emu.predict((x[:-1] + x[1:]) / 2)
    assert v_train.max() < v_mid.min()


def test_known_noise_is_not_taken_for_signal():
    rng = np.random.default_rng(3)
    x = qmc.LatinHypercube(d=2, seed=2).random(80)
    truth = 2 * x[:, 0] - x[:, 1]
    y = truth + rng.normal(0, 0.1, len(x))
    emu = GPEmulator([0, 0], [1, 1]).fit(x, y, noise_var=np.full(len(x), 0.01))
    mean, _ = emu.predict(x)
    # the emulated mean is closer to the truth than the noisy outputs are
    assert np.sqrt(np.mean((mean - truth) ** 2)) < 0.6 * np.sqrt(np.mean((y - truth) ** 2))


def test_leave_one_out_is_calibrated_on_a_smooth_function():
    x = qmc.LatinHypercube(d=2, seed=5).random(50)
    emu = GPEmulator([0, 0], [1, 1]).fit(x, _f(np.column_stack([x, np.zeros(len(x))])))
    s = loo_summary(emu.loo())
    assert s["n"] == 50
    assert s["r2"] > 0.99
    assert s["within_3sd"] >= 0.9


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="hi > lo"):
        GPEmulator([0, 1], [1, 1])
    emu = GPEmulator([0], [1])
    with pytest.raises(ValueError, match="at least 3"):
        emu.fit(np.array([[0.1], [0.2]]), np.array([1.0, np.nan]))
    with pytest.raises(RuntimeError, match="fit"):
        emu.predict(np.array([[0.5]]))
