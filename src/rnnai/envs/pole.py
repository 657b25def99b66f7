"""Cart-pole balancing with one or two poles after Wieland, as used by ESP and CoSyNE.

Citations:
    A. P. Wieland. Evolving neural network controllers for unstable systems. IJCNN 1991,
    vol. II, pp. 667-673 (the equations of motion of a cart with N hinged poles).
    F. Gomez and R. Miikkulainen. Solving non-Markovian control tasks with neuroevolution.
    IJCAI 1999 (ESP; the double-pole set-up and constants used by the later papers).
    F. Gomez, J. Schmidhuber and R. Miikkulainen. Accelerated neural evolution through
    cooperatively coevolved synapses. JMLR 9:937-965, 2008 (CoSyNE; Appendix: pole balancing).

System. A cart of mass M on a straight track of length 4.8 m carries N in {1, 2} poles, each
hinged directly to the cart (the poles are not stacked), of mass m_i and half-length l_i. A
horizontal force F acts on the cart. The angle theta_i is measured from the vertical and is
positive when the pole leans towards +x; a positive force pushes the cart towards +x. With
g = -9.8 m/s^2 (negative, as in the papers), the equations of motion are (Wieland 1991)::

    x''       = (F - mu_c sgn(x') + sum_i F~_i) / (M + sum_i m~_i)                  (Eq. 1)
    theta_i'' = -3 / (4 l_i) * (x'' cos theta_i + g sin theta_i
                                + mu_p theta_i' / (m_i l_i))                          (Eq. 2)

with the effective force and the effective mass of pole i::

    F~_i = m_i l_i theta_i'^2 sin theta_i
           + 3/4 m_i cos theta_i (mu_p theta_i' / (m_i l_i) + g sin theta_i)         (Eq. 3)
    m~_i = m_i (1 - 3/4 cos^2 theta_i)                                               (Eq. 4)

Without friction these are exactly the Lagrange equations of uniform rods (moment of inertia
m_i l_i^2 / 3 about the centre) hinged on a cart; ``tests/envs/test_pole_physics.py`` checks
energy and momentum conservation and the small-angle linearization.

Integration: classical fourth-order Runge-Kutta with step tau = 0.01 s, two steps per action
(one action every 0.02 s). The force is held constant over the action.

Constants (docs/PAPERS.md): M = 1 kg, long pole m_1 = 0.1 kg, l_1 = 0.5 m; short pole m_2 = 0.01 kg,
l_2 = 0.05 m; mu_c = 5e-4 (cart on track), mu_p = 2e-6 (pole hinges); |F| <= 10 N. Failure when
|x| > 2.4 m or any pole leans beyond 36 degrees (two poles) / 12 degrees (one pole), checked after
every action. The long pole starts at 4 degrees (1 degree in some CMA-ES runs), everything else
at 0. Success: 100,000 steps (about 33 minutes of simulated time).

Observations are scaled as the ESP code scales its network inputs (Gomez's ``CartPole.cpp``):
x / 2.4, x' / 10, theta_i / failure angle, theta_1' / 5, theta_2' / 16. The non-Markov task
observes (x, theta_1, theta_2) only, without velocities. No bias input is added; a network
adds its own.

Deviations and choices, all deliberate:

- The reference ESP code defines the cart friction but never uses it; we include the
  -mu_c sgn(x') term of Eq. 1 as the papers print it (``PoleConfig(mu_c=0.0)`` gives the code's
  dynamics). sgn(0) = 0.
- The action is a float in [-1, 1] mapped to F = 10 a newtons (ESP maps a sigmoid output o to
  F = 10 (2 o - 1), the same range). ESP's code also raises |F| to at least 10/256 N; that is
  ``PoleConfig(min_force=10 / 256)``, off by default.
- "Steps balanced" counts the actions after which the system is still inside the bounds (the ESP
  code counts the failing step too, one more).

The state and the physics are float64; the environments hand out float32 observations (as
gymnasium's classic-control environments do), while the numba twin in `rnnai.envs._kernels`
and the fitness functions of `rnnai.envs.fitness` keep float64 throughout.
`PoleBalancingVectorEnv` steps many episodes at once on that twin; it is what
``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` returns.

Examples:
    >>> import numpy as np
    >>> env = PoleBalancingEnv(SINGLE_POLE)
    >>> obs, info = env.reset(seed=0)
    >>> obs.dtype, obs.shape
    (dtype('float32'), (4,))
    >>> obs, reward, terminated, truncated, info = env.step(np.array([0.5]))
    >>> reward, terminated, info["steps"]
    (1.0, False, 1)
    >>> vec = PoleBalancingVectorEnv(3, SINGLE_POLE)
    >>> obs, _ = vec.reset(seed=0)
    >>> obs.shape
    (3, 4)
    >>> obs, rewards, terminated, truncated, _ = vec.step(np.zeros((3, 1)))
    >>> rewards.tolist()
    [1.0, 1.0, 1.0]
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
from rnnai.envs._render import Canvas, FrameRendering, Window, check_render_mode
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "DOUBLE_POLE",
    "DOUBLE_POLE_NONMARKOV",
    "SINGLE_POLE",
    "STATE_NAMES",
    "PoleBalancingEnv",
    "PoleBalancingVectorEnv",
    "PoleConfig",
    "action_to_force",
    "advance",
    "check_action",
    "derivatives",
    "draw_frame",
    "initial_state",
    "is_failure",
    "linearize",
    "observation_indices",
    "observation_scale",
    "observe",
    "physics_params",
    "rk4_step",
]

STATE_NAMES: tuple[str, ...] = ("x", "x_dot", "theta1", "theta1_dot", "theta2", "theta2_dot")
"""Layout of the raw state vector (SI units, radians). A single-pole state keeps theta2 = 0."""


@dataclass(frozen=True, kw_only=True)
class PoleConfig:
    """Physics and task constants of the Wieland cart-pole (defaults: the Markov double pole)."""

    n_poles: int = 2
    """Number of poles on the cart: 1 (the long pole only) or 2."""
    markov: bool = True
    """True: observe (x, x', theta1, theta1'[, theta2, theta2']); False: (x, theta1[, theta2])."""
    gravity: float = -9.8
    """g in m/s^2, negative as in Wieland's equations."""
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
    """Coefficient of friction of the cart on the track (Eq. 1)."""
    mu_p: float = 2e-6
    """Coefficient of friction of each pole's hinge (Eqs. 2-3)."""
    force_mag: float = 10.0
    """Largest force in N; the action a in [-1, 1] gives F = force_mag * a."""
    min_force: float = 0.0
    """Smallest force magnitude in N (ESP's code used 10/256); 0 disables it."""
    tau: float = 0.01
    """Runge-Kutta step in s."""
    substeps: int = 2
    """Runge-Kutta steps per action (2 x 0.01 s = one action every 0.02 s)."""
    track_limit: float = 2.4
    """Failure when |x| exceeds this, in m."""
    failure_angle_deg: float = 36.0
    """Failure when any pole leans beyond this many degrees (12 for the single pole)."""
    initial_angle_deg: float = 4.0
    """Starting angle of the long pole in degrees (the short pole starts upright)."""
    max_steps: int = 100_000
    """Episodes are truncated after this many steps (the papers' success criterion)."""

    def __post_init__(self) -> None:
        """Validate the fields and raise `RnnaiError` on a bad value."""
        if self.n_poles not in (1, 2) or isinstance(self.n_poles, bool):
            raise RnnaiError(f"n_poles must be 1 or 2, got {self.n_poles!r}")
        if not isinstance(self.markov, bool | np.bool_):
            raise RnnaiError(f"markov must be a bool, got {self.markov!r}")
        positive = (
            "mass_cart",
            "mass_pole_1",
            "half_length_1",
            "mass_pole_2",
            "half_length_2",
            "force_mag",
            "tau",
            "track_limit",
            "failure_angle_deg",
        )
        check_positive(self, positive)
        check_finite(self, ("gravity", "mu_c", "mu_p", "min_force", "initial_angle_deg"))
        if self.mu_c < 0 or self.mu_p < 0 or self.min_force < 0:
            raise RnnaiError("mu_c, mu_p and min_force must be >= 0")
        if self.min_force > self.force_mag:
            raise RnnaiError(
                f"min_force ({self.min_force}) must not exceed force_mag ({self.force_mag})"
            )
        check_positive_ints(self, ("substeps", "max_steps"))
        if abs(self.initial_angle_deg) > self.failure_angle_deg:
            raise RnnaiError(
                f"initial_angle_deg ({self.initial_angle_deg}) is beyond the failure angle "
                f"({self.failure_angle_deg})"
            )

    @property
    def failure_angle(self) -> float:
        """The failure angle in radians."""
        return math.radians(self.failure_angle_deg)

    @property
    def obs_dim(self) -> int:
        """Length of the observation vector: 2, 3, 4 or 6."""
        return len(observation_indices(self.n_poles, self.markov))

    def with_overrides(self, **overrides: Any) -> PoleConfig:
        """Return a copy with some fields replaced; unknown names raise `RnnaiError`."""
        return with_overrides(self, overrides)


SINGLE_POLE = PoleConfig(n_poles=1, failure_angle_deg=12.0)
"""Single pole, Markov (the long pole alone, 12 degree failure angle)."""
DOUBLE_POLE = PoleConfig()
"""Double pole, Markov (full state observed)."""
DOUBLE_POLE_NONMARKOV = PoleConfig(markov=False)
"""Double pole without velocity information."""


def derivatives(
    x_dot: float,
    theta1: float,
    theta1_dot: float,
    theta2: float,
    theta2_dot: float,
    force: float,
    n_poles: int,
    g: float,
    M: float,
    m1: float,
    l1: float,
    m2: float,
    l2: float,
    mu_c: float,
    mu_p: float,
) -> tuple[float, float, float, float, float, float]:
    """Time derivative of the state (x, x', theta1, theta1', theta2, theta2') (Eqs. 1-4).

    Pure scalar math, compiled unchanged by numba in `rnnai.envs._kernels`. With ``n_poles == 1``
    the second pole's terms are zero and its derivatives are returned as 0.

    Args:
        x_dot: Cart velocity x' (m/s).
        theta1: Long pole angle (rad).
        theta1_dot: Long pole angular velocity (rad/s).
        theta2: Short pole angle (rad).
        theta2_dot: Short pole angular velocity (rad/s).
        force: Force F on the cart (N).
        n_poles: 1 or 2.
        g: Gravity (negative).
        M: Cart mass.
        m1: Long pole mass.
        l1: Long pole half-length.
        m2: Short pole mass.
        l2: Short pole half-length.
        mu_c: Cart friction coefficient.
        mu_p: Hinge friction coefficient.

    Returns:
        (x', x'', theta1', theta1'', theta2', theta2'').
    """
    cos1 = math.cos(theta1)
    sin1 = math.sin(theta1)
    hinge1 = mu_p * theta1_dot / (m1 * l1)
    f1 = m1 * l1 * theta1_dot * theta1_dot * sin1 + 0.75 * m1 * cos1 * (hinge1 + g * sin1)  # Eq. 3
    me1 = m1 * (1.0 - 0.75 * cos1 * cos1)  # Eq. 4
    f2 = 0.0
    me2 = 0.0
    cos2 = 1.0
    sin2 = 0.0
    hinge2 = 0.0
    if n_poles > 1:
        cos2 = math.cos(theta2)
        sin2 = math.sin(theta2)
        hinge2 = mu_p * theta2_dot / (m2 * l2)
        f2 = m2 * l2 * theta2_dot * theta2_dot * sin2 + 0.75 * m2 * cos2 * (hinge2 + g * sin2)
        me2 = m2 * (1.0 - 0.75 * cos2 * cos2)
    sgn = 0.0
    if x_dot > 0.0:
        sgn = 1.0
    elif x_dot < 0.0:
        sgn = -1.0
    x_dd = (force - mu_c * sgn + f1 + f2) / (M + me1 + me2)  # Eq. 1
    theta1_dd = -0.75 * (x_dd * cos1 + g * sin1 + hinge1) / l1  # Eq. 2
    theta2_dd = 0.0
    if n_poles > 1:
        theta2_dd = -0.75 * (x_dd * cos2 + g * sin2 + hinge2) / l2
    return x_dot, x_dd, theta1_dot, theta1_dd, theta2_dot, theta2_dd


def action_to_force(action: float, force_mag: float, min_force: float) -> float:
    """Map an action a in [-1, 1] to the force F = force_mag * a (N).

    With ``min_force > 0`` a smaller magnitude is raised to ``min_force`` keeping the sign
    (a = 0 counts as positive, as in ESP's code).
    """
    force = force_mag * action
    if min_force > 0.0:
        if 0.0 <= force < min_force:
            force = min_force
        elif -min_force < force < 0.0:
            force = -min_force
    return force


def is_failure(
    x: float, theta1: float, theta2: float, n_poles: int, track_limit: float, failure_angle: float
) -> bool:
    """True when the cart left the track or a pole leans beyond the failure angle (rad)."""
    if abs(x) > track_limit or abs(theta1) > failure_angle:
        return True
    return n_poles > 1 and abs(theta2) > failure_angle


def physics_params(config: PoleConfig) -> np.ndarray:
    """Pack (g, M, m1, l1, m2, l2, mu_c, mu_p) into a float64 array for the numba kernels."""
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


def rk4_step(state: np.ndarray, force: float, h: float, n_poles: int, p: np.ndarray) -> np.ndarray:
    """One classical Runge-Kutta step of length ``h`` with the force held constant.

    ``k1 = f(s); k2 = f(s + h/2 k1); k3 = f(s + h/2 k2); k4 = f(s + h k3);
    s' = s + h/6 (k1 + 2 k2 + 2 k3 + k4)``. The numba kernel repeats this arithmetic in the same
    order, so both give the same floats.

    Args:
        state: Raw state, shape (6,).
        force: Force in N.
        h: Step length in s.
        n_poles: 1 or 2.
        p: `physics_params` array.

    Returns:
        The new state, shape (6,).
    """
    g, M, m1, l1, m2, l2, mu_c, mu_p = (float(v) for v in p)
    s = [float(v) for v in state]
    k1 = derivatives(s[1], s[2], s[3], s[4], s[5], force, n_poles, g, M, m1, l1, m2, l2, mu_c, mu_p)
    t = [s[i] + 0.5 * h * k1[i] for i in range(6)]
    k2 = derivatives(t[1], t[2], t[3], t[4], t[5], force, n_poles, g, M, m1, l1, m2, l2, mu_c, mu_p)
    t = [s[i] + 0.5 * h * k2[i] for i in range(6)]
    k3 = derivatives(t[1], t[2], t[3], t[4], t[5], force, n_poles, g, M, m1, l1, m2, l2, mu_c, mu_p)
    t = [s[i] + h * k3[i] for i in range(6)]
    k4 = derivatives(t[1], t[2], t[3], t[4], t[5], force, n_poles, g, M, m1, l1, m2, l2, mu_c, mu_p)
    out = [s[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) for i in range(6)]
    return np.array(out, dtype=np.float64)


def advance(state: np.ndarray, action: float, config: PoleConfig) -> np.ndarray:
    """Apply one action: ``config.substeps`` RK4 steps of ``config.tau`` s (0.02 s in all).

    Args:
        state: Raw state, shape (6,).
        action: Action in [-1, 1] (not validated here).
        config: The system.

    Returns:
        The state after the action, shape (6,).
    """
    force = action_to_force(float(action), config.force_mag, config.min_force)
    p = physics_params(config)
    for _ in range(config.substeps):
        state = rk4_step(state, force, config.tau, config.n_poles, p)
    return state


def linearize(config: PoleConfig) -> tuple[np.ndarray, np.ndarray]:
    """The small-angle linear model z' = A z + B F about the upright state, without friction.

    With cos theta ~ 1, sin theta ~ theta and squared velocities dropped, Eq. 4 gives
    m~_i = m_i / 4 and Eq. 3 gives F~_i = 3/4 m_i g theta_i, so::

        x''       = (F + 3/4 g sum_i m_i theta_i) / (M + sum_i m_i / 4)
        theta_i'' = -3 / (4 l_i) (x'' + g theta_i)

    Useful for LQR baselines and for testing the nonlinear simulation.

    Args:
        config: The system (friction is ignored).

    Returns:
        A (6, 6) and B (6,) over the state (x, x', theta1, theta1', theta2, theta2'); the
        second pole's rows and columns are zero with one pole.
    """
    g, M = config.gravity, config.mass_cart
    masses = (config.mass_pole_1, config.mass_pole_2)[: config.n_poles]
    lengths = (config.half_length_1, config.half_length_2)[: config.n_poles]
    den = M + sum(masses) / 4.0
    A = np.zeros((6, 6))
    B = np.zeros(6)
    A[0, 1] = 1.0
    B[1] = 1.0 / den
    for i, m in enumerate(masses):
        A[2 + 2 * i, 3 + 2 * i] = 1.0
        A[1, 2 + 2 * i] = 0.75 * g * m / den
    for i, length in enumerate(lengths):
        row = 3 + 2 * i
        A[row] = -0.75 / length * A[1]
        A[row, 2 + 2 * i] += -0.75 / length * g
        B[row] = -0.75 / length * B[1]
    return A, B


def initial_state(config: PoleConfig) -> np.ndarray:
    """The papers' start: everything 0 except the long pole at ``initial_angle_deg``."""
    state = np.zeros(6, dtype=np.float64)
    state[2] = math.radians(config.initial_angle_deg)
    return state


def observation_indices(n_poles: int, markov: bool) -> tuple[int, ...]:
    """Which state components are observed (indices into `STATE_NAMES`)."""
    if markov:
        return (0, 1, 2, 3) if n_poles == 1 else (0, 1, 2, 3, 4, 5)
    return (0, 2) if n_poles == 1 else (0, 2, 4)


def observation_scale(config: PoleConfig) -> np.ndarray:
    """Divisors for the six state components (ESP's input scaling), shape (6,)."""
    a = config.failure_angle
    return np.array([config.track_limit, 10.0, a, 5.0, a, 16.0], dtype=np.float64)


def observe(state: np.ndarray, config: PoleConfig) -> np.ndarray:
    """The scaled observation of a raw state, shape (``config.obs_dim``,)."""
    idx = list(observation_indices(config.n_poles, config.markov))
    return (state[idx] / observation_scale(config)[idx]).astype(np.float64)


def check_action(action: Any) -> float:
    """Validate one action and return it as a float.

    Accepts a number or an array of shape () or (1,) with a finite value in [-1, 1].

    Raises:
        RnnaiError: If the action is not numeric, has another shape, is NaN/inf or out of range.
    """
    try:
        arr = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise RnnaiError(f"action must be a number in [-1, 1], got {action!r}") from err
    if arr.shape not in ((), (1,)):
        raise RnnaiError(f"action must have shape (1,), got shape {arr.shape}")
    value = float(arr.reshape(()))
    if not math.isfinite(value):
        raise RnnaiError(f"action must be finite, got {value}")
    if not -1.0 <= value <= 1.0:
        raise RnnaiError(f"action must lie in [-1, 1], got {value}")
    return value


def _start_state(config: PoleConfig, given: Any) -> np.ndarray:
    """The raw 6-state of ``reset(options={"state": given})`` (4 values for one pole allowed)."""
    state = initial_state(config)
    g = np.asarray(given, dtype=np.float64).reshape(-1)
    if g.shape[0] not in (4, 6) or not np.all(np.isfinite(g)):
        raise RnnaiError(f"options['state'] must hold 4 or 6 finite values, got {given!r}")
    if config.n_poles == 2 and g.shape[0] != 6:
        raise RnnaiError("options['state'] needs 6 values for two poles")
    state[: g.shape[0]] = g
    if config.n_poles == 1:
        state[4:] = 0.0
    return state


_CART_PX = (50, 30)  # cart width and height in pixels
_POLE_COLORS = ((202, 152, 101), (129, 132, 203))  # long pole, short pole


def draw_frame(state: np.ndarray, config: PoleConfig, width: int = 600) -> np.ndarray:
    """A side view of the cart and its poles as an (H, W, 3) uint8 picture (H = 2 W / 3).

    The track spans the picture's width with the failure limits marked; pole lengths are to
    scale (the short pole is a tenth of the long one).

    Args:
        state: Raw state (x, x', theta1, theta1', theta2, theta2').
        config: The system (track limit, pole lengths, number of poles).
        width: Picture width in pixels.

    Returns:
        The picture.
    """
    height = 2 * width // 3
    canvas = Canvas(width, height)
    scale = width / (2.2 * config.track_limit)
    view = canvas.view(scale, (width / 2, 0.75 * height))
    lim = config.track_limit
    view.line((-1.1 * lim, 0.0), (1.1 * lim, 0.0), (0, 0, 0))
    for side in (-lim, lim):
        view.line((side, -0.1), (side, 0.1), (200, 0, 0), 2)
    x = float(state[0])
    view.rect((x, 0.0), _CART_PX, (40, 40, 40))
    top = _CART_PX[1] / (2 * scale)  # the hinges sit on the cart's top edge
    lengths = (config.half_length_1, config.half_length_2)
    for i in reversed(range(config.n_poles)):
        theta = float(state[2 + 2 * i])
        tip = (x + 2 * lengths[i] * math.sin(theta), top + 2 * lengths[i] * math.cos(theta))
        view.line((x, top), tip, _POLE_COLORS[i], 8 - 3 * i)
    view.circle((x, top), 3 / scale, (0, 0, 0))
    return canvas.frame()


_OBS_BOUND = float(np.finfo(np.float32).max)  # unbounded in effect, without -inf/inf


class PoleBalancingEnv(FrameRendering, gym.Env[np.ndarray, np.ndarray]):
    """Wieland's cart-pole with one or two poles, as in the ESP and CoSyNE papers.

    ## Description

    One or two poles of different lengths are hinged side by side on a cart that moves along a
    4.8 m track. The controller pushes the cart with a continuous force and must keep every pole
    within the failure angle and the cart on the track. The physics are Wieland's equations with
    cart and hinge friction, integrated by fourth-order Runge-Kutta (two 0.01 s steps per
    action); see the module docstring for the equations and constants. Unlike gymnasium's
    ``CartPole-v1`` (bang-bang force, Euler integration, no friction), this is the benchmark of
    the neuroevolution literature. Registered ids (see `rnnai.envs`):
    ``rnnai/CartPoleWieland-v0`` (one pole), ``rnnai/DoublePole-v0`` and
    ``rnnai/DoublePoleNonMarkov-v0``; any `PoleConfig` field can be given to ``gym.make``,
    e.g. ``gym.make("rnnai/DoublePole-v0", markov=False, initial_angle_deg=1.0)``.
    ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` gives
    `PoleBalancingVectorEnv`, N episodes on the numba twin.

    ## Action Space

    ``Box(-1, 1, (1,), float64)``: the force on the cart is ``F = 10 a`` newtons (positive pushes
    towards +x). NaN, infinite, out-of-range or wrongly shaped actions raise `RnnaiError`.

    ## Observation Space

    ``Box(-F, F, (d,), float32)`` with F the largest float32 (unbounded in effect), the raw
    state scaled as ESP scales its inputs (computed in float64, then rounded to float32):

    | Markov, two poles (d=6)   | scale    | non-Markov, two poles (d=3) |
    |---------------------------|----------|-----------------------------|
    | x (m)                     | / 2.4    | x / 2.4                     |
    | x' (m/s)                  | / 10     |                             |
    | theta1 (rad)              | / 36 deg | theta1 / 36 deg             |
    | theta1' (rad/s)           | / 5      |                             |
    | theta2 (rad)              | / 36 deg | theta2 / 36 deg             |
    | theta2' (rad/s)           | / 16     |                             |

    One pole: (x, x', theta1, theta1') (d=4) or (x, theta1) (d=2), angles divided by 12 deg.
    ``info["state"]`` holds the raw float64 state (x, x', theta1, theta1', theta2, theta2') in
    SI units; `observe` gives the float64 observation of it.

    ## Rewards

    +1 for every step after which the system is still within bounds, 0 for the failing step, so
    the return is the number of steps balanced (the papers' standard fitness). Gruau's damping
    fitness is in `rnnai.envs.fitness`.

    ## Starting State

    x = x' = theta1' = theta2 = theta2' = 0 and theta1 = 4 degrees (``initial_angle_deg``); the
    start is deterministic, as in the papers. ``reset(options={"state": s})`` starts from a given
    raw state ``s`` of 6 values (or 4 for one pole), used by the generalization test.

    ## Episode End

    Termination: |x| > 2.4 m, or a pole beyond 36 degrees (two poles) / 12 degrees (one pole).
    Truncation: after ``max_steps`` steps (default 100,000, the papers' success criterion).
    Stepping a finished episode raises `RnnaiError`.

    ## Rendering

    ``render_mode="rgb_array"``: `render` returns a 400 x 600 side view (`draw_frame`);
    ``"human"`` shows it in a pygame window at 50 frames per second.

    ## Version History

    * v0 (revised): float32 observations (float64 physics unchanged); ``rgb_array`` and
      ``human`` rendering; a ``vector_entry_point`` (`PoleBalancingVectorEnv`).
    * v0: initial version (Wieland physics with friction, RK4, ESP observation scaling).
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array", "human"], "render_fps": 50}

    def __init__(
        self, config: PoleConfig | None = None, render_mode: str | None = None, **overrides: Any
    ) -> None:
        """Build the environment.

        Args:
            config: The system and task; `DOUBLE_POLE` when None.
            render_mode: None, ``"rgb_array"`` or ``"human"``.
            **overrides: `PoleConfig` fields replacing those of ``config``.

        Raises:
            RnnaiError: On an unknown field, a bad value or an unknown render mode.
        """
        check_render_mode(render_mode, self.metadata["render_modes"], "PoleBalancingEnv")
        self.render_mode = render_mode
        self.config = (config if config is not None else DOUBLE_POLE).with_overrides(**overrides)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float64)
        self.observation_space = spaces.Box(
            -_OBS_BOUND, _OBS_BOUND, shape=(self.config.obs_dim,), dtype=np.float32
        )
        self._state = initial_state(self.config)
        self._steps = 0
        self._done = True
        self._window: Window | None = None

    @property
    def state(self) -> np.ndarray:
        """A copy of the raw state (x, x', theta1, theta1', theta2, theta2')."""
        return self._state.copy()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode from the papers' start or from ``options["state"]``.

        Args:
            seed: Seeds ``self.np_random`` (the dynamics use no randomness).
            options: Optional ``{"state": raw_state}`` with 6 values (4 for one pole).

        Returns:
            The first observation and ``info`` with the raw ``state`` and ``steps`` (0).
        """
        super().reset(seed=seed)
        state = initial_state(self.config)
        if options and options.get("state") is not None:
            state = _start_state(self.config, options["state"])
        self._state = state
        self._steps = 0
        self._done = False
        if self.render_mode == "human":
            self.render()
        return self._observe(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply one action (0.02 s) and report failure or truncation.

        Args:
            action: A float in [-1, 1], shape (1,) or ().

        Returns:
            (observation, reward, terminated, truncated, info) as described in the class
            docstring.

        Raises:
            RnnaiError: On a bad action or when the episode is over (call ``reset``).
        """
        if self._done:
            raise RnnaiError("the episode is over (or never started): call reset() first")
        a = check_action(action)
        c = self.config
        self._state = advance(self._state, a, c)
        s = self._state
        terminated = is_failure(s[0], s[2], s[4], c.n_poles, c.track_limit, c.failure_angle)
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
        """The side view as an (H, W, 3) uint8 image (shown or returned by `render`)."""
        return draw_frame(self._state, self.config)

    def _observe(self) -> np.ndarray:
        return observe(self._state, self.config).astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {"state": self._state.copy(), "steps": self._steps}


class PoleBalancingVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """N `PoleBalancingEnv` episodes stepped together by the numba twin (`_kernels.step_batch`).

    What ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` builds for
    the pole ids; step for step it gives what N `PoleBalancingEnv` give (observations, rewards,
    terminations, truncations, ``info["state"]`` and ``info["steps"]`` as (N, ...) arrays).

    Autoreset follows gymnasium's ``NEXT_STEP`` mode: the step after an episode ended resets it
    to the papers' start, ignores its action and returns its first observation with reward 0
    and both flags False. Spaces: ``Box(-1, 1, (N, 1), float64)`` actions,
    ``Box(-F, F, (N, d), float32)`` observations.
    """

    metadata: dict[str, Any] = {
        "render_modes": [],
        "render_fps": 50,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        config: PoleConfig | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        """Build N episodes of one system.

        Args:
            num_envs: N >= 1.
            config: The system and task; `DOUBLE_POLE` when None.
            render_mode: Must be None (render single environments instead).
            **overrides: `PoleConfig` fields replacing those of ``config``.

        Raises:
            RnnaiError: On a bad ``num_envs``, an unknown field, a bad value or a render mode.
        """
        check_render_mode(render_mode, [], "PoleBalancingVectorEnv")
        self.render_mode = render_mode
        self.num_envs = check_num_envs(num_envs)
        self.config = (config if config is not None else DOUBLE_POLE).with_overrides(**overrides)
        c = self.config
        self.single_action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float64)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = spaces.Box(
            -_OBS_BOUND, _OBS_BOUND, shape=(c.obs_dim,), dtype=np.float32
        )
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        n = self.num_envs
        self._state = np.tile(initial_state(c), (n, 1))  # (N, 6)
        self._steps = np.zeros(n, dtype=np.int64)
        self._autoreset = np.zeros(n, dtype=np.bool_)
        self._started = False
        self._index = np.asarray(observation_indices(c.n_poles, c.markov), dtype=np.int64)
        self._scale = observation_scale(c)
        self._params = physics_params(c)
        self._obs = np.zeros((n, c.obs_dim), dtype=np.float64)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start all N episodes from the papers' start or from ``options["state"]``.

        Args:
            seed: Seeds ``self.np_random`` (the dynamics use no randomness).
            options: Optional ``{"state": s}``: one raw state (6 values, or 4 for one pole) for
                every episode, or an (N, 6) / (N, 4) array, one per episode.

        Returns:
            (N, d) float32 observations and ``info`` with ``state`` (N, 6) and ``steps`` (N,).
        """
        super().reset(seed=seed)
        c = self.config
        start = np.tile(initial_state(c), (self.num_envs, 1))
        if options and options.get("state") is not None:
            given = np.asarray(options["state"], dtype=np.float64)
            if given.ndim == 2:
                if given.shape[0] != self.num_envs:
                    raise RnnaiError(
                        f"options['state'] must have {self.num_envs} rows, got {given.shape}"
                    )
                start = np.stack([_start_state(c, row) for row in given])
            else:
                start[:] = _start_state(c, given)
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
            actions: (N, 1) or (N,) floats in [-1, 1] (ignored for episodes being reset).

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
            a = np.asarray(actions, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise RnnaiError(f"actions must be ({n}, 1) numbers in [-1, 1]") from err
        if a.shape == (n, 1):
            a = a.reshape(n)
        if a.shape != (n,):
            raise RnnaiError(f"actions must have shape ({n}, 1), got shape {a.shape}")
        a = np.ascontiguousarray(a)
        running = ~self._autoreset
        bad = _kernels.first_bad_action(a, running)
        if bad >= 0:
            raise RnnaiError(f"action {a[bad]} of episode {bad} is not a finite number in [-1, 1]")
        c = self.config
        alive = running.copy()
        _kernels.step_batch(
            self._state,
            a,
            alive,
            self._steps,
            c.n_poles,
            self._params,
            c.force_mag,
            c.min_force,
            c.tau,
            c.substeps,
            c.track_limit,
            c.failure_angle,
        )
        terminated = running & ~alive
        truncated = alive & (self._steps >= c.max_steps)
        rewards = np.where(alive, 1.0, 0.0)
        restart = self._autoreset
        self._state[restart] = initial_state(c)
        self._steps[restart] = 0
        truncated[restart] = False
        self._autoreset = terminated | truncated
        return self._observe(), rewards, terminated, truncated, self._info()

    def _observe(self) -> np.ndarray:
        from rnnai.envs import _kernels

        _kernels.observe_batch(self._state, self._index, self._scale, self._obs)
        return self._obs.astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {"state": self._state.copy(), "steps": self._steps.copy()}
