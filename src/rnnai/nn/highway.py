"""Highway networks: layers with a transform gate T and a carry gate 1 - T, and deep stacks of them.

Papers (read this module beside them):

* R. K. Srivastava, K. Greff & J. Schmidhuber, "Highway Networks", arXiv:1505.00387, 2015.
* R. K. Srivastava, K. Greff & J. Schmidhuber, "Training Very Deep Networks", NIPS 2015
  (arXiv:1507.06228).

A plain layer computes y = H(x, W_H). A highway layer adds a transform gate T and lets the input
through where T is closed (the carry gate C = 1 - T)::

    T(x) = sigmoid(W_T x + b_T)                         transform gate          (Eq. 3's T)
    H(x) = act(W_H x + b_H)                              the plain layer, act = ReLU or tanh
    y    = H(x) * T(x) + x * (1 - T(x))                 elementwise             (Eq. 3)

so y = x where T = 0 and y = H(x) where T = 1. x, y, H(x) and T(x) have the same size (the
layer's width). The papers initialize b_T negative so that every layer starts out carrying its
input (-1 to -3 for depths 10 to 30; -1 to -10 searched on MNIST); ``gate_bias`` sets it
(default -2). In the convolutional layer W_H x and W_T x are convolutions with zero padding that
keeps the spatial size ('same').

`HighwayNet` is the papers' depth-comparison network: an input projection to the width (a plain
layer), ``depth`` highway layers, and a linear output layer. The plain counterpart
(``highway=False``) has the same projection, ``depth`` plain layers H (no gates) and the same output
layer. A highway layer has twice the weights of a plain layer of its width; the papers compare
highway nets of 50 blocks per layer with plain nets of 71 units (2 (50^2 + 50) = 5,100 and
71^2 + 71 = 5,112 parameters per layer). `HighwayNet.transform_gates` returns T of every layer
for a batch and `HighwayNet.gate_analysis` what the papers' gate-analysis plots show (the gate
biases, the mean transform-gate output of every block, the gates and outputs for single examples,
and the fraction of examples for which a block transforms).

Deviations: the weight initialization is He et al.'s normal (std sqrt(2 / fan_in)) for ReLU and
LeCun's normal (std sqrt(1 / fan_in)) for tanh, drawn from a given generator; this module does
not claim it is the papers' choice. The papers' maxout and convolutional MNIST/CIFAR architectures
are not built here: the dense and convolutional layers are the blocks to build them from.

Examples:
    >>> import torch
    >>> from rnnai.nn.highway import Highway, HighwayConv2d, HighwayNet, HighwayNetConfig
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = Highway(8, gate_bias=-2.0, generator=g)
    >>> tuple(layer(torch.randn(5, 8)).shape)               # (N, H) -> (N, H)
    (5, 8)
    >>> conv = HighwayConv2d(3, kernel_size=3, generator=g)
    >>> tuple(conv(torch.randn(2, 3, 7, 7)).shape)          # (N, C, H, W), padding 'same'
    (2, 3, 7, 7)
    >>> net = HighwayNet(4, 2, HighwayNetConfig(width=6, depth=10), generator=g)
    >>> tuple(net(torch.randn(3, 4)).shape), tuple(net.transform_gates(torch.randn(3, 4)).shape)
    ((3, 2), (10, 3, 6))
    >>> plain = HighwayNet(4, 2, HighwayNetConfig(width=6, depth=10, highway=False), generator=g)
    >>> len(plain.layers), plain.layers[0].__class__.__name__
    (10, 'PlainLayer')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "ACTIVATIONS",
    "GateAnalysis",
    "Highway",
    "HighwayConv2d",
    "HighwayNet",
    "HighwayNetConfig",
    "PlainLayer",
    "highway",
]

ACTIVATIONS = ("relu", "tanh")
"""The plain layer's activations H the papers use."""

Activation = Literal["relu", "tanh"]


def highway(x: Tensor, H: Tensor, T: Tensor) -> Tensor:
    """Eq. 3: y = H * T + x * (1 - T), elementwise (any shape, all three the same).

    Examples:
        >>> x, H = torch.tensor([1.0, 2.0]), torch.tensor([5.0, 5.0])
        >>> highway(x, H, torch.tensor([0.0, 1.0])).tolist()    # T = 0 carries, T = 1 transforms
        [1.0, 5.0]
    """
    return H * T + x * (1.0 - T)  # Eq. 3


def _act(name: str, a: Tensor) -> Tensor:
    return torch.relu(a) if name == "relu" else torch.tanh(a)


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise RnnaiError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RnnaiError(f"{name} must be an int >= 1, got {value!r}")


def _init_weight(
    w: Tensor, activation: str, fan_in: int, generator: torch.Generator | None
) -> None:
    gain = 2.0 if activation == "relu" else 1.0
    with torch.no_grad():
        w.normal_(0.0, math.sqrt(gain / fan_in), generator=generator)


def _check_input(who: str, x: Tensor, dims: int, size: int, dim: int, expected: str) -> None:
    if not isinstance(x, Tensor):
        raise RnnaiError(f"{who}: input must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != dims or x.shape[dim] != size:
        raise RnnaiError(f"{who}: input must have shape {expected}, got {tuple(x.shape)}")


class PlainLayer(nn.Module):
    """A plain layer y = H(x) = act(W_H x + b_H), the papers' layer without gates.

    Args:
        in_features: Size of x.
        out_features: Size of y (default: ``in_features``).
        activation: "relu" or "tanh".
        generator: Draws the initial weights (None: torch's global generator).

    Shape:
        input (N, H_in), output (N, H_out).

    Examples:
        >>> tuple(PlainLayer(3, 5)(torch.randn(2, 3)).shape)
        (2, 5)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int | None = None,
        *,
        activation: Activation = "relu",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        out_features = in_features if out_features is None else out_features
        _check_positive("in_features", in_features)
        _check_positive("out_features", out_features)
        _check_activation(activation)
        self.in_features, self.out_features, self.activation = in_features, out_features, activation
        self.W_H = nn.Parameter(torch.empty(out_features, in_features))
        self.b_H = nn.Parameter(torch.zeros(out_features))
        _init_weight(self.W_H, activation, in_features, generator)

    def forward(self, x: Tensor) -> Tensor:
        """y = act(W_H x + b_H) for x of shape (N, H_in)."""
        _check_input("PlainLayer", x, 2, self.in_features, 1, f"(N, {self.in_features})")
        return _act(self.activation, F.linear(x, self.W_H, self.b_H))


class Highway(nn.Module):
    """A dense highway layer (Eq. 3) of width ``features``.

    Args:
        features: Width: the size of x, H(x), T(x) and y.
        activation: H's activation, "relu" or "tanh".
        gate_bias: Initial transform-gate bias b_T (negative: the layer starts out carrying).
        generator: Draws the initial weights (None: torch's global generator).

    Shape:
        input (N, H), output (N, H).

    Examples:
        >>> layer = Highway(4, gate_bias=-30.0)
        >>> x = torch.randn(2, 4)
        >>> torch.allclose(layer(x), x)       # T ~ 0: the layer carries its input
        True
    """

    def __init__(
        self,
        features: int,
        *,
        activation: Activation = "relu",
        gate_bias: float = -2.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        _check_positive("features", features)
        _check_activation(activation)
        self.features, self.activation = features, activation
        self.W_H = nn.Parameter(torch.empty(features, features))
        self.b_H = nn.Parameter(torch.zeros(features))
        self.W_T = nn.Parameter(torch.empty(features, features))
        self.b_T = nn.Parameter(torch.full((features,), float(gate_bias)))
        _init_weight(self.W_H, activation, features, generator)
        _init_weight(self.W_T, "tanh", features, generator)

    def gate(self, x: Tensor) -> Tensor:
        """The transform gate T(x) = sigmoid(W_T x + b_T), shape (N, H)."""
        _check_input("Highway", x, 2, self.features, 1, f"(N, {self.features})")
        return torch.sigmoid(F.linear(x, self.W_T, self.b_T))

    def forward_with_gate(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(y, T(x)) for x of shape (N, H)."""
        T = self.gate(x)
        H = _act(self.activation, F.linear(x, self.W_H, self.b_H))
        return highway(x, H, T), T  # Eq. 3

    def forward(self, x: Tensor) -> Tensor:
        """y = H(x) T(x) + x (1 - T(x)) for x of shape (N, H)."""
        return self.forward_with_gate(x)[0]


class HighwayConv2d(nn.Module):
    """A convolutional highway layer: W_H x and W_T x are 2-D convolutions with 'same' padding.

    Args:
        channels: Channels of x and y (the gate acts per channel and pixel).
        kernel_size: Odd side of the square kernels.
        activation: H's activation, "relu" or "tanh".
        gate_bias: Initial transform-gate bias b_T.
        generator: Draws the initial weights.

    Shape:
        input (N, C, H, W), output (N, C, H, W).

    Examples:
        >>> tuple(HighwayConv2d(2, kernel_size=5)(torch.randn(1, 2, 9, 6)).shape)
        (1, 2, 9, 6)
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        *,
        activation: Activation = "relu",
        gate_bias: float = -2.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        _check_positive("channels", channels)
        _check_positive("kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise RnnaiError(f"kernel_size must be odd for 'same' padding, got {kernel_size}")
        _check_activation(activation)
        self.channels, self.kernel_size, self.activation = channels, kernel_size, activation
        k, fan_in = kernel_size, channels * kernel_size * kernel_size
        self.W_H = nn.Parameter(torch.empty(channels, channels, k, k))
        self.b_H = nn.Parameter(torch.zeros(channels))
        self.W_T = nn.Parameter(torch.empty(channels, channels, k, k))
        self.b_T = nn.Parameter(torch.full((channels,), float(gate_bias)))
        _init_weight(self.W_H, activation, fan_in, generator)
        _init_weight(self.W_T, "tanh", fan_in, generator)

    def forward_with_gate(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(y, T(x)), both (N, C, H, W)."""
        _check_input("HighwayConv2d", x, 4, self.channels, 1, f"(N, {self.channels}, H, W)")
        p = self.kernel_size // 2
        T = torch.sigmoid(F.conv2d(x, self.W_T, self.b_T, padding=p))
        H = _act(self.activation, F.conv2d(x, self.W_H, self.b_H, padding=p))
        return highway(x, H, T), T  # Eq. 3

    def forward(self, x: Tensor) -> Tensor:
        """y = H(x) T(x) + x (1 - T(x)), shape (N, C, H, W)."""
        return self.forward_with_gate(x)[0]


@dataclass(frozen=True, kw_only=True)
class HighwayNetConfig:
    """A dense highway network (or its plain counterpart) for the depth comparison.

    Examples:
        >>> HighwayNetConfig(width=50, depth=100).highway
        True
    """

    width: int = 50
    """Units per layer (the papers: 50 highway blocks, 71 plain units, equal parameter counts)."""
    depth: int = 10
    """Highway (or plain) layers between the input projection and the output layer."""
    activation: Activation = "relu"
    """H's activation, "relu" or "tanh"."""
    gate_bias: float = -2.0
    """Initial transform-gate bias b_T (the papers: -1 to -3 for depths 10 to 30)."""
    highway: bool = True
    """False: the plain counterpart (the same H layers without gates)."""

    def __post_init__(self) -> None:
        _check_positive("width", self.width)
        _check_positive("depth", self.depth)
        _check_activation(self.activation)
        if not math.isfinite(self.gate_bias):
            raise RnnaiError(f"gate_bias must be finite, got {self.gate_bias}")


class HighwayNet(nn.Module):
    """Input projection (a plain layer), ``depth`` highway or plain layers, a linear output layer.

    Args:
        in_features: Input size.
        out_features: Output size (logits or regression outputs; no output activation).
        config: Width, depth, activation, gate bias and whether the layers are gated.
        generator: Draws the initial weights.

    Shape:
        input (N, H_in), output (N, H_out).

    Examples:
        >>> net = HighwayNet(3, 1, HighwayNetConfig(width=4, depth=2))
        >>> tuple(net(torch.randn(7, 3)).shape)
        (7, 1)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        config: HighwayNetConfig | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        config = HighwayNetConfig() if config is None else config
        _check_positive("in_features", in_features)
        _check_positive("out_features", out_features)
        self.config = config
        w, act = config.width, config.activation
        self.project = PlainLayer(in_features, w, activation=act, generator=generator)
        layers: list[nn.Module] = [
            Highway(w, activation=act, gate_bias=config.gate_bias, generator=generator)
            if config.highway
            else PlainLayer(w, activation=act, generator=generator)
            for _ in range(config.depth)
        ]
        self.layers = nn.ModuleList(layers)
        self.output = nn.Linear(w, out_features)
        _init_weight(self.output.weight, "tanh", w, generator)
        with torch.no_grad():
            self.output.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        """The network's output for x of shape (N, H_in)."""
        h = self.project(x)
        for layer in self.layers:
            h = layer(h)
        return self.output(h)

    def transform_gates(self, x: Tensor) -> Tensor:
        """T of every highway layer for the batch x: shape (depth, N, width), without gradients.

        Raises:
            RnnaiError: For a plain network (it has no gates).
        """
        return self.gate_analysis(x).gates

    def gate_analysis(self, x: Tensor) -> GateAnalysis:
        """What the papers' gate-analysis figure shows, for the batch x (no gradients).

        Raises:
            RnnaiError: For a plain network (it has no gates).
        """
        if not self.config.highway:
            raise RnnaiError("gate analysis needs a highway network, got a plain one")
        gates, outputs, biases = [], [], []
        with torch.no_grad():
            h = self.project(x)
            for layer in self.layers:
                assert isinstance(layer, Highway)
                h, T = layer.forward_with_gate(h)
                gates.append(T)
                outputs.append(h)
                biases.append(layer.b_T.detach().clone())
        return GateAnalysis(
            biases=torch.stack(biases),  # (depth, width)
            gates=torch.stack(gates),  # (depth, N, width)
            outputs=torch.stack(outputs),  # (depth, N, width)
        )


@dataclass(frozen=True, eq=False)
class GateAnalysis:
    """Transform-gate activity by layer (the papers' gate-analysis plots).

    Attributes:
        biases: b_T of every layer, (depth, width).
        gates: T(x) of every layer for every example, (depth, N, width).
        outputs: Every layer's output y, (depth, N, width).

    Examples:
        >>> net = HighwayNet(2, 1, HighwayNetConfig(width=3, depth=4, gate_bias=-2.0))
        >>> a = net.gate_analysis(torch.randn(5, 2))
        >>> tuple(a.mean_gate.shape), tuple(a.fraction_on().shape)
        ((4, 3), (4, 3))
    """

    biases: Tensor
    gates: Tensor
    outputs: Tensor

    @property
    def mean_gate(self) -> Tensor:
        """Mean transform-gate output of each block over the examples, (depth, width)."""
        return self.gates.mean(dim=1)

    def fraction_on(self, threshold: float = 0.5) -> Tensor:
        """Fraction of examples for which each block transforms (T > threshold), (depth, width)."""
        return (self.gates > threshold).double().mean(dim=1)
