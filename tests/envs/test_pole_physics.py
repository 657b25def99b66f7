"""Physics of the Wieland cart-pole: signs, falling, conservation laws, linearization."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from rnnai.envs.pole import (
    DOUBLE_POLE,
    SINGLE_POLE,
    PoleConfig,
    action_to_force,
    advance,
    derivatives,
    linearize,
    physics_params,
)

FRICTIONLESS = PoleConfig(mu_c=0.0, mu_p=0.0)


def _energy(s: np.ndarray, c: PoleConfig) -> float:
    """Kinetic + potential energy of uniform rods (I = m l^2 / 3) hinged on the cart."""
    x_dot = s[1]
    e = 0.5 * c.mass_cart * x_dot**2
    for theta, omega, m, length in (
        (s[2], s[3], c.mass_pole_1, c.half_length_1),
        (s[4], s[5], c.mass_pole_2, c.half_length_2),
    )[: c.n_poles]:
        e += 0.5 * m * x_dot**2 + m * length * math.cos(theta) * x_dot * omega
        e += 2.0 / 3.0 * m * length**2 * omega**2
        e += m * (-c.gravity) * length * math.cos(theta)
    return e


def _momentum(s: np.ndarray, c: PoleConfig) -> float:
    """Horizontal momentum (M + sum m_i) x' + sum m_i l_i cos(theta_i) theta_i'."""
    p = c.mass_cart * s[1]
    for theta, omega, m, length in (
        (s[2], s[3], c.mass_pole_1, c.half_length_1),
        (s[4], s[5], c.mass_pole_2, c.half_length_2),
    )[: c.n_poles]:
        p += m * s[1] + m * length * math.cos(theta) * omega
    return p


@pytest.mark.parametrize("config", [SINGLE_POLE, DOUBLE_POLE])
def test_pole_leaning_with_zero_force_falls_further_and_pushes_cart_back(config) -> None:
    s = np.array([0.0, 0.0, math.radians(1.0), 0.0, 0.0, 0.0])
    angles = [s[2]]
    for _ in range(60):
        s = advance(s, 0.0, config)
        angles.append(s[2])
    assert np.all(np.diff(angles) > 0)  # falls monotonically towards +theta
    assert angles[-1] > config.failure_angle
    assert s[0] < 0.0  # the falling pole pushes the cart towards -x


def test_positive_force_accelerates_cart_to_plus_x_and_tilts_poles_back() -> None:
    s = advance(np.zeros(6), 1.0, DOUBLE_POLE)
    assert s[0] > 0 and s[1] > 0
    assert s[2] < 0 and s[3] < 0 and s[4] < 0 and s[5] < 0
    # from rest, x'' = F / (M + m1/4 + m2/4) at the first instant
    d = derivatives(0.0, 0.0, 0.0, 0.0, 0.0, 10.0, 2, *physics_params(FRICTIONLESS))
    assert d[1] == pytest.approx(10.0 / (1.0 + 0.1 / 4 + 0.01 / 4), rel=1e-15)


def _drift(c: PoleConfig, s: np.ndarray, n_actions: int) -> tuple[float, float]:
    e0, p0 = _energy(s, c), _momentum(s, c)
    for _ in range(n_actions):
        s = advance(s, 0.0, c)
    return abs(_energy(s, c) - e0), abs(_momentum(s, c) - p0)


def test_frictionless_unforced_motion_conserves_energy_and_momentum() -> None:
    # 0.5 s: the short pole swings to about -84 degrees, far from any linear regime
    s0 = np.array([0.1, 0.3, math.radians(4.0), -0.2, math.radians(-3.0), 0.5])
    de, dp = _drift(FRICTIONLESS, s0, 25)
    assert de < 1e-7 * _energy(s0, FRICTIONLESS) and dp < 1e-7 * _momentum(s0, FRICTIONLESS)
    # the residual drift is RK4's O(tau^4) error: halving tau shrinks it about 16x
    de2, dp2 = _drift(FRICTIONLESS.with_overrides(tau=0.005, substeps=4), s0, 25)
    assert de2 < de / 10 and dp2 < dp / 10


def test_hinge_friction_keeps_momentum_and_friction_dissipates_energy() -> None:
    hinge = PoleConfig(mu_c=0.0, mu_p=1e-3)
    lossy = PoleConfig(mu_c=0.05, mu_p=1e-3)
    s0 = np.array([0.0, 0.3, math.radians(4.0), 0.2, math.radians(-3.0), 0.5])
    s, e_prev = s0.copy(), _energy(s0, lossy)
    # hinge friction is internal: momentum is kept up to the integration error
    assert _drift(hinge, s0, 20)[1] < 1e-7 * _momentum(s0, hinge)
    s = s0.copy()
    for _ in range(20):
        s = advance(s, 0.0, lossy)
        e = _energy(s, lossy)
        assert e < e_prev
        e_prev = e


@pytest.mark.parametrize("config", [SINGLE_POLE, DOUBLE_POLE])
def test_small_angle_motion_matches_the_linear_model(config) -> None:
    c = config.with_overrides(mu_c=0.0, mu_p=0.0)
    A, B = linearize(c)
    n = 2 + 2 * c.n_poles
    z0 = np.array([1e-6, -2e-6, 3e-7, 1e-6, -2e-7, 3e-6])[:n]
    action = 1e-6  # F = 1e-5 N
    force = action_to_force(action, c.force_mag, c.min_force)
    # exact solution of z' = A z + B F over 0.02 s via the augmented matrix exponential
    aug = np.zeros((n + 1, n + 1))
    aug[:n, :n] = A[:n, :n]
    aug[:n, n] = B[:n] * force
    step = expm(aug * 0.02)
    z_lin = np.append(z0, 1.0)
    s = np.zeros(6)
    s[:n] = z0
    for _ in range(15):  # 0.3 s
        s = advance(s, action, c)
        z_lin = step @ z_lin
    scale = np.max(np.abs(z_lin[:n]))
    np.testing.assert_allclose(s[:n], z_lin[:n], rtol=0, atol=1e-5 * scale)
    assert np.max(np.abs(z_lin[:n] - z0)) > np.max(np.abs(z0))  # the state moved: not trivial


def test_min_force_option_raises_small_forces_as_esp() -> None:
    assert action_to_force(0.0, 10.0, 10.0 / 256) == pytest.approx(10.0 / 256)
    assert action_to_force(-0.001, 10.0, 10.0 / 256) == pytest.approx(-10.0 / 256)
    assert action_to_force(0.5, 10.0, 10.0 / 256) == 5.0
    assert action_to_force(0.0, 10.0, 0.0) == 0.0
