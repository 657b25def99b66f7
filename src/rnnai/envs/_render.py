"""Drawing for the environments' ``render``: pygame surfaces off screen, a window for "human".

``rgb_array`` frames are drawn on a plain ``pygame.Surface``, which needs no display and no video
driver, so rendering works headless. Only `Window` (``render_mode="human"``) opens a display;
where SDL finds none it falls back to its off-screen driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import gymnasium as gym
import numpy as np

from rnnai.runtime.errors import RnnaiError

__all__ = ["Canvas", "FrameRendering", "View", "Window", "check_render_mode", "import_pygame"]

Color = tuple[int, int, int]


def import_pygame() -> ModuleType:
    """pygame, imported on first use (not when an environment module is imported).

    pygame prints a greeting at its first import unless ``PYGAME_HIDE_SUPPORT_PROMPT`` is set;
    importing gymnasium (which every environment module does first) sets it.
    """
    import pygame

    return pygame


def check_render_mode(render_mode: str | None, modes: Sequence[str], env_name: str) -> None:
    """Raise `RnnaiError` unless ``render_mode`` is None or one of ``modes``."""
    if render_mode is not None and render_mode not in modes:
        raise RnnaiError(
            f"{env_name} render_mode must be None or one of {list(modes)}, got {render_mode!r}"
        )


class View:
    """A world-to-pixel map on a `Canvas`: x to the right, y up, ``scale`` pixels per unit."""

    def __init__(self, surface: Any, scale: float, origin: tuple[float, float]) -> None:
        """Map world (0, 0) to pixel ``origin`` on ``surface``."""
        self.surface = surface
        self.scale = float(scale)
        self.origin = origin

    def px(self, x: float, y: float) -> tuple[int, int]:
        """The pixel of world point (x, y)."""
        return (
            round(self.origin[0] + self.scale * x),
            round(self.origin[1] - self.scale * y),
        )

    def line(
        self, a: tuple[float, float], b: tuple[float, float], color: Color, width: int = 1
    ) -> None:
        """A straight line of ``width`` pixels from world point a to b."""
        pygame = import_pygame()
        pygame.draw.line(self.surface, color, self.px(*a), self.px(*b), width)

    def polygon(
        self, points: Sequence[tuple[float, float]], color: Color, outline: Color | None = None
    ) -> None:
        """A filled polygon (with a one-pixel outline when ``outline`` is given)."""
        pygame = import_pygame()
        pts = [self.px(x, y) for x, y in points]
        pygame.draw.polygon(self.surface, color, pts)
        if outline is not None:
            pygame.draw.polygon(self.surface, outline, pts, 1)

    def circle(
        self, center: tuple[float, float], radius: float, color: Color, width: int = 0
    ) -> None:
        """A disc (``width`` 0) or a ring of world radius ``radius`` (at least one pixel)."""
        pygame = import_pygame()
        r = max(1, round(self.scale * radius))
        pygame.draw.circle(self.surface, color, self.px(*center), r, width)

    def rect(self, center: tuple[float, float], size_px: tuple[int, int], color: Color) -> None:
        """A filled rectangle of ``size_px`` pixels centred on a world point."""
        pygame = import_pygame()
        cx, cy = self.px(*center)
        w, h = size_px
        pygame.draw.rect(self.surface, color, (cx - w // 2, cy - h // 2, w, h))


class Canvas:
    """A white off-screen picture of ``width`` x ``height`` pixels."""

    def __init__(self, width: int, height: int, background: Color = (255, 255, 255)) -> None:
        """Allocate the surface and fill it with ``background``."""
        pygame = import_pygame()
        self.surface = pygame.Surface((width, height))
        self.surface.fill(background)

    def view(self, scale: float, origin: tuple[float, float]) -> View:
        """A `View` of this canvas with world (0, 0) at pixel ``origin``."""
        return View(self.surface, scale, origin)

    def frame(self) -> np.ndarray:
        """The picture as an (H, W, 3) uint8 array."""
        pygame = import_pygame()
        return np.ascontiguousarray(np.transpose(pygame.surfarray.array3d(self.surface), (1, 0, 2)))


class Window:
    """The window of ``render_mode="human"``: shows frames at ``fps`` frames per second."""

    def __init__(self, title: str, fps: int) -> None:
        """Remember the title and rate; the window opens at the first `show`."""
        self.title = title
        self.fps = fps
        self._screen: Any = None
        self._clock: Any = None

    def show(self, frame: np.ndarray) -> None:
        """Display an (H, W, 3) uint8 frame, opening the window the first time."""
        pygame = import_pygame()
        if self._screen is None:
            pygame.display.init()
            pygame.display.set_caption(self.title)
            self._screen = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
            self._clock = pygame.time.Clock()
        surface = pygame.surfarray.make_surface(np.transpose(frame, (1, 0, 2)))
        self._screen.blit(surface, (0, 0))
        pygame.event.pump()
        pygame.display.flip()
        self._clock.tick(self.fps)

    def close(self) -> None:
        """Close the window if it is open."""
        if self._screen is not None:
            pygame = import_pygame()
            pygame.display.quit()
            self._screen = None


class FrameRendering:
    """``render`` and ``close`` of an env that draws its state as an (H, W, 3) uint8 frame.

    Mixed in before ``gym.Env``: the env implements `_frame`; ``rgb_array`` returns the frame,
    ``human`` shows it in a `Window` named after the env (opened at the first frame), and a
    ``render`` without a render mode warns as gymnasium's own envs do.
    """

    render_mode: str | None
    metadata: dict[str, Any]
    _window: Window | None = None

    def _frame(self) -> np.ndarray:
        """The current picture (the env implements it)."""
        raise NotImplementedError

    def render(self) -> Any:
        """The picture as (H, W, 3) uint8 (``rgb_array``), or show it (``human``, None)."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        frame = self._frame()
        if self.render_mode == "human":
            if self._window is None:
                self._window = Window(type(self).__name__, self.metadata["render_fps"])
            self._window.show(frame)
            return None
        return frame

    def close(self) -> None:
        """Close the human-mode window, if any."""
        if self._window is not None:
            self._window.close()
            self._window = None
