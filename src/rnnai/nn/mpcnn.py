"""Max-pooling convolutional networks (MPCNN), elastic distortions and multi-column committees.

Papers (read this module beside them):

* D. C. Ciresan, U. Meier, J. Masci, L. M. Gambardella & J. Schmidhuber, "Flexible, High
  Performance Convolutional Neural Networks for Image Classification", IJCAI 2011: GPU MPCNNs
  trained fully online (one weight update per image) on elastically distorted images; 0.35%
  error on MNIST for a single net.
* D. C. Ciresan, U. Meier & J. Schmidhuber, "Multi-column Deep Neural Networks for Image
  Classification", CVPR 2012: a committee of 35 columns (5 nets for each of 7 preprocessings:
  the original images and the digit's bounding-box width normalized to 10, 12, 14, 16, 18 and 20
  pixels), outputs averaged; 0.23% on MNIST. The MNIST net: 1x29x29-20C4-MP2-40C5-MP3-150N-10N.
* P. Y. Simard, D. Steinkraus & J. C. Platt, "Best Practices for Convolutional Neural Networks
  Applied to Visual Document Analysis", ICDAR 2003: elastic distortions.
* D. C. Ciresan, U. Meier, L. M. Gambardella & J. Schmidhuber, "Deep, Big, Simple Neural Nets for
  Handwritten Digit Recognition", Neural Computation 22(12), 2010: elastic distortions combined
  with random scaling and rotation.

The net (`MPCNN`, notation of the papers: kCn a convolution with k maps of n x n kernels, MPn
non-overlapping n x n max-pooling, kN a fully connected layer of k units)::

    a^l = W^l * x^{l-1} + b^l                  convolution ('valid') or full connection
    x^l = f(a^l),  f(a) = 1.7159 tanh(2 a / 3)  scaled hyperbolic tangent (LeCun et al. 1998)
    x^l = max over each n x n block of x^{l-1}  max-pooling
    y   = softmax(W^L x^{L-1} + b^L)            output layer, one unit per class

For 1x29x29-20C4-MP2-40C5-MP3-150N-10N the maps are 20 x 26 x 26 -> 20 x 13 x 13 ->
40 x 9 x 9 -> 40 x 3 x 3, so the parameters number 20 (16 + 1) + 40 (20 x 25 + 1) +
150 (360 + 1) + 10 (150 + 1) = 340 + 20,040 + 54,150 + 1,510 = **76,040** with every map of a
convolutional layer connected to all maps of the previous layer (`MPCNNConfig.parameter_count`).
The figure 171,940 that circulates for this net does not come from the papers: it is the README
of a Theano reimplementation (github.com/ilyakava/ciresan, "Number Parameters"), whose formula
``1*20*4*4 + 20 + 20*40*5*5 + 40 + 5*5*40*150 + 150 + 150*10 + 10`` takes the last maps as 5 x 5
(they are 3 x 3 after MP3: 29 - 4 + 1 = 26, /2 = 13, 13 - 5 + 1 = 9, /3 = 3) and whose own terms
add up to 172,040, not 171,940. The papers give the architecture string (CVPR 2012, MNIST
section) and, as far as we could search their text (abstracts and title pages were retrievable,
not the bodies), no parameter count for this net; the string admits 76,040 only.

Elastic distortion (Simard et al.): two fields of independent uniform random displacements
U(-1, 1) per pixel, each smoothed by a Gaussian of standard deviation sigma (pixels) and scaled
by alpha, move every pixel; Ciresan et al. add random rotation (+-beta degrees) and independent
horizontal and vertical scaling (+-gamma %). `distort` composes all of them into one sampling
grid per image and resamples a whole batch with one call of `scipy.ndimage.map_coordinates`
(bilinear, zero outside); `train_column` draws fresh distortions every epoch. The defaults
(sigma 6, alpha 36, rotation 15 degrees, scaling 15 %) are those we recall from Ciresan et al.
2010 for MNIST (sigma 5-6, alpha 36-38, rotation 7.5-15 degrees, scaling 15 %), not checked
against the text.

Width normalization (`normalize_width`): each image is stretched horizontally so that its
bounding box is ``width`` pixels wide and centred (the height is kept); `WIDTHS` lists the
2012 paper's seven preprocessings (None: the original image). `Committee` averages the class
probabilities of its columns, each fed its own preprocessing.

Training (`train_column`): plain gradient descent on the cross-entropy, online by default
(``batch=1``); the learning rate is annealed per epoch, lr_e = max(lr lr_decay^e, min_lr). The
defaults (0.001, multiplied by 0.95 after every epoch) are the IJCAI 2011 schedule as we read it
(not checked against the text); for the 2012 MNIST columns we recall a factor of 0.993 per epoch
down to 3e-5 over about 800 epochs (not checked either). Initial weights are uniform in [-0.05,
0.05] (our reading of the 2012 paper). Deviations: the output layer is a softmax trained on the
cross-entropy (the papers' output units and error function were not checked); training runs on CPU
or any torch device instead of the papers' GPU kernels; the papers' stop rules (validation error 0,
or the learning rate reaching its floor) are replaced by a fixed number of epochs.

Examples:
    >>> import numpy as np, torch
    >>> from rnnai.nn.mpcnn import MNIST_MPCNN, MPCNN, DistortionConfig, distort, normalize_width
    >>> MNIST_MPCNN.name, MNIST_MPCNN.parameter_count()
    ('1x29x29-20C4-MP2-40C5-MP3-150N-10N', 76040)
    >>> net = MPCNN(MNIST_MPCNN, generator=torch.Generator().manual_seed(0))
    >>> tuple(net(torch.zeros(2, 1, 29, 29)).shape)          # (N, C, H, W) -> (N, classes)
    (2, 10)
    >>> images = np.zeros((3, 29, 29), dtype=np.float32); images[:, 8:20, 12:17] = 1.0
    >>> distort(images, DistortionConfig(), np.random.default_rng(0)).shape
    (3, 29, 29)
    >>> wide = normalize_width(images, 12)
    >>> int((wide[0].max(axis=0) > 0).sum())                   # bounding box now 12 wide
    12
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor, nn
from torch.nn import functional as F

from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed, make_rng, torch_generator
from rnnai.train.hooks import Hooks, SilentHooks
from rnnai.train.loop import make_optimizer

__all__ = [
    "MNIST_MPCNN",
    "SCALED_TANH",
    "WIDTHS",
    "ColumnRun",
    "ColumnTrainConfig",
    "Committee",
    "DistortionConfig",
    "MPCNN",
    "MPCNNConfig",
    "distort",
    "error_rate",
    "normalize_width",
    "scaled_tanh",
    "train_column",
]

SCALED_TANH = (1.7159, 2.0 / 3.0)
"""(A, B) of the scaled hyperbolic tangent f(a) = A tanh(B a) (LeCun et al. 1998)."""

WIDTHS: tuple[int | None, ...] = (None, 10, 12, 14, 16, 18, 20)
"""The 2012 paper's seven preprocessings: the original image (None) and six bounding-box widths."""

_KEY = "mpcnn"
"""The columns' part of a checkpoint: state key and tensor-name prefix."""


def scaled_tanh(a: Tensor) -> Tensor:
    """f(a) = 1.7159 tanh(2 a / 3).

    Examples:
        >>> round(float(scaled_tanh(torch.tensor(1.0))), 4)     # f(1) ~ 1 by design
        1.0
    """
    A, B = SCALED_TANH
    return A * torch.tanh(B * a)


# ----------------------------------------------------------------------------- the net
def _check_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RnnaiError(f"{name} must be an int >= 1, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class MPCNNConfig:
    """An MPCNN: convolution + max-pooling stages, fully connected hidden layers, a softmax output.

    Examples:
        >>> MPCNNConfig(input_size=16, maps=(8,), kernels=(5,), pools=(2,), hidden=(20,)).name
        '1x16x16-8C5-MP2-20N-10N'
    """

    input_size: int = 29
    """Side of the square input images."""
    in_channels: int = 1
    """Input maps (1: grey-level images)."""
    maps: tuple[int, ...] = (20, 40)
    """Maps of each convolutional layer."""
    kernels: tuple[int, ...] = (4, 5)
    """Kernel side of each convolutional layer."""
    pools: tuple[int, ...] = (2, 3)
    """Max-pooling side after each convolutional layer (it must divide the map side)."""
    hidden: tuple[int, ...] = (150,)
    """Units of each fully connected hidden layer."""
    classes: int = 10
    """Output units."""
    init_range: float = 0.05
    """Initial weights and biases are uniform in [-init_range, init_range]."""

    def __post_init__(self) -> None:
        if not len(self.maps) == len(self.kernels) == len(self.pools):
            raise RnnaiError(
                f"maps, kernels and pools must have equal lengths, got {len(self.maps)}, "
                f"{len(self.kernels)} and {len(self.pools)}"
            )
        for name in ("input_size", "in_channels", "classes"):
            _check_int(name, getattr(self, name))
        for name in ("maps", "kernels", "pools", "hidden"):
            for v in getattr(self, name):
                _check_int(f"each of {name}", v)
        if not self.init_range > 0:
            raise RnnaiError(f"init_range must be > 0, got {self.init_range}")
        self.map_sides()

    def map_sides(self) -> list[int]:
        """The map side after each convolution + max-pooling stage.

        Raises:
            RnnaiError: If a kernel is larger than its input or a pool does not divide its map.
        """
        side, sides = self.input_size, []
        for k, p in zip(self.kernels, self.pools, strict=True):
            if k > side:
                raise RnnaiError(f"kernel {k} is larger than its {side}x{side} input maps")
            side = side - k + 1
            if side % p:
                raise RnnaiError(f"pool {p} does not divide the {side}x{side} maps")
            side //= p
            sides.append(side)
        return sides

    @property
    def name(self) -> str:
        """The papers' notation, e.g. '1x29x29-20C4-MP2-40C5-MP3-150N-10N'."""
        s = self.input_size
        parts = [f"{self.in_channels}x{s}x{s}"]
        for m, k, p in zip(self.maps, self.kernels, self.pools, strict=True):
            parts += [f"{m}C{k}", f"MP{p}"]
        parts += [f"{h}N" for h in (*self.hidden, self.classes)]
        return "-".join(parts)

    def parameter_count(self) -> int:
        """Weights and biases (every map connected to every map of the previous layer)."""
        n, prev = 0, self.in_channels
        for m, k in zip(self.maps, self.kernels, strict=True):
            n += m * (prev * k * k + 1)
            prev = m
        side = self.map_sides()[-1] if self.maps else self.input_size
        width = prev * side * side
        for h in (*self.hidden, self.classes):
            n += h * (width + 1)
            width = h
        return n


MNIST_MPCNN = MPCNNConfig()
"""The 2012 paper's MNIST column, 1x29x29-20C4-MP2-40C5-MP3-150N-10N (76,040 parameters)."""


class MPCNN(nn.Module):
    """Ciresan et al.'s max-pooling CNN; returns the class logits (softmax them for outputs).

    Args:
        config: The architecture (default: the MNIST net).
        generator: Draws the initial weights (uniform in [-init_range, init_range]).

    Shape:
        input (N, C_in, S, S), output (N, classes).

    Examples:
        >>> net = MPCNN(MPCNNConfig(input_size=12, maps=(4,), kernels=(3,), pools=(2,),
        ...                         hidden=(8,)))
        >>> tuple(net(torch.zeros(5, 1, 12, 12)).shape)
        (5, 10)
    """

    def __init__(
        self, config: MPCNNConfig = MNIST_MPCNN, *, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.config = config
        prev = config.in_channels
        self.convs = nn.ModuleList()
        for m, k in zip(config.maps, config.kernels, strict=True):
            self.convs.append(nn.Conv2d(prev, m, k))
            prev = m
        side = config.map_sides()[-1] if config.maps else config.input_size
        width = prev * side * side
        self.fcs = nn.ModuleList()
        for h in (*config.hidden, config.classes):
            self.fcs.append(nn.Linear(width, h))
            width = h
        r = config.init_range
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-r, r, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        """Class logits (N, classes) for images x of shape (N, C_in, S, S)."""
        c, s = self.config.in_channels, self.config.input_size
        if not isinstance(x, Tensor) or x.dim() != 4 or tuple(x.shape[1:]) != (c, s, s):
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise RnnaiError(f"MPCNN: input must have shape (N, {c}, {s}, {s}), got {got}")
        for conv, p in zip(self.convs, self.config.pools, strict=True):
            # f is increasing, so pool(f(a)) = f(pool(a)): pooling first applies f to p^2 times
            # fewer units (gradients agree except at exact ties, where f' is ~0 after saturation)
            x = scaled_tanh(F.max_pool2d(conv(x), p))
        x = x.flatten(1)  # (N, maps * side * side)
        for fc in self.fcs[:-1]:
            x = scaled_tanh(fc(x))
        return self.fcs[-1](x)


# ----------------------------------------------------------------------------- preprocessing
@dataclass(frozen=True, kw_only=True)
class DistortionConfig:
    """Elastic distortion with random rotation and scaling (Simard et al.; Ciresan et al.).

    Examples:
        >>> DistortionConfig(alpha=0.0, max_rotation=0.0, max_scaling=0.0).is_identity
        True
    """

    alpha: float = 36.0
    """Scale of the smoothed displacement fields (pixels per unit of the smoothed field)."""
    sigma: float = 6.0
    """Standard deviation (pixels) of the Gaussian smoothing the displacement fields."""
    max_rotation: float = 15.0
    """Rotation angles are uniform in [-max_rotation, max_rotation] degrees."""
    max_scaling: float = 0.15
    """Horizontal and vertical scale factors are independently uniform in 1 +- max_scaling."""

    def __post_init__(self) -> None:
        for name in ("alpha", "max_rotation", "max_scaling"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise RnnaiError(f"{name} must be finite and >= 0, got {v}")
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise RnnaiError(f"sigma must be finite and > 0, got {self.sigma}")
        if self.max_scaling >= 1:
            raise RnnaiError(f"max_scaling must be < 1, got {self.max_scaling}")

    @property
    def is_identity(self) -> bool:
        """Whether every image comes back unchanged."""
        return self.alpha == 0 and self.max_rotation == 0 and self.max_scaling == 0


def _check_images(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 3:
        raise RnnaiError(f"images must have shape (N, H, W), got {x.shape}")
    return x


def distort(images: np.ndarray, config: DistortionConfig, rng: np.random.Generator) -> np.ndarray:
    """Elastically distort, rotate and scale each image by its own random draw (one batch call).

    Args:
        images: (N, H, W).
        config: The distortion's parameters.
        rng: Draws the displacement fields, angles and scales (same state, same output).

    Returns:
        (N, H, W) float32, bilinearly resampled, zero outside the image.
    """
    x = _check_images(images)
    N, H, W = x.shape
    u = rng.uniform(-1.0, 1.0, size=(2, N, H, W))
    smooth = ndimage.gaussian_filter(u, config.sigma, mode="constant", axes=(2, 3))
    d: np.ndarray = config.alpha * np.asarray(smooth)  # (2, N, H, W) displacements (y, x)
    theta = np.deg2rad(rng.uniform(-config.max_rotation, config.max_rotation, size=N))
    s_y = 1.0 + np.asarray(rng.uniform(-config.max_scaling, config.max_scaling, size=N))
    s_x = 1.0 + np.asarray(rng.uniform(-config.max_scaling, config.max_scaling, size=N))
    c_y, c_x = (H - 1) / 2.0, (W - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(H) - c_y, np.arange(W) - c_x, indexing="ij")  # (H, W)
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]  # (N, 1, 1)
    # source of output pixel p: c + R(theta) diag(1/s) (p - c) + d(p)
    src_y = c_y + (cos * yy / s_y[:, None, None] - sin * xx / s_x[:, None, None]) + d[0]
    src_x = c_x + (sin * yy / s_y[:, None, None] + cos * xx / s_x[:, None, None]) + d[1]
    n = np.broadcast_to(np.arange(N, dtype=np.float64)[:, None, None], (N, H, W))
    coords = np.stack([n, src_y, src_x])  # (3, N, H, W); n is exact, so no mixing of images
    return ndimage.map_coordinates(x, coords, order=1, mode="constant", cval=0.0).astype(np.float32)


def _column_extent(x: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounding-box columns (first, last) of each image; (0, W - 1) for an empty image."""
    on: np.ndarray = np.any(x > threshold, axis=1)  # (N, W)
    W = x.shape[2]
    any_on = np.any(on, axis=1)
    first = np.where(any_on, on.argmax(axis=1), 0)
    last = np.where(any_on, W - 1 - on[:, ::-1].argmax(axis=1), W - 1)
    return first, last


def normalize_width(images: np.ndarray, width: int | None, *, threshold: float = 0.0) -> np.ndarray:
    """Stretch each image horizontally so that its bounding box is ``width`` pixels wide.

    The new box is columns (W - width) // 2 .. (W - width) // 2 + width - 1; rows are unchanged
    (bilinear resampling along x, zero outside the new box).

    Args:
        images: (N, H, W).
        width: The target box width in pixels (None: return the images unchanged).
        threshold: A column belongs to the box if any pixel exceeds this.

    Returns:
        (N, H, W) float32.

    Raises:
        RnnaiError: If ``width`` is not in 1..W.
    """
    x = _check_images(images)
    if width is None:
        return x.copy()
    N, H, W = x.shape
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= W:
        raise RnnaiError(f"width must be an int in 1..{W} or None, got {width!r}")
    first, last = _column_extent(x, threshold)
    w_in = (last - first + 1).astype(np.float64)  # box width in pixels, edges at +-0.5
    c_in = (first + last) / 2.0
    scale = w_in / width  # source pixels per output pixel
    a = (W - width) // 2  # the new box: columns a .. a + width - 1
    c_out = a + (width - 1) / 2.0
    cols = np.arange(W) - c_out  # (W,)
    src_x = c_in[:, None] + cols[None, :] * scale[:, None]  # (N, W)
    n = np.arange(N, dtype=np.float64)[:, None, None]
    coords = np.stack(np.broadcast_arrays(
        n, np.arange(H, dtype=np.float64)[None, :, None], src_x[:, None, :]
    ))  # (3, N, H, W)  # fmt: skip
    out = ndimage.map_coordinates(x, coords, order=1, mode="constant", cval=0.0)
    # bilinear sampling smears the box edges by up to one pixel: cut to the target box
    keep = (np.arange(W) >= a) & (np.arange(W) < a + width)
    return (out * keep[None, None, :]).astype(np.float32)


def _to_input(images: np.ndarray, device: torch.device | None = None) -> Tensor:
    return (
        torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
        .unsqueeze(1)
        .to(device or "cpu")
    )  # (N, 1, H, W)


# ----------------------------------------------------------------------------- committee
class Committee(nn.Module):
    """A multi-column committee: each column sees its own preprocessing; probabilities averaged.

    Args:
        columns: The trained nets (each returns class logits).
        widths: Each column's width normalization (None: the original images), one per column.

    Examples:
        >>> cfg = MPCNNConfig(input_size=12, maps=(2,), kernels=(3,), pools=(2,), hidden=(4,))
        >>> committee = Committee([MPCNN(cfg), MPCNN(cfg)], widths=[None, 8])
        >>> p = committee.predict_proba(np.zeros((3, 12, 12), dtype=np.float32))
        >>> tuple(p.shape), bool(torch.allclose(p.sum(dim=1), torch.ones(3)))
        ((3, 10), True)
    """

    def __init__(self, columns: Sequence[nn.Module], widths: Sequence[int | None]) -> None:
        super().__init__()
        if len(columns) == 0 or len(columns) != len(widths):
            raise RnnaiError(
                f"need one width per column and at least one column, got {len(columns)} columns "
                f"and {len(widths)} widths"
            )
        self.columns = nn.ModuleList(columns)
        self.widths = list(widths)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Mean of the columns' softmax outputs, (N, classes); ``inputs[i]`` feeds column i."""
        if len(inputs) != len(self.columns):
            raise RnnaiError(f"need {len(self.columns)} inputs, one per column, got {len(inputs)}")
        probs = [F.softmax(col(x), dim=1) for col, x in zip(self.columns, inputs, strict=True)]
        return torch.stack(probs).mean(dim=0)  # (N, classes)

    @torch.no_grad()
    def predict_proba(self, images: np.ndarray) -> Tensor:
        """Class probabilities (N, classes) of images (N, S, S), each column its preprocessing."""
        device = next(self.parameters()).device
        inputs = [_to_input(normalize_width(images, w), device) for w in self.widths]
        return self(inputs)


@torch.no_grad()
def error_rate(
    net: nn.Module, images: np.ndarray, labels: np.ndarray, *, batch: int = 1000
) -> float:
    """The fraction of images (N, S, S) whose arg-max class differs from the label.

    Examples:
        >>> cfg = MPCNNConfig(input_size=12, maps=(2,), kernels=(3,), pools=(2,), hidden=(4,))
        >>> 0.0 <= error_rate(MPCNN(cfg), np.zeros((4, 12, 12)), np.arange(4)) <= 1.0
        True
    """
    x = _check_images(images)
    device = next(net.parameters()).device
    wrong = 0
    for i in range(0, len(x), batch):
        pred = net(_to_input(x[i : i + batch], device)).argmax(dim=1).cpu().numpy()
        wrong += int((pred != np.asarray(labels[i : i + batch])).sum())
    return wrong / max(len(x), 1)


# ----------------------------------------------------------------------------- training
@dataclass(frozen=True, kw_only=True)
class ColumnTrainConfig:
    """How `train_column` trains one column.

    Examples:
        >>> ColumnTrainConfig(epochs=3).learning_rate(2)       # 0.001 * 0.95^2
        0.0009025
    """

    epochs: int = 10
    """Passes over the training images."""
    lr: float = 0.001
    """Learning rate of the first epoch."""
    lr_decay: float = 0.95
    """The learning rate is multiplied by this after every epoch."""
    min_lr: float = 0.0
    """Floor of the annealed learning rate."""
    batch: int = 1
    """Images per weight update (1: fully online, as in the papers)."""
    optimizer: Literal["sgd", "adam"] = "sgd"
    """"sgd" (the papers' gradient descent) or "adam" (a modern optimizer, labelled as such)."""
    momentum: float = 0.0
    """SGD momentum (0 in the papers)."""
    width: int | None = None
    """The column's width normalization (None: the original images)."""
    distortion: DistortionConfig | None = field(default_factory=DistortionConfig)
    """Fresh distortions every epoch (None: train on the undistorted images)."""

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs)
        _check_int("batch", self.batch)
        if not 0 < self.lr_decay <= 1:
            raise RnnaiError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if not 0 <= self.min_lr:
            raise RnnaiError(f"min_lr must be >= 0, got {self.min_lr}")
        make_optimizer([nn.Parameter(torch.zeros(1))], optimizer=self.optimizer, lr=self.lr,
                       momentum=self.momentum)  # fmt: skip  # validates the optimizer fields

    def learning_rate(self, epoch: int) -> float:
        """lr_e = max(lr lr_decay^e, min_lr) for epoch e = 0, 1, ..."""
        return max(self.lr * self.lr_decay**epoch, self.min_lr)


@dataclass
class ColumnRun:
    """A trained column and its learning curve.

    Attributes:
        net: The trained net.
        curve: One dict per epoch: epoch (1-based), lr, train_loss (mean cross-entropy),
            valid_error (nan without validation data).
    """

    net: MPCNN
    curve: list[dict[str, float]]

    @property
    def valid_error(self) -> float:
        """The last epoch's validation error (nan when none was measured)."""
        return self.curve[-1]["valid_error"] if self.curve else math.nan


def train_column(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    config: ColumnTrainConfig | None = None,
    net_config: MPCNNConfig = MNIST_MPCNN,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
    hooks: Hooks | None = None,
    label: str = "column",
    device: str | torch.device = "cpu",
) -> ColumnRun:
    """Train one MPCNN column on (preprocessed, distorted) images; checkpoint after every epoch.

    Epoch e draws its own generator from (seed, label, e): the distortions and the order of the
    images. A run killed after epoch e and resumed from ``hooks.checkpointer`` therefore ends with
    the same weights as an uninterrupted run. Several columns share one checkpoint under distinct
    ``label`` s; a finished label returns from the checkpoint without training.

    Args:
        images: Training images (N, S, S) with S = ``net_config.input_size``, values in [0, 1].
        labels: Class labels (N,).
        config: Epochs, learning-rate schedule, batch, width normalization, distortion.
        net_config: The column's architecture.
        valid: Validation images and labels (the same preprocessing is applied), or None.
        seed: Seeds the initial weights and every epoch's generator.
        hooks: Checkpointer, progress and log (default `SilentHooks`).
        label: Names the column in the checkpoint, the progress bar and the log.
        device: Where the net trains (the distortions run on the CPU).

    Returns:
        The trained net (on ``device``) and its learning curve.

    Raises:
        RnnaiError: If the images and labels disagree in number or shape.
    """
    config = ColumnTrainConfig() if config is None else config
    hooks = hooks if hooks is not None else SilentHooks()
    x = normalize_width(images, config.width)
    y = np.asarray(labels, dtype=np.int64)
    S = net_config.input_size
    if x.shape[1:] != (S, S) or y.shape != (len(x),):
        raise RnnaiError(
            f"images must be (N, {S}, {S}) with labels (N,), got {x.shape} and {y.shape}"
        )
    if y.min(initial=0) < 0 or y.max(initial=0) >= net_config.classes:
        raise RnnaiError(f"labels must be in 0..{net_config.classes - 1}")
    vx = normalize_width(valid[0], config.width) if valid is not None else None
    device = torch.device(device)
    net = MPCNN(net_config, generator=torch_generator(derive_seed(seed, label, "init"))).to(device)
    opt = make_optimizer(net.parameters(), optimizer=config.optimizer, lr=config.lr,
                         momentum=config.momentum)  # fmt: skip
    ckpt = hooks.checkpointer
    loaded = ckpt.load() if ckpt is not None else None
    tensors, saved = loaded if loaded is not None else ({}, {})
    mine: dict[str, Any] = dict(saved.get(_KEY) or {})
    prefix = f"{_KEY}/{label}"  # tensor names: prefix + ".net..." / ".opt..."
    fingerprint = json.loads(json.dumps(
        {"config": asdict(config), "net": asdict(net_config), "seed": seed, "n": len(x)}
    ))  # fmt: skip
    start, curve = 0, []
    if label in mine:
        entry = mine[label]
        if entry["fingerprint"] != fingerprint:
            raise RnnaiError(
                f"checkpoint of column {label!r} was made with another config, seed or data; "
                "delete it or use another label"
            )
        nets = unpack_state(entry["nets"], tensors)
        net.load_state_dict(nets["net"])
        opt.load_state_dict(nets["opt"])
        start, curve = entry["epoch"], list(entry["curve"])
    kept = {k: v for k, v in tensors.items() if not k.startswith(prefix + ".")}
    N, B = len(x), config.batch
    with hooks.progress(config.epochs * N, f"{label} ({net_config.name})") as bar:
        bar.advance(start * N)
        for epoch in range(start, config.epochs):
            rng = make_rng(derive_seed(seed, label, "epoch", epoch))
            xe = distort(x, config.distortion, rng) if config.distortion is not None else x
            order = rng.permutation(N)
            lr = config.learning_rate(epoch)
            for group in opt.param_groups:
                group["lr"] = lr
            net.train()
            total = 0.0
            for i in range(0, N, B):
                idx = order[i : i + B]
                loss = F.cross_entropy(
                    net(_to_input(xe[idx], device)), torch.from_numpy(y[idx]).to(device)
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
                bar.advance(len(idx))
            net.eval()
            err = (
                error_rate(net, vx, valid[1]) if vx is not None and valid is not None else math.nan
            )
            curve.append(
                {"epoch": epoch + 1, "lr": lr, "train_loss": total / N, "valid_error": err}
            )
            hooks.log(
                f"{label} epoch {epoch + 1}: lr {lr:.3g}, train loss {total / N:.4f}"
                + (f", validation error {err:.4f}" if not math.isnan(err) else "")
            )
            if ckpt is not None:
                packed, skel = pack_state(
                    {"net": net.state_dict(), "opt": opt.state_dict()}, prefix=prefix
                )
                mine[label] = {"epoch": epoch + 1, "curve": curve, "nets": skel,
                               "fingerprint": fingerprint}  # fmt: skip
                ckpt.save({**kept, **packed}, {**saved, _KEY: mine})
    net.eval()
    return ColumnRun(net, curve)
