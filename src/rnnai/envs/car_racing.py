"""Vision-based driving from raw pixels: a thin wrapper around gymnasium's ``CarRacing-v3``.

Why. Koutnik et al. evolved controllers that drive TORCS from the driver's video stream:

    J. Koutnik, G. Cuccu, J. Schmidhuber and F. Gomez. Evolving large-scale neural networks for
    vision-based reinforcement learning. Proceedings of the Genetic and Evolutionary Computation
    Conference (GECCO 2013), pp. 1061-1068. ACM, 2013.

TORCS is not packaged for Python; gymnasium's ``CarRacing-v3`` (Box2D physics, pygame rendering,
O. Klimov 2016) is the stand-in: the controller sees only a 96x96 RGB top-down image around the
car and must steer, accelerate and brake. This module does **not** re-implement anything of the
simulator; it only

* builds CarRacing without a display: its ``None`` and ``rgb_array`` modes draw on off-screen
  pygame surfaces, so no video driver is needed and none is set;
* turns a frame into the controller's input (`preprocess`): ITU-R BT.601 luminance
  ``Y = 0.299 R + 0.587 G + 0.114 B`` scaled to [0, 1], optionally without the dashboard strip
  (the bottom 12 of 96 rows), then area-averaged ("box") resampling to ``size x size`` by the
  linear operator ``X = R_r Y R_c^T`` (`box_resample_matrix`);
* drives on a *fixed* track: every `PixelCarRacing.reset` without a seed rebuilds the track of
  ``config.track_seed`` (CarRacing draws the track from the seed of ``reset``), so that a fitness
  evaluation is deterministic;
* repeats each action for ``frame_skip`` simulator frames (summing the rewards). The frames in
  between are simulated exactly as usual, but their pixels, which nobody looks at, are not drawn:
  drawing costs about 97% of a CarRacing step here (cProfile: `_render` 68 of 70 ms per step under
  load), so this makes a k-frame action nearly k times cheaper. The test suite checks that the
  rewards and car positions are identical with and without the skipped drawing.

Description (of the wrapped environment): a car on a randomly generated closed track of about
300 tiles; 50 frames per second.

Action Space: ``Box([-1, 0, 0], [1, 1, 1], (3,), float32)``: steering (-1 left, +1 right), gas,
brake (CarRacing's own continuous actions).

Observation Space: ``Box(0, 1, (size, size), float32)`` luminance (or ``(size, size, 3)`` RGB
with ``grayscale=False``).

Rewards: CarRacing's: ``+1000/N`` for every track tile visited for the first time (N tiles),
``-0.1`` per frame, ``-100`` (and the end) when the car leaves the playfield. All tiles in 732
frames score 1000 - 73.2 = 926.8 (gymnasium's example); "solved" is an average of 900 over 100
episodes on random tracks.

Starting State: the car stands on the first tile of the track of ``track_seed``; the first second
of frames zooms in (CarRacing's intro animation).

Episode End: all tiles visited (``lap_complete_percent``), the car off the playfield, or
``max_frames`` frames (truncation; CarRacing's own limit is 1000).

Version History:
    * v0 (revised): no environment variable is set at import (``SDL_VIDEODRIVER`` is not
      needed off screen); `CarRacingConfig` is keyword-only.
    * v0: first version (wraps gymnasium 1.x ``CarRacing-v3``).

Examples:
    >>> import numpy as np
    >>> frame = np.zeros((96, 96, 3), dtype=np.uint8)
    >>> frame[:, :48] = 255  # left half white
    >>> x = preprocess(frame, size=4)
    >>> x.shape, x.dtype, x[0].round(3).tolist()
    ((4, 4), dtype('float32'), [1.0, 1.0, 0.0, 0.0])
    >>> box_resample_matrix(4, 2).tolist()
    [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "DASHBOARD_ROWS",
    "FPS",
    "LUMA",
    "CarRacingConfig",
    "PixelCarRacing",
    "box_resample_matrix",
    "car_position",
    "make_car_racing",
    "preprocess",
    "track_centerline",
]

FPS = 50
"""CarRacing's simulator frames per second."""
DASHBOARD_ROWS = 12
"""Rows at the bottom of CarRacing's 96x96 frame that show the dashboard (speed, ABS, steering)."""
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
"""ITU-R BT.601 luminance weights of R, G, B."""


@dataclass(frozen=True, kw_only=True)
class CarRacingConfig:
    """How `PixelCarRacing` presents CarRacing to a controller."""

    track_seed: int = 0
    """Seed of the track built by every reset without an explicit seed."""
    size: int = 64
    """Side of the square input image in pixels (the frame is box-resampled to it)."""
    grayscale: bool = True
    """Luminance (one plane) when True, else the three RGB planes."""
    crop_dashboard: bool = False
    """Drop the dashboard strip (bottom `DASHBOARD_ROWS` rows) before resampling."""
    frame_skip: int = 1
    """Simulator frames per action (the action is repeated, rewards are summed)."""
    max_frames: int = 1000
    """Simulator frames before truncation."""
    lap_complete_percent: float = 0.95
    """CarRacing's fraction of tiles that completes a lap."""

    def __post_init__(self) -> None:
        """Validate the fields."""
        for name in ("size", "frame_skip", "max_frames"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise RnnaiError(f"CarRacingConfig.{name} must be an int >= 1, got {v!r}")
        if self.size > 96:
            raise RnnaiError(
                f"CarRacingConfig.size must be <= 96 (the frame's side), got {self.size}"
            )
        if isinstance(self.track_seed, bool) or not isinstance(self.track_seed, int | np.integer):
            raise RnnaiError(f"CarRacingConfig.track_seed must be an int, got {self.track_seed!r}")
        if self.track_seed < 0:
            raise RnnaiError(f"CarRacingConfig.track_seed must be >= 0, got {self.track_seed}")
        if not 0.0 < self.lap_complete_percent <= 1.0:
            raise RnnaiError(
                f"lap_complete_percent must lie in (0, 1], got {self.lap_complete_percent}"
            )


@lru_cache(maxsize=16)
def box_resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) area-averaging ("box") resampling operator of one axis.

    Output pixel i covers the input interval ``[i s, (i + 1) s)`` with ``s = n_in / n_out``;
    ``R[i, j]`` is the fraction of input pixel j inside it, divided by s, so every row sums to 1
    (a constant image stays constant) and every column sums to ``n_out / n_in`` (mass is kept).

    Args:
        n_in: Input pixels along the axis.
        n_out: Output pixels along the axis (``1 <= n_out <= n_in``).

    Returns:
        (n_out, n_in) float32, read-only.

    Raises:
        RnnaiError: If the sizes are out of range.
    """
    if not 1 <= n_out <= n_in:
        raise RnnaiError(f"box resampling needs 1 <= n_out <= n_in, got {n_out} and {n_in}")
    s = n_in / n_out
    lo = np.arange(n_out)[:, None] * s  # (n_out, 1) left edges of the output pixels
    j = np.arange(n_in)[None, :]  # (1, n_in) left edges of the input pixels
    overlap = np.clip(np.minimum(lo + s, j + 1) - np.maximum(lo, j), 0.0, None)  # (n_out, n_in)
    R = (overlap / s).astype(np.float32)
    R.setflags(write=False)
    return R


def preprocess(
    frame: np.ndarray, size: int = 64, grayscale: bool = True, crop_dashboard: bool = False
) -> np.ndarray:
    """A CarRacing frame -> the controller's input image.

    Args:
        frame: (H, W, 3) uint8 RGB frame (CarRacing's observation: 96x96).
        size: Side of the output image.
        grayscale: Luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` (one plane) or RGB planes.
        crop_dashboard: Drop the bottom `DASHBOARD_ROWS` rows first.

    Returns:
        (size, size) float32 in [0, 1] (grayscale) or (size, size, 3).

    Raises:
        RnnaiError: If the frame is not an (H, W, 3) uint8 array larger than ``size``.
    """
    f = np.asarray(frame)
    if f.ndim != 3 or f.shape[2] != 3 or f.dtype != np.uint8:
        raise RnnaiError(f"frame must be an (H, W, 3) uint8 array, got {f.shape} {f.dtype}")
    if crop_dashboard:
        f = f[: f.shape[0] - DASHBOARD_ROWS]
    if min(f.shape[:2]) < size:
        raise RnnaiError(f"frame {f.shape[:2]} is smaller than the output size {size}")
    x = f.astype(np.float32) * np.float32(1.0 / 255.0)  # (H, W, 3)
    Rr = box_resample_matrix(f.shape[0], size)  # (size, H)
    Rc = box_resample_matrix(f.shape[1], size)  # (size, W)
    if grayscale:
        y = x @ LUMA  # (H, W)
        return np.clip(Rr @ y @ Rc.T, 0.0, 1.0).astype(np.float32)  # (size, size)
    out = np.einsum("ih,hwc,jw->ijc", Rr, x, Rc)  # (size, size, 3)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _frames_unseen(state: np.ndarray) -> Any:
    """A stand-in for CarRacing's ``_render`` on frames whose pixels nobody reads."""

    def no_draw(mode: str) -> np.ndarray:
        return state

    return no_draw


class PixelCarRacing(gym.Wrapper):
    """CarRacing with preprocessed pixel observations, a fixed track and frame skipping.

    Args:
        env: A ``CarRacing-v3`` environment (continuous actions), e.g. from `make_car_racing`.
        config: The presentation.

    ``info`` of `reset` and `step` holds ``position`` (the car's (x, y)), ``tiles_visited``,
    ``n_tiles`` and ``frames`` (simulator frames since the reset); `frame` returns the last
    raw 96x96 RGB frame.
    """

    def __init__(self, env: gym.Env, config: CarRacingConfig | None = None) -> None:
        super().__init__(env)
        self.config = config if config is not None else CarRacingConfig()
        c = self.config
        shape = (c.size, c.size) if c.grayscale else (c.size, c.size, 3)
        self.observation_space = spaces.Box(0.0, 1.0, shape, np.float32)
        self._raw: np.ndarray | None = None
        self._frames = 0

    def _observe(self, raw: np.ndarray) -> np.ndarray:
        self._raw = raw
        c = self.config
        return preprocess(raw, c.size, c.grayscale, c.crop_dashboard)

    def _info(self, info: dict[str, Any]) -> dict[str, Any]:
        u: Any = self.env.unwrapped
        info = dict(info)
        info["position"] = car_position(self.env)
        info["tiles_visited"] = int(u.tile_visited_count)
        info["n_tiles"] = len(u.track)
        info["frames"] = self._frames
        return info

    @property
    def frame(self) -> np.ndarray:
        """The last raw (96, 96, 3) uint8 frame seen by the wrapper."""
        if self._raw is None:
            raise RnnaiError("call reset() before reading the frame")
        return self._raw

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Build the track of ``seed`` (``config.track_seed`` when None) and place the car.

        Args:
            seed: Track seed; None rebuilds the configured fixed track.
            options: Passed on to CarRacing.

        Returns:
            The first observation and the info dict.
        """
        raw, info = self.env.reset(
            seed=self.config.track_seed if seed is None else seed, options=options
        )
        self._frames = 0
        return self._observe(raw), self._info(info)

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Repeat ``action`` for ``frame_skip`` frames (drawing only the last one).

        Args:
            action: (3,) steering in [-1, 1], gas and brake in [0, 1].

        Returns:
            Observation, summed reward, terminated, truncated (``max_frames`` reached), info.

        Raises:
            RnnaiError: If the action has the wrong shape or is not finite.
        """
        a = np.asarray(action, dtype=np.float32)
        if a.shape != (3,) or not np.isfinite(a).all():
            raise RnnaiError(f"action must be 3 finite numbers, got {np.asarray(action)!r}")
        if self._raw is None:
            raise RnnaiError("call reset() before step()")
        box: Any = self.action_space
        a = np.clip(a, box.low, box.high)
        u: Any = self.env.unwrapped
        total = 0.0
        terminated = truncated = False
        info: dict[str, Any] = {}
        raw = self._raw
        c = self.config
        for k in range(c.frame_skip):
            last = k == c.frame_skip - 1 or self._frames + 1 >= c.max_frames
            if not last:
                u._render = _frames_unseen(raw)  # instance attribute shadows the method
            try:
                raw, r, terminated, truncated, info = self.env.step(a)
            finally:
                u.__dict__.pop("_render", None)
            total += float(r)
            self._frames += 1
            if self._frames >= c.max_frames:
                truncated = True
            if terminated or truncated or last:
                break
        assert raw is not None
        return self._observe(raw), total, bool(terminated), bool(truncated), self._info(info)


def make_car_racing(
    config: CarRacingConfig | None = None, render_mode: str | None = None
) -> PixelCarRacing:
    """A headless ``CarRacing-v3`` wrapped in `PixelCarRacing`.

    Args:
        config: The presentation (default `CarRacingConfig`).
        render_mode: None, or ``"rgb_array"`` for 600x400 frames from ``env.render()``.

    Returns:
        The wrapped environment (its truncation is `CarRacingConfig.max_frames`, not gymnasium's
        ``TimeLimit``).

    Raises:
        RnnaiError: For an unsupported render mode.
    """
    if render_mode not in (None, "rgb_array"):
        raise RnnaiError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
    c = config if config is not None else CarRacingConfig()
    from gymnasium.envs.box2d.car_racing import CarRacing

    base = CarRacing(
        render_mode=render_mode,
        continuous=True,
        domain_randomize=False,
        lap_complete_percent=c.lap_complete_percent,
    )
    return PixelCarRacing(base, c)


def car_position(env: gym.Env) -> tuple[float, float]:
    """The car's (x, y) position in CarRacing's world coordinates.

    Args:
        env: CarRacing or a wrapper of it, after reset.

    Returns:
        (x, y) of the hull's centre.
    """
    u: Any = env.unwrapped
    x, y = u.car.hull.position
    return float(x), float(y)


def track_centerline(env: gym.Env) -> np.ndarray:
    """The track's centre line, one point per tile, in world coordinates.

    Args:
        env: CarRacing or a wrapper of it, after reset.

    Returns:
        (N, 2) float64 (x, y) points in driving order.
    """
    u: Any = env.unwrapped
    track = u.track  # list of (alpha, beta, x, y)
    return np.array([(t[2], t[3]) for t in track], dtype=np.float64)
