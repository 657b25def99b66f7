"""Pole balancing in 3D: one or two poles on ball joints on a cart that moves in a plane.

Citations:
    F. Gomez and J. Schmidhuber. Evolving modular fast-weight networks for control. ICANN 2005,
    LNCS 3697, pp. 383-389 (the "balance one or two poles through a 3D joint" task for evolved
    fast-weight networks).
    A. P. Wieland. Evolving neural network controllers for unstable systems. IJCNN 1991 (the
    planar equations this model reduces to; `rnnai.envs.pole`).

System. A cart (a point mass M) moves on the floor plane under a horizontal force
F = (F_x, F_y). N in {1, 2} uniform poles, each of mass m_i and half-length l_i, stand on the cart
on frictionless-but-damped ball joints, side by side (not stacked). Pole i's orientation is the
unit vector u_i (from the joint to its tip, z up), so its centre is at p + l_i u_i with
p = (x, y, 0) the cart. The paper's own equations were not available to us; this is our
derivation, from the Lagrangian with the constraints |u_i| = 1 (g = 9.8 m/s^2 > 0, z up)::

    T = 1/2 (M + sum_i m_i) |p'|^2 + sum_i m_i l_i p'.u_i' + sum_i 2/3 m_i l_i^2 |u_i'|^2
    V = sum_i m_i g l_i u_i,z

(a rod's moment of inertia about its centre is m_i l_i^2 / 3). With the projection
Pi_i = I - u_i u_i^T onto the plane normal to u_i, the constraint force drops out and::

    u_i'' = -3/(4 l_i) Pi_i [p''; 0] - 3 g/(4 l_i) Pi_i e_z
            - 3 mu_p/(4 m_i l_i^2) Pi_i u_i' - |u_i'|^2 u_i                              (Eq. 1)

and the cart's acceleration a = p'' solves the 2x2 system::

    [(M + sum_i m_i) I_2 - sum_i 3/4 m_i (I_2 - w_i w_i^T)] a
        = F - mu_c p'/|p'| + sum_i [m_i l_i |u_i'|^2 w_i - 3/4 m_i g u_i,z w_i
                                    + 3 mu_p/(4 l_i) (Pi_i u_i')_xy]                      (Eq. 2)

with w_i = (u_i,x, u_i,y) the pole's horizontal part. Friction: Coulomb friction mu_c on the cart
against its direction of motion (the planar -mu_c sgn(x')), viscous friction mu_p on each joint
(a torque -mu_p omega, the planar -mu_p theta'). Restricted to the x-z plane (u_i,y = 0,
F_y = 0, y = y' = 0) Eqs. 1-2 are exactly Wieland's planar equations with the same constants
(`tests/envs/test_pole3d.py` checks this against `rnnai.envs.pole`, and energy conservation
without friction and force).

Integration: fourth-order Runge-Kutta on (p, p', u_i, u_i'), step tau = 0.01 s, two steps per
action (0.02 s), the force held over the action. After each action u_i is renormalized and u_i'
made orthogonal to u_i (RK4 keeps |u_i| = 1 only to O(tau^5) per step; without this the drift
grows over a 100,000-step episode).

Constants: those of the planar benchmark (`rnnai.envs.pole`, docs/PAPERS.md): M = 1 kg, long pole
0.1 kg and half-length 0.5 m, short pole 0.01 kg and 0.05 m, mu_c = 5e-4, mu_p = 2e-6, |F_x|,
|F_y| <= 10 N. Failure when the cart leaves the square |x|, |y| <= 2.4 m or a pole's tilt from the
vertical, arccos(u_i,z), exceeds 36 degrees (two poles) / 12 degrees (one pole). The long pole
starts tilted by 4 degrees towards azimuth 45 degrees (between +x and +y, so both force
components matter from the first step); everything else starts at rest and upright.

Observations (scaled like the planar task's): the cart (x, y) / 2.4, (x', y') / 10 and, per pole,
the projected angles theta_x = atan2(u_x, u_z) and theta_y = atan2(u_y, u_z) divided by the failure
angle and their rates divided by 5 (long pole) or 16 (short pole). The non-Markov task observes
(x, y) and the angles only.

Deviations and choices: the joint of the paper's robot may differ (a "2D mobile robot version");
the physics here is the natural 3D generalization of the planar benchmark and is documented above
so that results can be compared with it.

The state and the physics are float64; `Pole3DEnv` hands out float32 observations (as
gymnasium's classic-control environments do), while the numba twin
(`rnnai.envs._kernels.step_batch3d`) keeps float64. `Pole3DVectorEnv` steps many episodes on
that twin; ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` returns it.

Examples:
    >>> import numpy as np
    >>> env = Pole3DEnv(SINGLE_POLE_3D)
    >>> obs, info = env.reset(seed=0)
    >>> obs.dtype, obs.shape, info["state"].shape
    (dtype('float32'), (8,), (16,))
    >>> obs, reward, terminated, truncated, info = env.step(np.array([0.1, -0.1]))
    >>> reward, terminated
    (1.0, False)
    >>> vec = Pole3DVectorEnv(2, SINGLE_POLE_3D)
    >>> obs, _ = vec.reset(seed=0)
    >>> obs.shape
    (2, 8)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rnnai.envs._config import (
    check_finite,
    check_num_envs,
    check_positive,
    check_positive_ints,
    with_overrides,
)
from rnnai.envs._render import Canvas, FrameRendering, View, Window, check_render_mode
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "DOUBLE_POLE_3D",
    "DOUBLE_POLE_3D_NONMARKOV",
    "SINGLE_POLE_3D",
    "STATE_SIZE",
    "Pole3DConfig",
    "Pole3DEnv",
    "Pole3DVectorEnv",
    "advance3d",
    "check_action3d",
    "derivatives3d",
    "draw_frame3d",
    "energy3d",
    "initial_state3d",
    "is_failure3d",
    "observe3d",
    "observe3d_into",
    "physics_params3d",
    "renormalize3d",
    "rk4_step3d",
]

STATE_SIZE = 16
"""Raw state layout: (x, y, x', y', u1 (3), u1' (3), u2 (3), u2' (3)); pole 2 stays upright and
at rest (u2 = e_z) with one pole."""


@dataclass(frozen=True, kw_only=True)
class Pole3DConfig:
    """Physics and task constants of the 3D cart-pole (defaults: two poles, Markov)."""

    n_poles: int = 2
    """Number of poles on the cart: 1 (the long pole only) or 2."""
    markov: bool = True
    """True: observe positions, angles and their rates; False: positions and angles only."""
    gravity: float = 9.8
    """|g| in m/s^2 (z points up)."""
    mass_cart: float = 1.0
    """M, the cart's mass in kg."""
    mass_pole_1: float = 0.1
    """m_1, the long pole's mass in kg."""
    half_length_1: float = 0.5
    """l_1, half the long pole's length in m."""
    mass_pole_2: float = 0.01
    """m_2, the short pole's mass in kg (unused with one pole)."""
    half_length_2: float = 0.05
    """l_2, half the short pole's length in m (unused with one pole)."""
    mu_c: float = 5e-4
    """Coulomb friction coefficient of the cart on the floor (Eq. 2)."""
    mu_p: float = 2e-6
    """Viscous friction coefficient of each ball joint (Eqs. 1-2)."""
    force_mag: float = 10.0
    """Largest force per axis in N; the action a in [-1, 1]^2 gives F = force_mag * a."""
    tau: float = 0.01
    """Runge-Kutta step in s."""
    substeps: int = 2
    """Runge-Kutta steps per action (2 x 0.01 s = one action every 0.02 s)."""
    arena_limit: float = 2.4
    """Failure when |x| or |y| exceeds this, in m."""
    failure_angle_deg: float = 36.0
    """Failure when a pole tilts beyond this many degrees from the vertical (12 for one pole)."""
    initial_tilt_deg: float = 4.0
    """Starting tilt of the long pole in degrees (the short pole starts upright)."""
    initial_azimuth_deg: float = 45.0
    """Direction of the starting tilt in the floor plane, degrees from +x towards +y."""
    max_steps: int = 100_000
    """Episodes are truncated after this many steps (the planar task's success criterion)."""

    def __post_init__(self) -> None:
        """Validate the fields and raise `RnnaiError` on a bad value."""
        if isinstance(self.n_poles, bool) or self.n_poles not in (1, 2):
            raise RnnaiError(f"n_poles must be 1 or 2, got {self.n_poles!r}")
        if not isinstance(self.markov, bool | np.bool_):
            raise RnnaiError(f"markov must be a bool, got {self.markov!r}")
        positive = (
            "gravity",
            "mass_cart",
            "mass_pole_1",
            "half_length_1",
            "mass_pole_2",
            "half_length_2",
            "force_mag",
            "tau",
            "arena_limit",
            "failure_angle_deg",
        )
        check_positive(self, positive)
        check_finite(self, ("mu_c", "mu_p", "initial_tilt_deg", "initial_azimuth_deg"))
        if self.mu_c < 0 or self.mu_p < 0:
            raise RnnaiError("mu_c and mu_p must be >= 0")
        check_positive_ints(self, ("substeps", "max_steps"))
        if not 0 <= self.initial_tilt_deg < self.failure_angle_deg:
            raise RnnaiError(
                f"initial_tilt_deg must lie in [0, failure_angle_deg={self.failure_angle_deg}), "
                f"got {self.initial_tilt_deg}"
            )
        if self.failure_angle_deg >= 90:
            raise RnnaiError(f"failure_angle_deg must be < 90, got {self.failure_angle_deg}")

    @property
    def failure_angle(self) -> float:
        """The failure angle in radians."""
        return math.radians(self.failure_angle_deg)

    @property
    def obs_dim(self) -> int:
        """Length of the observation vector: 2 + 2 N (non-Markov) or 4 + 4 N (Markov)."""
        return (4 + 4 * self.n_poles) if self.markov else (2 + 2 * self.n_poles)

    def with_overrides(self, **overrides: Any) -> Pole3DConfig:
        """Return a copy with some fields replaced; unknown names raise `RnnaiError`."""
        return with_overrides(self, overrides)


SINGLE_POLE_3D = Pole3DConfig(n_poles=1, failure_angle_deg=12.0)
"""One pole on a ball joint, Markov, 12 degree failure angle."""
DOUBLE_POLE_3D = Pole3DConfig()
"""Two poles on ball joints, Markov."""
DOUBLE_POLE_3D_NONMARKOV = Pole3DConfig(markov=False)
"""Two poles on ball joints, positions and angles only."""


def physics_params3d(config: Pole3DConfig) -> np.ndarray:
    """Pack the constants for the kernels: (g, M, m1, l1, m2, l2, mu_c, mu_p), float64."""
    c = config
    return np.array(
        [
            c.gravity,
            c.mass_cart,
            c.mass_pole_1,
            c.half_length_1,
            c.mass_pole_2,
            c.half_length_2,
            c.mu_c,
            c.mu_p,
        ],
        dtype=np.float64,
    )


def derivatives3d(s: np.ndarray, fx: float, fy: float, n_poles: int, p: np.ndarray) -> np.ndarray:
    """Time derivative of the raw state (Eqs. 1-2); numba compiles this function unchanged.

    Args:
        s: (16,) raw state, layout `STATE_SIZE`.
        fx: Force on the cart along x in N.
        fy: Force on the cart along y in N.
        n_poles: 1 or 2.
        p: `physics_params3d`.

    Returns:
        (16,) float64 derivative.
    """
    g, M, mu_c, mu_p = p[0], p[1], p[6], p[7]
    # Eq. 2: assemble the 2x2 system A a = b for the cart's acceleration a = (x'', y'').
    a00 = M
    a01 = 0.0
    a11 = M
    b0 = fx
    b1 = fy
    speed = math.sqrt(s[2] * s[2] + s[3] * s[3])
    if speed > 0.0:
        b0 -= mu_c * s[2] / speed
        b1 -= mu_c * s[3] / speed
    for i in range(n_poles):
        m = p[2 + 2 * i]
        el = p[3 + 2 * i]
        o = 4 + 6 * i
        ux, uy, uz = s[o], s[o + 1], s[o + 2]
        vx, vy, vz = s[o + 3], s[o + 4], s[o + 5]
        uv = ux * vx + uy * vy + uz * vz  # 0 on the constraint surface; kept for exactness
        v2 = vx * vx + vy * vy + vz * vz
        # m I_2 - 3/4 m (I_2 - w w^T)
        a00 += m - 0.75 * m * (1.0 - ux * ux)
        a01 += 0.75 * m * ux * uy
        a11 += m - 0.75 * m * (1.0 - uy * uy)
        k = 0.75 * mu_p / el
        b0 += m * el * v2 * ux - 0.75 * m * g * uz * ux + k * (vx - uv * ux)
        b1 += m * el * v2 * uy - 0.75 * m * g * uz * uy + k * (vy - uv * uy)
    det = a00 * a11 - a01 * a01  # > 0: the matrix is symmetric positive definite
    ax = (a11 * b0 - a01 * b1) / det
    ay = (a00 * b1 - a01 * b0) / det
    ds = np.zeros(16)
    ds[0] = s[2]
    ds[1] = s[3]
    ds[2] = ax
    ds[3] = ay
    for i in range(n_poles):
        m = p[2 + 2 * i]
        el = p[3 + 2 * i]
        o = 4 + 6 * i
        ux, uy, uz = s[o], s[o + 1], s[o + 2]
        vx, vy, vz = s[o + 3], s[o + 4], s[o + 5]
        v2 = vx * vx + vy * vy + vz * vz
        c1 = 0.75 / el
        c2 = 0.75 * mu_p / (m * el * el)
        # Eq. 1 as q = -c1 [a; 0] - c1 g e_z - c2 u', then u'' = Pi q - |u'|^2 u.
        qx = -c1 * ax - c2 * vx
        qy = -c1 * ay - c2 * vy
        qz = -c1 * g - c2 * vz
        uq = ux * qx + uy * qy + uz * qz
        ds[o] = vx
        ds[o + 1] = vy
        ds[o + 2] = vz
        ds[o + 3] = qx - uq * ux - v2 * ux
        ds[o + 4] = qy - uq * uy - v2 * uy
        ds[o + 5] = qz - uq * uz - v2 * uz
    return ds


def rk4_step3d(
    s: np.ndarray, fx: float, fy: float, h: float, n_poles: int, p: np.ndarray
) -> np.ndarray:
    """One classical Runge-Kutta step of length ``h`` with the force held constant."""
    k1 = derivatives3d(s, fx, fy, n_poles, p)
    k2 = derivatives3d(s + 0.5 * h * k1, fx, fy, n_poles, p)
    k3 = derivatives3d(s + 0.5 * h * k2, fx, fy, n_poles, p)
    k4 = derivatives3d(s + h * k3, fx, fy, n_poles, p)
    return s + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def renormalize3d(s: np.ndarray, n_poles: int) -> None:
    """Project the state back onto the constraints in place: |u_i| = 1 and u_i . u_i' = 0."""
    for i in range(n_poles):
        o = 4 + 6 * i
        norm = math.sqrt(s[o] * s[o] + s[o + 1] * s[o + 1] + s[o + 2] * s[o + 2])
        s[o] /= norm
        s[o + 1] /= norm
        s[o + 2] /= norm
        uv = s[o] * s[o + 3] + s[o + 1] * s[o + 4] + s[o + 2] * s[o + 5]
        s[o + 3] -= uv * s[o]
        s[o + 4] -= uv * s[o + 1]
        s[o + 5] -= uv * s[o + 2]


def is_failure3d(s: np.ndarray, n_poles: int, arena_limit: float, cos_failure_angle: float) -> bool:
    """Whether the cart left the arena or a pole tilts beyond the failure angle."""
    if abs(s[0]) > arena_limit or abs(s[1]) > arena_limit:
        return True
    for i in range(n_poles):
        if s[4 + 6 * i + 2] < cos_failure_angle:  # u_z = cos(tilt)
            return True
    return False


def check_action3d(action: Any) -> tuple[float, float]:
    """Validate an action: two finite floats in [-1, 1] (shape (2,)).

    Raises:
        RnnaiError: Naming the problem (type, shape, NaN, range).
    """
    try:
        arr = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise RnnaiError(f"action must be two numbers in [-1, 1], got {action!r}") from exc
    if arr.shape != (2,):
        raise RnnaiError(f"action must have shape (2,), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise RnnaiError(f"action must be finite, got {arr.tolist()}")
    if np.any(np.abs(arr) > 1.0):
        raise RnnaiError(f"action must lie in [-1, 1]^2, got {arr.tolist()}")
    return float(arr[0]), float(arr[1])


def advance3d(s: np.ndarray, action: tuple[float, float], config: Pole3DConfig) -> np.ndarray:
    """One action (``substeps`` RK4 steps), then `renormalize3d`; returns the new state."""
    p = physics_params3d(config)
    fx = config.force_mag * action[0]
    fy = config.force_mag * action[1]
    out = np.asarray(s, dtype=np.float64).copy()
    for _ in range(config.substeps):
        out = rk4_step3d(out, fx, fy, config.tau, config.n_poles, p)
    renormalize3d(out, config.n_poles)
    return out


def initial_state3d(config: Pole3DConfig) -> np.ndarray:
    """The start: long pole tilted ``initial_tilt_deg`` towards ``initial_azimuth_deg``."""
    s = np.zeros(STATE_SIZE)
    tilt = math.radians(config.initial_tilt_deg)
    az = math.radians(config.initial_azimuth_deg)
    s[4:7] = (math.sin(tilt) * math.cos(az), math.sin(tilt) * math.sin(az), math.cos(tilt))
    s[10:13] = (0.0, 0.0, 1.0)
    return s


def energy3d(s: np.ndarray, config: Pole3DConfig) -> float:
    """Total mechanical energy T + V (J): conserved without force and friction (a test)."""
    p = physics_params3d(config)
    g, M = p[0], p[1]
    v = np.array([s[2], s[3], 0.0])
    energy = 0.5 * M * float(v @ v)
    for i in range(config.n_poles):
        m, el = p[2 + 2 * i], p[3 + 2 * i]
        o = 4 + 6 * i
        u, du = s[o : o + 3], s[o + 3 : o + 6]
        vc = v + el * du  # velocity of the pole's centre
        energy += 0.5 * m * float(vc @ vc) + 0.5 * (m * el * el / 3.0) * float(du @ du)
        energy += m * g * el * float(u[2])
    return energy


def observe3d_into(
    s: np.ndarray,
    n_poles: int,
    markov: bool,
    arena_limit: float,
    failure_angle: float,
    out: np.ndarray,
) -> None:
    """Write the scaled observation of raw state ``s`` into ``out``; numba compiles this unchanged.

    Layout: (x, y)/arena_limit, [(x', y')/10], then per pole the projected angles
    theta_x = atan2(u_x, u_z), theta_y = atan2(u_y, u_z) / failure_angle and [their rates / 5
    (long pole) or / 16 (short pole)]; bracketed entries only when ``markov``.
    """
    out[0] = s[0] / arena_limit
    out[1] = s[1] / arena_limit
    j = 2
    if markov:
        out[2] = s[2] / 10.0
        out[3] = s[3] / 10.0
        j = 4
    for i in range(n_poles):
        o = 4 + 6 * i
        ux, uy, uz = s[o], s[o + 1], s[o + 2]
        vx, vy, vz = s[o + 3], s[o + 4], s[o + 5]
        out[j] = math.atan2(ux, uz) / failure_angle
        out[j + 1] = math.atan2(uy, uz) / failure_angle
        j += 2
        if markov:
            rate_scale = 5.0 if i == 0 else 16.0
            out[j] = (vx * uz - ux * vz) / (ux * ux + uz * uz) / rate_scale
            out[j + 1] = (vy * uz - uy * vz) / (uy * uy + uz * uz) / rate_scale
            j += 2


def observe3d(s: np.ndarray, config: Pole3DConfig) -> np.ndarray:
    """The scaled observation (see `observe3d_into` for the layout)."""
    out = np.empty(config.obs_dim)
    observe3d_into(s, config.n_poles, config.markov, config.arena_limit, config.failure_angle, out)
    return out


def _start_state3d(given: Any) -> np.ndarray:
    """The raw state of ``reset(options={"state": given})``: 16 values, u_i renormalized."""
    g = np.asarray(given, dtype=np.float64).reshape(-1)
    if g.shape != (STATE_SIZE,) or not np.all(np.isfinite(g)):
        raise RnnaiError(
            f"options['state'] must hold {STATE_SIZE} finite values, got shape {g.shape}"
        )
    for i in range(2):
        if np.linalg.norm(g[4 + 6 * i : 7 + 6 * i]) == 0:
            raise RnnaiError(f"options['state']: pole {i + 1}'s direction u is zero")
    state = g.copy()
    renormalize3d(state, 2)
    return state


_POLE_COLORS = ((202, 152, 101), (129, 132, 203))  # long pole, short pole


def _side_view(view: View, state: np.ndarray, config: Pole3DConfig, axis: int) -> None:
    """Poles seen from the side, projected on the (axis, z) plane; the cart at the origin."""
    view.line((-0.6, 0.0), (0.6, 0.0), (0, 0, 0))
    view.rect((0.0, 0.0), (30, 16), (40, 40, 40))
    lengths = (config.half_length_1, config.half_length_2)
    for i in reversed(range(config.n_poles)):
        o = 4 + 6 * i
        tip = (2 * lengths[i] * float(state[o + axis]), 2 * lengths[i] * float(state[o + 2]))
        view.line((0.0, 0.0), tip, _POLE_COLORS[i], 6 - 2 * i)


def draw_frame3d(state: np.ndarray, config: Pole3DConfig, size: int = 400) -> np.ndarray:
    """A top view of the arena beside two side views of the poles, (size, 2 size, 3) uint8.

    Left: the square arena from above with the cart and the poles' tips projected on the floor
    (lengths to scale). Right, top: the poles seen along -y (the x-z plane); bottom: seen along
    +x (the y-z plane), both centred on the cart.

    Args:
        state: Raw 16-value state.
        config: The system (arena size, pole lengths, number of poles).
        size: Height of the picture in pixels.

    Returns:
        The picture.
    """
    canvas = Canvas(2 * size, size)
    lim = config.arena_limit
    top = canvas.view(size / (2.2 * lim), (size / 2, size / 2))
    top.polygon([(-lim, -lim), (lim, -lim), (lim, lim), (-lim, lim)], (235, 235, 235), (200, 0, 0))
    x, y = float(state[0]), float(state[1])
    lengths = (config.half_length_1, config.half_length_2)
    top.rect((x, y), (16, 16), (40, 40, 40))
    for i in reversed(range(config.n_poles)):
        o = 4 + 6 * i
        tip = (x + 2 * lengths[i] * float(state[o]), y + 2 * lengths[i] * float(state[o + 1]))
        top.line((x, y), tip, _POLE_COLORS[i], 4)
    scale = size / (2.0 * (2 * config.half_length_1 + 0.2))
    _side_view(canvas.view(scale, (1.5 * size, 0.45 * size)), state, config, 0)
    _side_view(canvas.view(scale, (1.5 * size, 0.95 * size)), state, config, 1)
    top.line((lim * 1.1, -lim * 1.1), (lim * 1.1, lim * 1.1), (0, 0, 0))
    return canvas.frame()


_OBS_BOUND = float(np.finfo(np.float32).max)  # unbounded in effect, without -inf/inf


class Pole3DEnv(FrameRendering, gym.Env[np.ndarray, np.ndarray]):
    """One or two poles on ball joints on a cart that moves in the plane (Gomez & Schmidhuber 2005).

    ## Description

    The 3D version of Wieland's cart-pole: the cart moves anywhere in a 4.8 m x 4.8 m square and
    each pole can fall in any direction. The controller pushes the cart with a force in the plane
    and must keep every pole within the failure angle and the cart in the square. The physics
    (module docstring) reduce exactly to `rnnai.envs.pole` in a vertical plane.
    ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` gives
    `Pole3DVectorEnv`, N episodes on the numba twin.

    ## Action Space

    ``Box(-1, 1, (2,), float64)``: F = (10 a_x, 10 a_y) newtons. NaN, infinite, out-of-range or
    wrongly shaped actions raise `RnnaiError`.

    ## Observation Space

    ``Box(-F, F, (d,), float32)``, F the largest float32 (computed in float64, then rounded to
    float32). Markov (d = 4 + 4 N): (x/2.4, y/2.4, x'/10, y'/10) then per pole (theta_x, theta_y) /
    failure angle and (theta_x', theta_y') / 5 (long pole) or / 16 (short pole). Non-Markov (d = 2 +
    2 N): positions and angles only. ``info["state"]`` holds the raw 16-value float64 state (module
    docstring); `observe3d` gives the float64 observation of it.

    ## Rewards

    +1 for every step after which the system is still within bounds, 0 for the failing step.

    ## Starting State

    Cart at rest at the origin; the long pole tilted 4 degrees towards azimuth 45 degrees, the
    short pole upright, all at rest. Deterministic; ``reset(options={"state": s})`` starts from a
    given raw state (16 values; the unit vectors are renormalized).

    ## Episode End

    Termination: |x| or |y| > 2.4 m, or a pole tilted beyond 36 degrees (two poles) / 12 degrees
    (one pole). Truncation: after ``max_steps`` steps (default 100,000). Stepping a finished
    episode raises `RnnaiError`.

    ## Rendering

    ``render_mode="rgb_array"``: `render` returns a 400 x 800 picture (`draw_frame3d`: top view
    and two side views); ``"human"`` shows it in a pygame window at 50 frames per second.

    ## Version History

    * v0 (revised): float32 observations (float64 physics unchanged); ``rgb_array`` and
      ``human`` rendering; a ``vector_entry_point`` (`Pole3DVectorEnv`).
    * v0: initial version.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array", "human"], "render_fps": 50}

    def __init__(
        self, config: Pole3DConfig | None = None, render_mode: str | None = None, **overrides: Any
    ) -> None:
        """Build the environment.

        Args:
            config: The system and task; `DOUBLE_POLE_3D` when None.
            render_mode: None, ``"rgb_array"`` or ``"human"``.
            **overrides: `Pole3DConfig` fields replacing those of ``config``.

        Raises:
            RnnaiError: On an unknown field, a bad value or an unknown render mode.
        """
        check_render_mode(render_mode, self.metadata["render_modes"], "Pole3DEnv")
        self.render_mode = render_mode
        self.config = (config if config is not None else DOUBLE_POLE_3D).with_overrides(**overrides)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float64)
        self.observation_space = spaces.Box(
            -_OBS_BOUND, _OBS_BOUND, shape=(self.config.obs_dim,), dtype=np.float32
        )
        self._cos_fail = math.cos(self.config.failure_angle)
        self._state = initial_state3d(self.config)
        self._steps = 0
        self._done = True
        self._window: Window | None = None

    @property
    def state(self) -> np.ndarray:
        """A copy of the raw 16-value state."""
        return self._state.copy()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode from the fixed start or from ``options["state"]``.

        Args:
            seed: Seeds ``self.np_random`` (the dynamics use no randomness).
            options: Optional ``{"state": raw_state}`` with 16 finite values.

        Returns:
            The first observation and ``info`` with the raw ``state`` and ``steps`` (0).
        """
        super().reset(seed=seed)
        state = initial_state3d(self.config)
        if options and options.get("state") is not None:
            state = _start_state3d(options["state"])
        self._state = state
        self._steps = 0
        self._done = False
        if self.render_mode == "human":
            self.render()
        return self._observe(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply one action (0.02 s) and report failure or truncation.

        Args:
            action: Two floats in [-1, 1].

        Returns:
            (observation, reward, terminated, truncated, info).

        Raises:
            RnnaiError: On a bad action or when the episode is over (call ``reset``).
        """
        if self._done:
            raise RnnaiError("the episode is over (or never started): call reset() first")
        a = check_action3d(action)
        c = self.config
        self._state = advance3d(self._state, a, c)
        terminated = is_failure3d(self._state, c.n_poles, c.arena_limit, self._cos_fail)
        reward = 0.0
        if not terminated:
            self._steps += 1
            reward = 1.0
        truncated = (not terminated) and self._steps >= c.max_steps
        self._done = terminated or truncated
        if self.render_mode == "human":
            self.render()
        return self._observe(), reward, bool(terminated), bool(truncated), self._info()

    def _frame(self) -> np.ndarray:
        """The picture as an (H, W, 3) uint8 image (shown or returned by `render`)."""
        return draw_frame3d(self._state, self.config)

    def _observe(self) -> np.ndarray:
        return observe3d(self._state, self.config).astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {"state": self._state.copy(), "steps": self._steps}


class Pole3DVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """N `Pole3DEnv` episodes stepped together by the numba twin (`_kernels.step_batch3d`).

    What ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` builds for
    the 3D pole ids; step for step it gives what N `Pole3DEnv` give (``info["state"]`` (N, 16)
    and ``info["steps"]`` (N,) batched). Autoreset follows gymnasium's ``NEXT_STEP`` mode: the
    step after an episode ended resets it to the fixed start, ignores its action and returns its
    first observation with reward 0 and both flags False. Spaces: ``Box(-1, 1, (N, 2),
    float64)`` actions, ``Box(-F, F, (N, d), float32)`` observations.
    """

    metadata: dict[str, Any] = {
        "render_modes": [],
        "render_fps": 50,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        config: Pole3DConfig | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        """Build N episodes of one system.

        Args:
            num_envs: N >= 1.
            config: The system and task; `DOUBLE_POLE_3D` when None.
            render_mode: Must be None (render single environments instead).
            **overrides: `Pole3DConfig` fields replacing those of ``config``.

        Raises:
            RnnaiError: On a bad ``num_envs``, an unknown field, a bad value or a render mode.
        """
        check_render_mode(render_mode, [], "Pole3DVectorEnv")
        self.render_mode = render_mode
        self.num_envs = check_num_envs(num_envs)
        self.config = (config if config is not None else DOUBLE_POLE_3D).with_overrides(**overrides)
        c = self.config
        self.single_action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float64)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = spaces.Box(
            -_OBS_BOUND, _OBS_BOUND, shape=(c.obs_dim,), dtype=np.float32
        )
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        n = self.num_envs
        self._state = np.tile(initial_state3d(c), (n, 1))  # (N, 16)
        self._steps = np.zeros(n, dtype=np.int64)
        self._autoreset = np.zeros(n, dtype=np.bool_)
        self._started = False
        self._params = physics_params3d(c)
        self._cos_fail = math.cos(c.failure_angle)
        self._obs = np.zeros((n, c.obs_dim), dtype=np.float64)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start all N episodes from the fixed start or from ``options["state"]``.

        Args:
            seed: Seeds ``self.np_random`` (the dynamics use no randomness).
            options: Optional ``{"state": s}``: one raw 16-value state for every episode, or an
                (N, 16) array, one per episode.

        Returns:
            (N, d) float32 observations and ``info`` with ``state`` (N, 16) and ``steps`` (N,).
        """
        super().reset(seed=seed)
        start = np.tile(initial_state3d(self.config), (self.num_envs, 1))
        if options and options.get("state") is not None:
            given = np.asarray(options["state"], dtype=np.float64)
            if given.ndim == 2:
                if given.shape[0] != self.num_envs:
                    raise RnnaiError(
                        f"options['state'] must have {self.num_envs} rows, got {given.shape}"
                    )
                start = np.stack([_start_state3d(row) for row in given])
            else:
                start[:] = _start_state3d(given)
        self._state[:] = start
        self._steps[:] = 0
        self._autoreset[:] = False
        self._started = True
        return self._observe(), self._info()

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Apply one action to every episode (resetting those that ended at the last step).

        Args:
            actions: (N, 2) floats in [-1, 1] (ignored for episodes being reset).

        Returns:
            (observations (N, d) float32, rewards (N,) float64, terminated (N,) bool,
            truncated (N,) bool, info).

        Raises:
            RnnaiError: Before `reset`, or on a wrong shape or a bad action (naming its index).
        """
        from rnnai.envs import _kernels

        if not self._started:
            raise RnnaiError("call reset() before step()")
        n = self.num_envs
        try:
            a = np.ascontiguousarray(actions, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise RnnaiError(f"actions must be ({n}, 2) numbers in [-1, 1]") from err
        if a.shape != (n, 2):
            raise RnnaiError(f"actions must have shape ({n}, 2), got shape {a.shape}")
        running = ~self._autoreset
        bad = running & ~np.all((a >= -1.0) & (a <= 1.0), axis=1)  # NaN compares False
        if bad.any():
            i = int(np.argmax(bad))
            raise RnnaiError(
                f"action {a[i].tolist()} of episode {i} is not two finite numbers in [-1, 1]"
            )
        c = self.config
        alive = running.copy()
        _kernels.step_batch3d(
            self._state,
            a,
            alive,
            self._steps,
            c.n_poles,
            self._params,
            c.force_mag,
            c.tau,
            c.substeps,
            c.arena_limit,
            self._cos_fail,
        )
        terminated = running & ~alive
        truncated = alive & (self._steps >= c.max_steps)
        rewards = np.where(alive, 1.0, 0.0)
        restart = self._autoreset
        self._state[restart] = initial_state3d(c)
        self._steps[restart] = 0
        self._autoreset = terminated | truncated
        return self._observe(), rewards, terminated, truncated, self._info()

    def _observe(self) -> np.ndarray:
        from rnnai.envs import _kernels

        c = self.config
        _kernels.observe_batch3d(
            self._state, c.n_poles, c.markov, c.arena_limit, c.failure_angle, self._obs
        )
        return self._obs.astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {"state": self._state.copy(), "steps": self._steps.copy()}
