"""Gaussian-process emulators of the simulator (scikit-learn), for history matching and for the
sensitivity of policy differences.

An emulator stands in for one output of the simulator as a function of the uncertain
parameters: it predicts the output's *mean over seeds* at untried parameter values, with a
variance that says how sure the prediction is (small near the runs it was trained on, larger
away from them).

Model: ``y(x) = h(x)'b + g(x) + e`` with a linear trend ``h(x)'b`` in the inputs (least
squares), a Gaussian process ``g`` (constant x Matérn 5/2 with one length scale per input,
hyperparameters by maximum likelihood) and a noise term ``e`` for what varies between seeds:
known per point when several seeds were run (``noise_var``: the variance of the mean over a
point's seeds), plus a fitted white-noise level. Inputs are scaled to the unit cube by their
prior bounds. :meth:`GPEmulator.predict` returns the mean and the variance of the *latent* mean
function (without the noise): the emulator variance ``V_emu`` of history matching.

Leave-one-out diagnostics (:meth:`GPEmulator.loo`) use the closed form for a GP with fixed
hyperparameters (Rasmussen & Williams 2006, section 5.4.2): each run predicted from all the
others, with standardized errors that should look like N(0, 1) (about 95 % within ±2).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.linalg import cho_solve, solve_triangular

#: Points predicted at once (bounds the memory of the cross-covariance matrix).
CHUNK = 20_000


class GPEmulator:
    """One output of the simulator as a function of ``d`` inputs within ``[lo, hi]``."""

    def __init__(
        self,
        lo: Sequence[float],
        hi: Sequence[float],
        *,
        linear_mean: bool = True,
        nu: float = 2.5,
        n_restarts: int = 2,
        random_state: int = 0,
    ) -> None:
        self.lo = np.asarray(lo, dtype=float)
        self.hi = np.asarray(hi, dtype=float)
        if self.lo.shape != self.hi.shape or self.lo.ndim != 1 or not (self.hi > self.lo).all():
            raise ValueError("lo and hi must be 1-D, of the same length, with hi > lo")
        self.linear_mean = linear_mean
        self.nu = nu
        self.n_restarts = n_restarts
        self.random_state = random_state
        self.gp = None

    @property
    def d(self) -> int:
        return len(self.lo)

    def scale(self, x: np.ndarray) -> np.ndarray:
        """Inputs to the unit cube."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if x.shape[1] != self.d:
            raise ValueError(f"expected {self.d} inputs, got {x.shape[1]}")
        return (x - self.lo) / (self.hi - self.lo)

    def _h(self, u: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones(len(u)), u]) if self.linear_mean else np.ones((len(u), 1))

    def fit(self, x: np.ndarray, y: np.ndarray, noise_var: np.ndarray | float | None = None) -> GPEmulator:
        """Fit to outputs ``y`` at inputs ``x`` (``noise_var``: known noise variance of each y)."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        u = self.scale(x)
        y = np.asarray(y, dtype=float)
        if len(y) != len(u):
            raise ValueError("x and y have different lengths")
        ok = np.isfinite(y)
        if ok.sum() < 3:
            raise ValueError(f"an emulator needs at least 3 finite outputs, got {int(ok.sum())}")
        u, y = u[ok], y[ok]
        nv = np.zeros(len(y)) if noise_var is None else np.broadcast_to(np.asarray(noise_var, float), ok.shape)[ok]
        nv = np.where(np.isfinite(nv), nv, 0.0)
        h = self._h(u)
        if self.linear_mean and len(y) <= h.shape[1] + 2:
            self.linear_mean = False
            h = self._h(u)
        self.beta, *_ = np.linalg.lstsq(h, y, rcond=None)
        r = y - h @ self.beta
        self.r_mean = float(r.mean())
        self.r_scale = float(r.std()) or 1.0
        rs = (r - self.r_mean) / self.r_scale
        kernel = ConstantKernel(1.0, (1e-3, 1e2)) * Matern(
            length_scale=np.full(self.d, 0.5), length_scale_bounds=(1e-2, 1e2), nu=self.nu
        ) + WhiteKernel(1e-2, (1e-8, 1.0))
        self.gp = GaussianProcessRegressor(
            kernel,
            alpha=nv / self.r_scale**2 + 1e-8,
            normalize_y=False,
            n_restarts_optimizer=self.n_restarts,
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(u, rs)
        self.u_train, self.y_train, self.noise_train = u, y, nv
        return self

    @property
    def noise_level(self) -> float:
        """Fitted white-noise variance, in the output's units squared (variance of one run around
        the mean that the known ``noise_var`` does not explain)."""
        self._check()
        return float(self.gp.kernel_.k2.noise_level) * self.r_scale**2

    @property
    def length_scales(self) -> np.ndarray:
        """Length scales in the unit cube (large = the output hardly varies with that input)."""
        self._check()
        return np.atleast_1d(self.gp.kernel_.k1.k2.length_scale).astype(float)

    def _check(self) -> None:
        if self.gp is None:
            raise RuntimeError("fit the emulator first")

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, variance) of the emulated mean output at each row of ``x``."""
        self._check()
        u = self.scale(x)
        signal = self.gp.kernel_.k1
        means, variances = [], []
        for start in range(0, len(u), CHUNK):
            uc = u[start : start + CHUNK]
            ks = signal(uc, self.gp.X_train_)
            m = ks @ self.gp.alpha_
            v = solve_triangular(self.gp.L_, ks.T, lower=True, check_finite=False)
            var = signal.diag(uc) - np.einsum("ij,ij->j", v, v)
            means.append(self._h(uc) @ self.beta + self.r_mean + self.r_scale * m)
            variances.append(np.maximum(var, 0.0) * self.r_scale**2)
        return np.concatenate(means), np.concatenate(variances)

    def loo(self) -> pd.DataFrame:
        """Leave-one-out predictions of the training outputs: y, mean, sd, standardized error z."""
        self._check()
        kinv = cho_solve((self.gp.L_, True), np.eye(len(self.gp.L_)), check_finite=False)
        a = self.gp.alpha_
        d = np.diag(kinv)
        ys = self.gp.y_train_
        mean_s = ys - a / d
        var_s = 1.0 / d
        trend = self._h(self.u_train) @ self.beta + self.r_mean
        mean = trend + self.r_scale * mean_s
        sd = np.sqrt(var_s) * self.r_scale
        return pd.DataFrame({"y": self.y_train, "mean": mean, "sd": sd, "z": (self.y_train - mean) / sd})


def loo_summary(loo: pd.DataFrame) -> dict:
    """RMSE, R² and the share of standardized errors within ±2 and ±3 of a leave-one-out table."""
    y, m, z = loo["y"].to_numpy(), loo["mean"].to_numpy(), loo["z"].to_numpy()
    ss = float(((y - y.mean()) ** 2).sum())
    return {
        "n": len(y),
        "rmse": float(np.sqrt(np.mean((y - m) ** 2))),
        "r2": float(1 - ((y - m) ** 2).sum() / ss) if ss > 0 else float("nan"),
        "within_2sd": float(np.mean(np.abs(z) <= 2)),
        "within_3sd": float(np.mean(np.abs(z) <= 3)),
    }


__all__ = ["GPEmulator", "loo_summary"]
