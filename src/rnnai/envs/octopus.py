"""The octopus arm of the 2006/2009 reinforcement-learning competitions (Yekutieli et al. 2005).

Citations:
    Y. Yekutieli, R. Sagiv-Zohar, R. Aharonov, Y. Engel, B. Hochner and T. Flash. Dynamic model
    of the octopus arm. I. Biomechanics of the octopus reaching movement. Journal of
    Neurophysiology 94:1443-1458, 2005 (the 2-D model: compartments of 4 point masses, muscles
    as damped springs with an active force, constant area, water drag, gravity and buoyancy).
    The octopus-arm task of the RL competition (www.rl-competition.org, 2006 and 2009; the ICML
    2006 workshop's Java simulator, whose settings file sets the arm, the targets, the time
    limit and a reward per step).
    J. Koutnik, F. Gomez and J. Schmidhuber. Evolving neural networks in compressed weight
    space. GECCO 2010, pp. 619-626 (the task searched with compressed network search).

Model. The arm is a chain of N = 10 compartments, each a quadrilateral of four point masses
("nodes"). The nodes come in N + 1 pairs along the arm, a dorsal node d_i (the +y side when the
arm lies along +x) and a ventral node v_i, i = 0..N; compartment c (1..N) has the corners
d_{c-1}, d_c, v_c, v_{c-1}. Pair 0 is the base, held by the body: it turns rigidly with the base
angle theta about the origin. The other 2N = 20 nodes move freely. Per compartment c:

* a dorsal longitudinal muscle (edge d_{c-1} d_c), a ventral one (v_{c-1} v_c) and a transverse
  muscle (edge d_c v_c, the compartment's distal edge). Each is a damped spring with an active
  contractile force; with length L, rest length L0, lengthening rate L' and activation
  a in [0, 1], its tension (positive = pulling the two ends together) is::

      T = k_p (L - L0) + a F_max + c_m L'                                          (Eq. M)

* a constant-area (hydrostat) constraint. The area A of the quadrilateral (shoelace formula,
  corners counter-clockwise) is held near its rest area A0 by an internal pressure
  p = -k_A (A - A0) / A0 - c_A A' / A0, which pushes each corner k along the area gradient::

      F_k = p dA/dx_k,    dA/dx_k = 1/2 (y_{k+1} - y_{k-1}, x_{k-1} - x_{k+1})        (Eq. P)

  (the penalty form of Yekutieli's exact constraint: the potential 1/2 k_A (A - A0)^2 / A0);

* optional weak passive springs along both diagonals (``k_diagonal``; 0 turns them off);

* water drag on the outer edges (dorsal and ventral edges of every compartment and the tip
  edge): the edge's midpoint velocity is split into its normal and tangential parts v_n, v_t and
  the edge feels::

      F = -1/2 rho_w h L (C_n |v_n| v_n n + C_t |v_t| v_t t) - b L v                 (Eq. D)

  shared equally by its two nodes (h: the local arm depth, taken equal to its rest width; each
  of the two long sides carries half the compartment's drag);

* gravity and buoyancy: every free node of mass m feels m g (rho_w / rho_arm - 1) along y.

The base turns with I theta'' = tau_max (a_ccw - a_cw) - c_b theta' (the body is taken to be
heavy, so the arm's reaction on it is neglected), and theta stays within +-``base_angle_limit``
(the base stops at the limit). The equations are integrated by semi-implicit (symplectic) Euler
with step ``dt``: v += dt F / m, then x += dt v; ``substeps`` steps per action.

Task (the competition's target task): the arm starts straight along +x at rest; a piece of food
(a disc) sits at (food_x, food_y); the episode ends (terminated) when any free node lies within
the food's radius, and is truncated after ``max_steps`` actions. Reward: ``step_reward`` (-1) per
action that does not touch, ``touch_reward`` (0) for the touching action.

Observation (82 = 2 + 8N values): theta, theta', then per pair i = 1..N the dorsal node's
x, y, x', y' and the ventral node's x, y, x', y', in the arm's units (not scaled). Action
(32 = 3N + 2 values in [0, 1]): per compartment c = 1..N the activations of its dorsal,
transverse and ventral muscles (indices 3(c-1), 3(c-1)+1, 3(c-1)+2), then the base's
counter-clockwise and clockwise rotation (indices 3N, 3N+1).

Deviations and choices, all deliberate (every constant is a field of `OctopusConfig`):

- Yekutieli's muscles have force-length and force-velocity curves and maximal stress 8e4 N/m^2;
  Eq. M is linear in length and velocity (our simplification; the competition simulator's
  muscle law could not be checked here).
- The competition's simulator ships its constants in an XML settings file that we could not
  read here; our constants are in abstract units (arm length 10, base width 1, tip width 0.4,
  density 1, action interval 0.1 time units), chosen so the arm is stable with dt = 0.01 (it
  is not with dt = 0.02), keeps every compartment's area within 10% of A0 (about 3% under
  full one-sided activation), curls under one-sided activation and settles within a few time
  units. The drag coefficients C_n = 1.013 and C_t = 0.0256 are Yekutieli's as quoted
  elsewhere; the density ratio rho_w / rho_arm = 1022 / 1042 is the paper's sea water and arm
  densities; the gravity constant (1 unit/s^2) is ours and makes the arm sink slowly.
- Behaviour worth knowing: because normal drag is ~40 times the tangential one, one-sided
  activation first shortens the arm and curls its light, thin tip, and the curl then travels
  towards the base; strongly compressed proximal compartments can buckle into a slight
  zig-zag.
- The transverse muscle of compartment c is its distal edge; the base pair has none.
- The base's inertia, torque, damping and angle limit are ours (the competition's arm has a
  rotating base with two rotation actions; its limits could not be checked).
- The food position and radius are ours (the competition varies them by settings file): at
  (11.5, 2.0), beyond the tip of the resting arm (length 10), so the arm has to lengthen (its
  transverse muscles) and aim (its longitudinal muscles and the base), as an octopus reaches;
  the touch test uses the nodes only (not the edges between them).

The physics are plain loops over arrays marked ``numba.extending.register_jitable``: called
from Python they run as plain Python (the twins), and `rnnai.envs._octopus_kernels` compiles the
same source with numba; `OctopusArmEnv` steps with the compiled kernel, and
``tests/envs/test_octopus.py`` holds kernel and Python twin together. The physics are float64;
the environment hands out float32 observations (as gymnasium's classic-control environments do).

Examples:
    >>> import numpy as np
    >>> env = OctopusArmEnv()
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, obs.dtype, env.action_space.shape
    ((82,), dtype('float32'), (32,))
    >>> obs, reward, terminated, truncated, info = env.step(np.full(32, 0.5))
    >>> reward, terminated, info["gap"] > 0
    (-1.0, False, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numba.extending import register_jitable

from rnnai.envs._config import check_num_envs, with_overrides
from rnnai.envs._render import FrameRendering, Window, check_render_mode
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "N_PARAMS",
    "OctopusArmEnv",
    "OctopusArmVectorEnv",
    "OctopusConfig",
    "OctopusGeometry",
    "arm_energy",
    "arm_forces",
    "check_action",
    "closest_gap",
    "compartment_areas",
    "draw_arm",
    "geometry",
    "initial_state",
    "observe_into",
    "physics_params",
    "set_base_nodes",
    "substep",
]

# Indices into the `physics_params` vector (compile-time constants for numba).
_K_LONG, _K_TRANS, _F_LONG, _F_TRANS, _C_MUSCLE, _K_AREA, _C_AREA, _K_DIAG = 0, 1, 2, 3, 4, 5, 6, 7
_RHO_W, _C_NORMAL, _C_TANGENT, _LIN_DRAG, _G_NET = 8, 9, 10, 11, 12
_BASE_I, _BASE_TAU, _BASE_C, _BASE_LIM = 13, 14, 15, 16
N_PARAMS = 17
"""Length of the `physics_params` vector."""


@dataclass(frozen=True, kw_only=True)
class OctopusConfig:
    """Arm, physics and task constants (defaults: the competition's 10-compartment arm)."""

    n_compartments: int = 10
    """N, compartments along the arm (observation 2 + 8N, action 3N + 2)."""
    arm_length: float = 10.0
    """Rest length of the arm (N equal compartments), in arm units."""
    base_width: float = 1.0
    """Rest width at the base (pair 0)."""
    tip_width: float = 0.4
    """Rest width at the tip (pair N); widths taper linearly."""
    arm_density: float = 1.0
    """rho_arm, mass per unit area: a compartment's mass is rho_arm A0, a quarter per corner."""
    water_density: float = 1.0 * 1022.0 / 1042.0
    """rho_w, in the same units (Yekutieli's sea water 1022 vs arm 1042 kg/m^3)."""
    gravity: float = 1.0
    """g (units/s^2); nodes feel m g (rho_w / rho_arm - 1) along y (ours; 0 for no weight)."""
    k_longitudinal: float = 5.0
    """k_p of the longitudinal muscles (passive stiffness, Eq. M)."""
    k_transverse: float = 5.0
    """k_p of the transverse muscles."""
    f_longitudinal: float = 6.0
    """F_max of the longitudinal muscles (active force at a = 1)."""
    f_transverse: float = 6.0
    """F_max of the transverse muscles."""
    c_muscle: float = 1.0
    """c_m, muscle damping per unit lengthening rate (Eq. M)."""
    k_area: float = 200.0
    """k_A, stiffness of the constant-area constraint (Eq. P)."""
    c_area: float = 4.0
    """c_A, damping of area changes (Eq. P)."""
    k_diagonal: float = 0.5
    """Passive stiffness of the two diagonal springs per compartment (0: none)."""
    drag_normal: float = 1.013
    """C_n, Yekutieli's normal drag coefficient (Eq. D)."""
    drag_tangent: float = 0.0256
    """C_t, Yekutieli's tangential drag coefficient (Eq. D)."""
    linear_drag: float = 0.05
    """b, linear drag per unit edge length (Eq. D), damps slow motion."""
    base_inertia: float = 5.0
    """I, the base's moment of inertia."""
    base_torque: float = 10.0
    """tau_max, the base torque at full activation of one rotation action."""
    base_damping: float = 10.0
    """c_b, the base's rotational damping."""
    base_angle_limit_deg: float = 45.0
    """The base angle stays within +- this many degrees."""
    dt: float = 0.01
    """Integration step (time units)."""
    substeps: int = 10
    """Integration steps per action (0.1 time units per action by default)."""
    food_x: float = 11.5
    """x of the food's centre (the base is at the origin, the resting arm spans x in [0, 10])."""
    food_y: float = 2.0
    """y of the food's centre (dorsal side)."""
    food_radius: float = 0.5
    """A free node closer than this to the food's centre touches it."""
    food_jitter: float = 0.0
    """Each reset moves the food by a uniform offset in [-jitter, jitter]^2 (``np_random``)."""
    max_steps: int = 200
    """Episodes are truncated after this many actions."""
    step_reward: float = -1.0
    """Reward of every action that does not touch the food."""
    touch_reward: float = 0.0
    """Reward of the action that touches the food."""

    def __post_init__(self) -> None:
        """Validate the fields and raise `RnnaiError` on a bad value."""
        for name in ("n_compartments", "substeps", "max_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise RnnaiError(f"{name} must be an int >= 1, got {value!r}")
        positive = (
            "arm_length",
            "base_width",
            "tip_width",
            "arm_density",
            "k_longitudinal",
            "k_transverse",
            "k_area",
            "base_inertia",
            "base_angle_limit_deg",
            "dt",
            "food_radius",
        )
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("n_compartments", "substeps", "max_steps"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
                raise RnnaiError(f"{f.name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise RnnaiError(f"{f.name} must be finite, got {value!r}")
            if f.name in positive and value <= 0:
                raise RnnaiError(f"{f.name} must be > 0, got {value!r}")
            if (
                f.name not in positive
                and f.name
                not in (
                    "gravity",
                    "food_x",
                    "food_y",
                    "step_reward",
                    "touch_reward",
                )
                and value < 0
            ):
                raise RnnaiError(f"{f.name} must be >= 0, got {value!r}")
        if self.base_angle_limit_deg > 180.0:
            raise RnnaiError(
                f"base_angle_limit_deg must be <= 180, got {self.base_angle_limit_deg}"
            )

    @property
    def obs_dim(self) -> int:
        """Length of an observation: 2 + 8N (82 for N = 10)."""
        return 2 + 8 * self.n_compartments

    @property
    def act_dim(self) -> int:
        """Length of an action: 3N + 2 (32 for N = 10)."""
        return 3 * self.n_compartments + 2

    @property
    def n_nodes(self) -> int:
        """2 (N + 1) nodes, the base pair included."""
        return 2 * (self.n_compartments + 1)

    def with_overrides(self, **overrides: Any) -> OctopusConfig:
        """Return a copy with some fields replaced; unknown names raise `RnnaiError`."""
        return with_overrides(self, overrides)


@dataclass(frozen=True, kw_only=True)
class OctopusGeometry:
    """Rest geometry of an arm, the arrays the kernels take.

    Attributes:
        rest_long: (N,) rest length of compartment c's dorsal and ventral edges.
        rest_trans: (N + 1,) rest width of pair i (the transverse edge d_i v_i).
        rest_diag: (2N,) rest lengths of the diagonals d_{c-1} v_c and v_{c-1} d_c.
        rest_area: (N,) rest area A0 of each compartment.
        depth: (N + 1,) arm depth h at each pair (equal to the rest width).
        mass: (2N + 2,) node masses (the base pair's are unused).
    """

    rest_long: np.ndarray
    rest_trans: np.ndarray
    rest_diag: np.ndarray
    rest_area: np.ndarray
    depth: np.ndarray
    mass: np.ndarray


def geometry(config: OctopusConfig) -> OctopusGeometry:
    """The rest geometry of a straight arm along +x (widths taper linearly).

    Args:
        config: The arm.

    Returns:
        The rest lengths, areas, depths and masses (float64 arrays).
    """
    n = config.n_compartments
    ell = config.arm_length / n
    w = np.linspace(config.base_width, config.tip_width, n + 1)  # (N + 1,)
    rest_long = np.sqrt(ell**2 + (0.5 * (w[:-1] - w[1:])) ** 2)  # the slanted long sides
    area = 0.5 * (w[:-1] + w[1:]) * ell  # trapezoids, (N,)
    diag = np.empty(2 * n)
    # both diagonals of a symmetric trapezoid have the same length
    diag[0::2] = np.sqrt(ell**2 + (0.5 * w[:-1] + 0.5 * w[1:]) ** 2)
    diag[1::2] = diag[0::2]
    mass = np.zeros(2 * (n + 1))
    for c in range(n):
        share = 0.25 * config.arm_density * area[c]
        for k in (2 * c, 2 * c + 1, 2 * c + 2, 2 * c + 3):
            mass[k] += share
    return OctopusGeometry(
        rest_long=rest_long,
        rest_trans=w.copy(),
        rest_diag=diag,
        rest_area=area,
        depth=w.copy(),
        mass=mass,
    )


def physics_params(config: OctopusConfig) -> np.ndarray:
    """Pack the physical constants into a float64 vector of `N_PARAMS` for the kernels.

    Args:
        config: The arm.

    Returns:
        (N_PARAMS,) float64; the base angle limit in radians, the net gravity
        g (rho_w / rho_arm - 1).
    """
    c = config
    p = np.zeros(N_PARAMS)
    p[_K_LONG], p[_K_TRANS] = c.k_longitudinal, c.k_transverse
    p[_F_LONG], p[_F_TRANS] = c.f_longitudinal, c.f_transverse
    p[_C_MUSCLE], p[_K_AREA], p[_C_AREA], p[_K_DIAG] = c.c_muscle, c.k_area, c.c_area, c.k_diagonal
    p[_RHO_W], p[_C_NORMAL], p[_C_TANGENT] = c.water_density, c.drag_normal, c.drag_tangent
    p[_LIN_DRAG] = c.linear_drag
    p[_G_NET] = c.gravity * (c.water_density / c.arm_density - 1.0)
    p[_BASE_I], p[_BASE_TAU], p[_BASE_C] = c.base_inertia, c.base_torque, c.base_damping
    p[_BASE_LIM] = math.radians(c.base_angle_limit_deg)
    return p


# --------------------------------------------------------------------------- physics (numba-able)
@register_jitable
def _spring(
    pos: np.ndarray,
    vel: np.ndarray,
    a: int,
    b: int,
    rest: float,
    k: float,
    active: float,
    damping: float,
    force: np.ndarray,
) -> None:
    """Add the tension of one damped spring with an active force between nodes a and b (Eq. M)."""
    dx = pos[b, 0] - pos[a, 0]
    dy = pos[b, 1] - pos[a, 1]
    length = math.sqrt(dx * dx + dy * dy)
    if length < 1e-12:
        return
    ux = dx / length
    uy = dy / length
    rate = (vel[b, 0] - vel[a, 0]) * ux + (vel[b, 1] - vel[a, 1]) * uy  # L'
    tension = k * (length - rest) + active + damping * rate  # Eq. M
    force[a, 0] += tension * ux
    force[a, 1] += tension * uy
    force[b, 0] -= tension * ux
    force[b, 1] -= tension * uy


@register_jitable
def _edge_drag(
    pos: np.ndarray,
    vel: np.ndarray,
    a: int,
    b: int,
    depth: float,
    p: np.ndarray,
    force: np.ndarray,
) -> None:
    """Add the water drag of one outer edge, half to each node (Eq. D)."""
    dx = pos[b, 0] - pos[a, 0]
    dy = pos[b, 1] - pos[a, 1]
    length = math.sqrt(dx * dx + dy * dy)
    if length < 1e-12:
        return
    tx = dx / length
    ty = dy / length
    nx = -ty
    ny = tx
    vx = 0.5 * (vel[a, 0] + vel[b, 0])
    vy = 0.5 * (vel[a, 1] + vel[b, 1])
    vn = vx * nx + vy * ny
    vt = vx * tx + vy * ty
    q = 0.5 * p[_RHO_W] * depth * length
    fx = -q * (p[_C_NORMAL] * abs(vn) * vn * nx + p[_C_TANGENT] * abs(vt) * vt * tx)
    fy = -q * (p[_C_NORMAL] * abs(vn) * vn * ny + p[_C_TANGENT] * abs(vt) * vt * ty)
    fx -= p[_LIN_DRAG] * length * vx
    fy -= p[_LIN_DRAG] * length * vy
    force[a, 0] += 0.5 * fx
    force[a, 1] += 0.5 * fy
    force[b, 0] += 0.5 * fx
    force[b, 1] += 0.5 * fy


@register_jitable
def arm_forces(
    pos: np.ndarray,
    vel: np.ndarray,
    act: np.ndarray,
    rest_long: np.ndarray,
    rest_trans: np.ndarray,
    rest_diag: np.ndarray,
    rest_area: np.ndarray,
    depth: np.ndarray,
    mass: np.ndarray,
    p: np.ndarray,
    force: np.ndarray,
) -> None:
    """Total force on every node: muscles, pressure, diagonals, drag, gravity (Eqs. M, P, D).

    Plain loops over arrays: `rnnai.envs._octopus_kernels` compiles this function unchanged.

    Args:
        pos: (2N + 2, 2) node positions; node 2i is d_i, node 2i + 1 is v_i.
        vel: (2N + 2, 2) node velocities.
        act: (3N + 2,) activations in [0, 1] (the action).
        rest_long: `OctopusGeometry.rest_long`.
        rest_trans: `OctopusGeometry.rest_trans`.
        rest_diag: `OctopusGeometry.rest_diag`.
        rest_area: `OctopusGeometry.rest_area`.
        depth: `OctopusGeometry.depth`.
        mass: `OctopusGeometry.mass`.
        p: `physics_params`.
        force: (2N + 2, 2) output, overwritten.
    """
    n = rest_long.shape[0]
    force[:, :] = 0.0
    for c in range(n):
        d0, v0, d1, v1 = 2 * c, 2 * c + 1, 2 * c + 2, 2 * c + 3
        # muscles of compartment c + 1 (Eq. M)
        _spring(
            pos, vel, d0, d1, rest_long[c], p[_K_LONG], act[3 * c] * p[_F_LONG], p[_C_MUSCLE], force
        )  # dorsal
        _spring(
            pos,
            vel,
            d1,
            v1,
            rest_trans[c + 1],
            p[_K_TRANS],
            act[3 * c + 1] * p[_F_TRANS],
            p[_C_MUSCLE],
            force,
        )  # transverse (distal edge)
        _spring(
            pos,
            vel,
            v0,
            v1,
            rest_long[c],
            p[_K_LONG],
            act[3 * c + 2] * p[_F_LONG],
            p[_C_MUSCLE],
            force,
        )  # ventral
        if p[_K_DIAG] > 0.0:
            _spring(pos, vel, d0, v1, rest_diag[2 * c], p[_K_DIAG], 0.0, 0.0, force)
            _spring(pos, vel, v0, d1, rest_diag[2 * c + 1], p[_K_DIAG], 0.0, 0.0, force)
        # constant area (Eq. P); corners counter-clockwise: v0, v1, d1, d0
        x0, y0 = pos[v0, 0], pos[v0, 1]
        x1, y1 = pos[v1, 0], pos[v1, 1]
        x2, y2 = pos[d1, 0], pos[d1, 1]
        x3, y3 = pos[d0, 0], pos[d0, 1]
        area = 0.5 * (
            (x0 * y1 - x1 * y0) + (x1 * y2 - x2 * y1) + (x2 * y3 - x3 * y2) + (x3 * y0 - x0 * y3)
        )
        gx0, gy0 = 0.5 * (y1 - y3), 0.5 * (x3 - x1)
        gx1, gy1 = 0.5 * (y2 - y0), 0.5 * (x0 - x2)
        gx2, gy2 = 0.5 * (y3 - y1), 0.5 * (x1 - x3)
        gx3, gy3 = 0.5 * (y0 - y2), 0.5 * (x2 - x0)
        rate = (
            gx0 * vel[v0, 0]
            + gy0 * vel[v0, 1]
            + gx1 * vel[v1, 0]
            + gy1 * vel[v1, 1]
            + gx2 * vel[d1, 0]
            + gy2 * vel[d1, 1]
            + gx3 * vel[d0, 0]
            + gy3 * vel[d0, 1]
        )  # A'
        pressure = -(p[_K_AREA] * (area - rest_area[c]) + p[_C_AREA] * rate) / rest_area[c]
        force[v0, 0] += pressure * gx0
        force[v0, 1] += pressure * gy0
        force[v1, 0] += pressure * gx1
        force[v1, 1] += pressure * gy1
        force[d1, 0] += pressure * gx2
        force[d1, 1] += pressure * gy2
        force[d0, 0] += pressure * gx3
        force[d0, 1] += pressure * gy3
        # water drag on the two long sides, each with half the compartment's depth (Eq. D)
        h = 0.25 * (depth[c] + depth[c + 1])
        _edge_drag(pos, vel, d0, d1, h, p, force)
        _edge_drag(pos, vel, v0, v1, h, p, force)
    _edge_drag(pos, vel, 2 * n, 2 * n + 1, float(depth[n]), p, force)  # the tip
    for k in range(2, 2 * n + 2):
        force[k, 1] += mass[k] * p[_G_NET]  # gravity and buoyancy


@register_jitable
def set_base_nodes(
    pos: np.ndarray, vel: np.ndarray, theta: float, omega: float, half_width: float
) -> None:
    """Place the base pair on the body: d_0, v_0 = R(theta) (0, +-w_0/2), moving with omega.

    Args:
        pos: (2N + 2, 2) positions, rows 0 and 1 overwritten.
        vel: (2N + 2, 2) velocities, rows 0 and 1 overwritten.
        theta: Base angle (rad, counter-clockwise from +x).
        omega: Base angular velocity (rad per time unit).
        half_width: w_0 / 2.
    """
    s = math.sin(theta)
    c = math.cos(theta)
    pos[0, 0] = -s * half_width
    pos[0, 1] = c * half_width
    pos[1, 0] = s * half_width
    pos[1, 1] = -c * half_width
    # v = omega x r
    vel[0, 0] = -omega * pos[0, 1]
    vel[0, 1] = omega * pos[0, 0]
    vel[1, 0] = -omega * pos[1, 1]
    vel[1, 1] = omega * pos[1, 0]


@register_jitable
def substep(
    pos: np.ndarray,
    vel: np.ndarray,
    base: np.ndarray,
    act: np.ndarray,
    rest_long: np.ndarray,
    rest_trans: np.ndarray,
    rest_diag: np.ndarray,
    rest_area: np.ndarray,
    depth: np.ndarray,
    mass: np.ndarray,
    p: np.ndarray,
    dt: float,
    force: np.ndarray,
) -> None:
    """One semi-implicit Euler step of length dt, in place.

    Base: omega += dt (tau_max (a_ccw - a_cw) - c_b omega) / I; theta += dt omega, clipped to
    the limit (omega = 0 there). Free nodes: v += dt F / m; x += dt v.

    Args:
        pos: (2N + 2, 2) positions.
        vel: (2N + 2, 2) velocities.
        base: (2,) theta, omega.
        act: (3N + 2,) activations.
        rest_long: `OctopusGeometry.rest_long` (and so on for the next five arrays).
        rest_trans: `OctopusGeometry.rest_trans`.
        rest_diag: `OctopusGeometry.rest_diag`.
        rest_area: `OctopusGeometry.rest_area`.
        depth: `OctopusGeometry.depth`.
        mass: `OctopusGeometry.mass`.
        p: `physics_params`.
        dt: Step length.
        force: (2N + 2, 2) scratch.
    """
    n = rest_long.shape[0]
    arm_forces(pos, vel, act, rest_long, rest_trans, rest_diag, rest_area, depth, mass, p, force)
    torque = p[_BASE_TAU] * (act[3 * n] - act[3 * n + 1]) - p[_BASE_C] * base[1]
    base[1] += dt * torque / p[_BASE_I]
    base[0] += dt * base[1]
    if base[0] > p[_BASE_LIM]:
        base[0] = p[_BASE_LIM]
        base[1] = 0.0
    elif base[0] < -p[_BASE_LIM]:
        base[0] = -p[_BASE_LIM]
        base[1] = 0.0
    for k in range(2, 2 * n + 2):
        vel[k, 0] += dt * force[k, 0] / mass[k]
        vel[k, 1] += dt * force[k, 1] / mass[k]
        pos[k, 0] += dt * vel[k, 0]
        pos[k, 1] += dt * vel[k, 1]
    set_base_nodes(pos, vel, base[0], base[1], 0.5 * rest_trans[0])


@register_jitable
def observe_into(pos: np.ndarray, vel: np.ndarray, base: np.ndarray, out: np.ndarray) -> None:
    """Write the 2 + 8N observation into ``out``.

    Layout: theta, theta', then per pair i = 1..N the dorsal and then the ventral node's
    x, y, x', y'.

    Args:
        pos: (2N + 2, 2) positions.
        vel: (2N + 2, 2) velocities.
        base: (2,) theta, omega.
        out: (2 + 8N,) output.
    """
    out[0] = base[0]
    out[1] = base[1]
    j = 2
    for k in range(2, pos.shape[0]):
        out[j] = pos[k, 0]
        out[j + 1] = pos[k, 1]
        out[j + 2] = vel[k, 0]
        out[j + 3] = vel[k, 1]
        j += 4


@register_jitable
def closest_gap(pos: np.ndarray, fx: float, fy: float, radius: float) -> float:
    """Distance from the food's rim to the nearest free node (<= 0: touching).

    Args:
        pos: (2N + 2, 2) positions.
        fx: Food centre x.
        fy: Food centre y.
        radius: Food radius.

    Returns:
        min over free nodes of |x_k - food| - radius.
    """
    best = 1e300
    for k in range(2, pos.shape[0]):
        dx = pos[k, 0] - fx
        dy = pos[k, 1] - fy
        d = math.sqrt(dx * dx + dy * dy)
        if d != d:  # NaN: the simulation broke down; let the caller see it
            return d
        if d < best:
            best = d
    return best - radius


# --------------------------------------------------------------------------- helpers (numpy)
def initial_state(config: OctopusConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The straight arm along +x at rest, base angle 0.

    Args:
        config: The arm.

    Returns:
        pos (2N + 2, 2), vel (2N + 2, 2) and base (2,) float64 arrays.
    """
    n = config.n_compartments
    w = np.linspace(config.base_width, config.tip_width, n + 1)
    x = np.linspace(0.0, config.arm_length, n + 1)
    pos = np.zeros((2 * (n + 1), 2))
    pos[0::2, 0] = x
    pos[0::2, 1] = 0.5 * w
    pos[1::2, 0] = x
    pos[1::2, 1] = -0.5 * w
    return pos, np.zeros_like(pos), np.zeros(2)


def compartment_areas(pos: np.ndarray) -> np.ndarray:
    """Signed areas of the N compartments (positive while no compartment is inverted).

    Args:
        pos: (2N + 2, 2) positions.

    Returns:
        (N,) areas.
    """
    d0, v0, d1, v1 = pos[0:-2:2], pos[1:-2:2], pos[2::2], pos[3::2]
    corners = np.stack([v0, v1, d1, d0], axis=1)  # (N, 4, 2), counter-clockwise
    x, y = corners[..., 0], corners[..., 1]
    return 0.5 * np.sum(x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y, axis=1)


def arm_energy(pos: np.ndarray, vel: np.ndarray, config: OctopusConfig) -> float:
    """Mechanical energy of the free nodes with no activation: kinetic + passive springs +
    area penalty + diagonals + gravity (the base is held, its kinetic energy is not counted).

    Args:
        pos: (2N + 2, 2) positions.
        vel: (2N + 2, 2) velocities.
        config: The arm.

    Returns:
        The energy (arm units).
    """
    g = geometry(config)
    p = physics_params(config)
    kinetic = 0.5 * float(np.sum(g.mass[2:, None] * vel[2:] ** 2))

    def stretch(a: np.ndarray, b: np.ndarray, rest: np.ndarray) -> np.ndarray:
        return np.linalg.norm(b - a, axis=1) - rest

    e_long = (
        0.5
        * p[_K_LONG]
        * float(
            np.sum(stretch(pos[0:-2:2], pos[2::2], g.rest_long) ** 2)
            + np.sum(stretch(pos[1:-2:2], pos[3::2], g.rest_long) ** 2)
        )
    )
    e_trans = (
        0.5 * p[_K_TRANS] * float(np.sum(stretch(pos[2::2], pos[3::2], g.rest_trans[1:]) ** 2))
    )
    e_diag = (
        0.5
        * p[_K_DIAG]
        * float(
            np.sum(stretch(pos[0:-2:2], pos[3::2], g.rest_diag[0::2]) ** 2)
            + np.sum(stretch(pos[1:-2:2], pos[2::2], g.rest_diag[1::2]) ** 2)
        )
    )
    da = compartment_areas(pos) - g.rest_area
    e_area = 0.5 * p[_K_AREA] * float(np.sum(da**2 / g.rest_area))
    e_grav = -p[_G_NET] * float(np.sum(g.mass[2:] * pos[2:, 1]))
    return kinetic + e_long + e_trans + e_diag + e_area + e_grav


def check_action(action: Any, act_dim: int) -> np.ndarray:
    """Validate one action and return it as a float64 vector.

    Args:
        action: Array-like of ``act_dim`` finite values in [0, 1].
        act_dim: 3N + 2.

    Returns:
        (act_dim,) float64.

    Raises:
        RnnaiError: Naming the problem: not numeric, wrong shape, NaN/inf, out of [0, 1].
    """
    try:
        arr = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise RnnaiError(
            f"action must be {act_dim} numbers in [0, 1], got {type(action).__name__}"
        ) from err
    if arr.shape != (act_dim,):
        raise RnnaiError(f"action must have shape ({act_dim},), got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise RnnaiError(f"action[{int(np.argmax(bad))}] is not finite: {arr[bad][0]}")
    out = (arr < 0.0) | (arr > 1.0)
    if out.any():
        i = int(np.argmax(out))
        raise RnnaiError(f"action[{i}] = {arr[i]} lies outside [0, 1]")
    return np.ascontiguousarray(arr)


def draw_arm(
    ax: Any,
    pos: np.ndarray,
    food: tuple[float, float, float] | None = None,
    color: str = "C3",
    alpha: float = 1.0,
) -> None:
    """Draw the arm's compartments (and the food) on a matplotlib axes.

    Args:
        ax: A matplotlib ``Axes``.
        pos: (2N + 2, 2) positions.
        food: (x, y, radius) of the food, or None.
        color: Fill colour of the compartments.
        alpha: Opacity.
    """
    from matplotlib.patches import Circle, Polygon

    n = pos.shape[0] // 2 - 1
    for c in range(n):
        quad = pos[[2 * c + 1, 2 * c + 3, 2 * c + 2, 2 * c]]
        ax.add_patch(
            Polygon(quad, closed=True, facecolor=color, edgecolor="k", lw=0.5, alpha=alpha)
        )
    if food is not None:
        ax.add_patch(Circle(food[:2], food[2], facecolor="orange", edgecolor="k", lw=0.5))
    ax.plot([0.0], [0.0], "ks", ms=4)
    ax.set_aspect("equal")


_OBS_BOUND = float(np.finfo(np.float32).max)  # unbounded in effect, without -inf/inf


class OctopusArmEnv(FrameRendering, gym.Env[np.ndarray, np.ndarray]):
    """The octopus arm reaching task of the RL competition (Yekutieli et al. 2005 model).

    ## Description

    A 2-D soft arm of N = 10 compartments (22 point masses) hangs from a rotating base in
    water. Each compartment has a dorsal and a ventral longitudinal muscle and a transverse
    muscle, modelled as damped springs with an active force, and keeps its area (a muscular
    hydrostat): shortening one side bends the arm towards it, contracting the transverse
    muscles lengthens it. Water drag resists motion. The controller must bring any part of the
    arm to a piece of food. See the module docstring for the equations, units and deviations.
    Registered as ``rnnai/OctopusArm-v0``; any `OctopusConfig` field can be given to
    ``gym.make``, e.g. ``gym.make("rnnai/OctopusArm-v0", food_x=6.0, max_steps=300)``.
    ``gym.make_vec("rnnai/OctopusArm-v0", num_envs=N, vectorization_mode="vector_entry_point")``
    gives `OctopusArmVectorEnv`, N arms on the compiled kernel.

    ## Action Space

    ``Box(0, 1, (32,), float64)``: per compartment c = 1..10 the activations of its dorsal,
    transverse and ventral muscles (indices 3(c-1) .. 3(c-1)+2), then the base's
    counter-clockwise (30) and clockwise (31) rotation. NaN, infinite, out-of-range or wrongly
    shaped actions raise `RnnaiError`.

    ## Observation Space

    ``Box(-F, F, (82,), float32)``, F the largest float32 (computed in float64, then rounded to
    float32): the base angle theta (rad) and angular velocity, then for each pair i = 1..10 along
    the arm the dorsal node's x, y, x', y' and the ventral node's x, y, x', y' (arm units, base at
    the origin, the arm initially along +x, dorsal side +y). ``info`` holds ``gap`` (distance from
    the food's rim to the nearest node), ``food`` (x, y, radius) and ``steps``.

    ## Rewards

    ``step_reward`` (-1) for every action after which the arm does not touch the food and
    ``touch_reward`` (0) for the touching one, so the return is minus the time to reach.

    ## Starting State

    The arm lies straight along +x at rest, base angle 0. The food sits at (11.5, 2.0) with
    radius 0.5, beyond the resting arm's reach (the arm must lengthen and aim), moved by a
    uniform offset in [-food_jitter, food_jitter]^2 drawn from
    ``np_random`` (jitter 0 by default: a deterministic start, as in the competition).

    ## Episode End

    Termination: a free node lies within the food's radius. Truncation: after ``max_steps``
    (200) actions. Stepping a finished episode raises `RnnaiError`.

    ## Rendering

    ``render_mode="rgb_array"``: `render` returns a 256 x 256 picture of the arm and the food
    (`draw_arm` on a matplotlib canvas); ``"human"`` shows it in a pygame window at 10 frames
    per second.

    ## Version History

    * v0 (revised): float32 observations (float64 physics unchanged); ``human`` rendering; a
      ``vector_entry_point`` (`OctopusArmVectorEnv`).
    * v0: initial version (Yekutieli-style compartments, linear muscles, area penalty, quadratic
      drag, semi-implicit Euler with dt = 0.01 and 10 steps per action).
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array", "human"], "render_fps": 10}

    def __init__(
        self,
        config: OctopusConfig | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        """Build the environment.

        Args:
            config: The arm and task; ``OctopusConfig()`` when None.
            render_mode: None, ``"rgb_array"`` or ``"human"``.
            **overrides: `OctopusConfig` fields replacing those of ``config``.

        Raises:
            RnnaiError: On an unknown field, a bad value or an unknown render mode.
        """
        check_render_mode(render_mode, self.metadata["render_modes"], "OctopusArmEnv")
        self.render_mode = render_mode
        self._window: Window | None = None
        self.config = (config if config is not None else OctopusConfig()).with_overrides(
            **overrides
        )
        c = self.config
        self.action_space = spaces.Box(0.0, 1.0, shape=(c.act_dim,), dtype=np.float64)
        self.observation_space = spaces.Box(
            -_OBS_BOUND, _OBS_BOUND, shape=(c.obs_dim,), dtype=np.float32
        )
        self._geom = geometry(c)
        self._params = physics_params(c)
        self._pos, self._vel, self._base = initial_state(c)
        self._force = np.zeros_like(self._pos)
        self._food = np.array([c.food_x, c.food_y, c.food_radius])
        self._steps = 0
        self._done = True

    @property
    def positions(self) -> np.ndarray:
        """A copy of the (2N + 2, 2) node positions (node 2i = dorsal, 2i + 1 = ventral)."""
        return self._pos.copy()

    @property
    def velocities(self) -> np.ndarray:
        """A copy of the (2N + 2, 2) node velocities."""
        return self._vel.copy()

    @property
    def food(self) -> tuple[float, float, float]:
        """The food's (x, y, radius)."""
        return float(self._food[0]), float(self._food[1]), float(self._food[2])

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode with a straight arm at rest.

        Args:
            seed: Seeds ``self.np_random`` (used only for the food jitter).
            options: Unused (None or an empty dict).

        Returns:
            The first observation and ``info``.
        """
        super().reset(seed=seed)
        c = self.config
        self._pos, self._vel, self._base = initial_state(c)
        self._food = np.array([c.food_x, c.food_y, c.food_radius])
        if c.food_jitter > 0:
            self._food[:2] += self.np_random.uniform(-c.food_jitter, c.food_jitter, 2)
        self._steps = 0
        self._done = False
        if self.render_mode == "human":
            self.render()
        return self._observe(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Hold the activations for one action interval (``substeps`` x ``dt``).

        Args:
            action: (3N + 2,) activations in [0, 1].

        Returns:
            (observation, reward, terminated, truncated, info).

        Raises:
            RnnaiError: On a bad action or when the episode is over (call ``reset``).
        """
        from rnnai.envs import _octopus_kernels as kernels

        if self._done:
            raise RnnaiError("the episode is over (or never started): call reset() first")
        a = check_action(action, self.config.act_dim)
        c, g = self.config, self._geom
        kernels.advance(
            self._pos,
            self._vel,
            self._base,
            a,
            g.rest_long,
            g.rest_trans,
            g.rest_diag,
            g.rest_area,
            g.depth,
            g.mass,
            self._params,
            c.dt,
            c.substeps,
            self._force,
        )
        self._steps += 1
        gap = closest_gap(self._pos, self._food[0], self._food[1], self._food[2])
        terminated = bool(gap <= 0.0)
        truncated = (not terminated) and self._steps >= c.max_steps
        self._done = terminated or truncated
        reward = c.touch_reward if terminated else c.step_reward
        if self.render_mode == "human":
            self.render()
        return self._observe(), float(reward), terminated, bool(truncated), self._info(gap)

    def _frame(self) -> np.ndarray:
        """The arm and the food as an (H, W, 3) uint8 image (`FrameRendering.render` shows or
        returns it)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(4, 4), dpi=64)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        fx, fy, r = self.food
        reach = max(self.config.arm_length * 1.3, abs(fx) + r + 1.0, abs(fy) + r + 1.0)
        ax.set_xlim(-0.4 * reach, reach)
        ax.set_ylim(-0.7 * reach, 0.7 * reach)
        draw_arm(ax, self._pos, self.food)
        ax.set_axis_off()
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()

    def _observe(self) -> np.ndarray:
        out = np.empty(self.config.obs_dim)
        observe_into(self._pos, self._vel, self._base, out)
        return out.astype(np.float32)

    def _info(self, gap: float | None = None) -> dict[str, Any]:
        if gap is None:
            gap = closest_gap(self._pos, self._food[0], self._food[1], self._food[2])
        return {"gap": float(gap), "food": self.food, "steps": self._steps}


class OctopusArmVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """N `OctopusArmEnv` arms stepped by one compiled kernel (`_octopus_kernels.advance_batch`).

    What ``gym.make_vec("rnnai/OctopusArm-v0", num_envs=N, vectorization_mode=
    "vector_entry_point")`` builds; step for step it gives what N `OctopusArmEnv` give. Arm i
    has its own random generator for the food jitter, seeded as gymnasium's ``SyncVectorEnv``
    seeds its copies (``reset(seed=s)``: arm i gets s + i; a list: one seed per arm).
    Autoreset follows gymnasium's ``NEXT_STEP`` mode: the step after an episode ended restarts
    it (straight arm, new food jitter), ignores its action and returns its first observation
    with reward 0 and both flags False. ``info`` holds ``gap`` (N,), ``food`` (N, 3) and
    ``steps`` (N,). Spaces: ``Box(0, 1, (N, 3n + 2), float64)`` actions,
    ``Box(-F, F, (N, 2 + 8n), float32)`` observations (n compartments).
    """

    metadata: dict[str, Any] = {
        "render_modes": [],
        "render_fps": 10,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        config: OctopusConfig | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        """Build N arms of one configuration.

        Args:
            num_envs: N >= 1.
            config: The arm and task; ``OctopusConfig()`` when None.
            render_mode: Must be None (render single environments instead).
            **overrides: `OctopusConfig` fields replacing those of ``config``.

        Raises:
            RnnaiError: On a bad ``num_envs``, an unknown field, a bad value or a render mode.
        """
        check_render_mode(render_mode, [], "OctopusArmVectorEnv")
        self.render_mode = render_mode
        self.num_envs = check_num_envs(num_envs)
        self.config = (config if config is not None else OctopusConfig()).with_overrides(
            **overrides
        )
        c = self.config
        self.single_action_space = spaces.Box(0.0, 1.0, shape=(c.act_dim,), dtype=np.float64)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = spaces.Box(
            -_OBS_BOUND, _OBS_BOUND, shape=(c.obs_dim,), dtype=np.float32
        )
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        n = self.num_envs
        self._geom = geometry(c)
        self._params = physics_params(c)
        pos, vel, base = initial_state(c)
        self._pos = np.tile(pos, (n, 1, 1))  # (N, 2n + 2, 2)
        self._vel = np.tile(vel, (n, 1, 1))
        self._base = np.tile(base, (n, 1))  # (N, 2)
        self._force = np.zeros_like(self._pos)
        self._food = np.tile([c.food_x, c.food_y, c.food_radius], (n, 1))  # (N, 3)
        self._gap = np.zeros(n)
        self._steps = np.zeros(n, dtype=np.int64)
        self._obs = np.zeros((n, c.obs_dim))
        self._autoreset = np.zeros(n, dtype=np.bool_)
        self._rngs: list[np.random.Generator] | None = None

    def _restart(self, i: int) -> None:
        """Arm i straight and at rest, the food (re)placed, the gap measured (as a reset)."""
        c = self.config
        pos, vel, base = initial_state(c)
        self._pos[i], self._vel[i], self._base[i] = pos, vel, base
        self._food[i] = (c.food_x, c.food_y, c.food_radius)
        if c.food_jitter > 0:
            assert self._rngs is not None
            self._food[i, :2] += self._rngs[i].uniform(-c.food_jitter, c.food_jitter, 2)
        self._gap[i] = closest_gap(self._pos[i], *self._food[i])
        self._steps[i] = 0

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Restart every arm.

        Args:
            seed: None (keep the generators; fresh random ones the first time), an int s (arm i
                gets s + i) or a list of N ints. Used only for the food jitter.
            options: Unused (None or an empty dict).

        Returns:
            (N, 2 + 8n) float32 observations and ``info``.

        Raises:
            RnnaiError: On a seed list of the wrong length.
        """
        n = self.num_envs
        if isinstance(seed, list | tuple):
            if len(seed) != n:
                raise RnnaiError(f"seed must be an int or a list of {n} ints, got {seed!r}")
            seeds: list[int | None] = list(seed)
        elif seed is None:
            seeds = [None] * n
        else:
            seeds = [int(seed) + i for i in range(n)]
        super().reset(seed=seeds[0])
        if self._rngs is None or seed is not None:
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
        for i in range(n):
            self._restart(i)
        self._autoreset[:] = False
        return self._observe(), self._info()

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Hold every arm's activations for one action interval (restarting finished arms).

        Args:
            actions: (N, 3n + 2) activations in [0, 1] (ignored for arms being restarted).

        Returns:
            (observations (N, 2 + 8n) float32, rewards (N,) float64, terminated (N,) bool,
            truncated (N,) bool, info).

        Raises:
            RnnaiError: Before `reset`, or on a wrong shape or a bad activation (naming the arm).
        """
        from rnnai.envs import _octopus_kernels as kernels

        if self._rngs is None:
            raise RnnaiError("call reset() before step()")
        c, g, n = self.config, self._geom, self.num_envs
        try:
            a = np.ascontiguousarray(actions, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise RnnaiError(f"actions must be ({n}, {c.act_dim}) numbers in [0, 1]") from err
        if a.shape != (n, c.act_dim):
            raise RnnaiError(f"actions must have shape ({n}, {c.act_dim}), got shape {a.shape}")
        running = ~self._autoreset
        bad = running & ~np.all((a >= 0.0) & (a <= 1.0), axis=1)  # NaN compares False
        if bad.any():
            i = int(np.argmax(bad))
            raise RnnaiError(f"actions of arm {i} must be finite numbers in [0, 1]")
        kernels.advance_batch(
            self._pos,
            self._vel,
            self._base,
            a,
            running,
            g.rest_long,
            g.rest_trans,
            g.rest_diag,
            g.rest_area,
            g.depth,
            g.mass,
            self._params,
            c.dt,
            c.substeps,
            self._force,
            self._food,
            self._gap,
        )
        self._steps[running] += 1
        terminated = running & (self._gap <= 0.0)
        truncated = running & ~terminated & (self._steps >= c.max_steps)
        rewards = np.where(terminated, c.touch_reward, c.step_reward)
        rewards[~running] = 0.0
        for k in np.flatnonzero(self._autoreset):
            self._restart(int(k))
        self._autoreset = terminated | truncated
        return self._observe(), rewards, terminated, truncated, self._info()

    def _observe(self) -> np.ndarray:
        from rnnai.envs import _octopus_kernels as kernels

        kernels.observe_batch(self._pos, self._vel, self._base, self._obs)
        return self._obs.astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {"gap": self._gap.copy(), "food": self._food.copy(), "steps": self._steps.copy()}
