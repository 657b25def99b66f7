"""The meta-LSTM: an LSTM that receives (x_t, y_{t-1}) and learns a learning algorithm.

Papers (read this module beside them):

* S. Hochreiter, A. S. Younger & P. R. Conwell, "Learning to Learn Using Gradient Descent",
  ICANN 2001, LNCS 2130, pp. 87-94. A recurrent net (LSTM) sees at step t the input x_t together
  with the previous step's target y_{t-1} and outputs its prediction of y_t. Trained by gradient
  descent over sequences drawn from many functions of a family, its fixed weights come to encode
  a learning algorithm: within a new sequence it fits the new function from the examples it has
  seen so far, with no weight change.
* A. S. Younger, S. Hochreiter & P. R. Conwell, "Meta-learning with backpropagation", IJCNN 2001.
  The family of 2-D quadratic functions f(x1, x2) = a x1^2 + b x2^2 + c x1 x2 + d x1 + e x2 + g;
  the trained LSTM learns an unseen quadratic from about 30 examples.

Per step (h, c the LSTM state; W_out, b_out a linear read-out)::

    z_t     = [x_t, y_{t-1}],   y_0 := 0 at the start of an episode      (input shift)
    h_t     = LSTM(z_t, h_{t-1}, c_{t-1})                                  (rnnai.nn.LSTM)
    y-hat_t = W_out h_t + b_out                                            (prediction of y_t)

The loss is the squared error of y-hat_t against y_t summed over all steps of the episode, so the
net is rewarded for learning fast: `error_curve` gives the error at each position, i.e. against
the number of examples whose targets it has seen (t at position t, counting from 0).

What we verified (the papers' abstracts): the IJCNN paper's LSTM-based system "developed a learning
algorithm that could learn any two-dimensional quadratic function (from a set of such functions)
after only 30 training examples"; the ICANN paper meta-learns with recurrent nets trained by
gradient descent. Deviations and unverified details: the papers' full texts (net sizes, ranges of
the coefficients and inputs, sequence length, training length, error measure) were not available
to us; the family's
defaults here (coefficients and inputs uniform in [-1, 1], targets divided by `QuadraticFamily`'s
``target_scale``) are our choices, not the paper's. The LSTM is any variant of `rnnai.nn.LSTM`
(default Greff's "vanilla": forget gate and peepholes), not necessarily the paper's cell.

Examples:
    >>> import torch
    >>> from rnnai.nn.meta_lstm import MetaLSTM, QuadraticFamily, error_curve, quadratic_episodes
    >>> _ = torch.manual_seed(0)
    >>> gen = torch.Generator().manual_seed(1)
    >>> family = QuadraticFamily()
    >>> x, y, coef = quadratic_episodes(family, num_functions=8, length=30, generator=gen)
    >>> tuple(x.shape), tuple(y.shape), tuple(coef.shape)   # (N, L, 2), (N, L, 1), (N, 6)
    ((8, 30, 2), (8, 30, 1), (8, 6))
    >>> net = MetaLSTM(2, 1, hidden_size=16)
    >>> y_hat, state = net(x, y)
    >>> tuple(y_hat.shape), tuple(error_curve(y_hat, y).shape)
    ((8, 30, 1), (30,))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnai.nn.lstm import LSTM, LSTMVariant
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "MetaLSTM",
    "MetaLSTMState",
    "QuadraticFamily",
    "error_curve",
    "quadratic_episodes",
    "quadratic_features",
]

MetaLSTMState = tuple[tuple[Tensor, ...], Tensor]
"""The state between calls: (the LSTM's state, the last target seen y_{L-1} (N, H_y))."""


@dataclass(frozen=True, kw_only=True)
class QuadraticFamily:
    """The family f(x1, x2) = a x1^2 + b x2^2 + c x1 x2 + d x1 + e x2 + g (Younger et al. 2001).

    The ranges are our defaults (the paper's were not available to us).
    """

    coef_low: float = -1.0
    """Lower bound of the uniform distribution of a, b, c, d, e, g."""
    coef_high: float = 1.0
    """Upper bound of the coefficients' distribution."""
    x_low: float = -1.0
    """Lower bound of the uniform distribution of x1 and x2."""
    x_high: float = 1.0
    """Upper bound of the inputs' distribution."""
    target_scale: float = 1.0
    """The targets are f(x1, x2) / target_scale."""

    def __post_init__(self) -> None:
        if not (self.coef_low <= self.coef_high and self.x_low <= self.x_high):
            raise RnnaiError(
                "QuadraticFamily expected coef_low <= coef_high and x_low <= x_high, got "
                f"[{self.coef_low}, {self.coef_high}] and [{self.x_low}, {self.x_high}]"
            )
        if not self.target_scale > 0:
            raise RnnaiError(f"QuadraticFamily expected target_scale > 0, got {self.target_scale}")


def quadratic_features(x: Tensor) -> Tensor:
    """[x1^2, x2^2, x1 x2, x1, x2, 1] of x (..., 2): (..., 6), the family's coefficients' order."""
    if x.shape[-1] != 2:
        raise RnnaiError(f"quadratic_features expected x of shape (..., 2), got {tuple(x.shape)}")
    x1, x2 = x[..., 0], x[..., 1]
    return torch.stack([x1 * x1, x2 * x2, x1 * x2, x1, x2, torch.ones_like(x1)], dim=-1)


def quadratic_episodes(
    family: QuadraticFamily,
    *,
    num_functions: int,
    length: int,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor, Tensor]:
    """Draw functions of the family and one episode of examples (x_t, f(x_t)) for each.

    Args:
        family: The coefficient and input ranges.
        num_functions: N, functions (episodes) to draw.
        length: L, examples per episode.
        generator: The random stream (the same seed gives the same episodes).
        dtype: Floating-point type of the tensors.

    Returns:
        x (N, L, 2), y (N, L, 1) and the coefficients (N, 6) in the order a, b, c, d, e, g.

    Raises:
        RnnaiError: For num_functions or length < 1.
    """
    if num_functions < 1 or length < 1:
        raise RnnaiError(
            f"quadratic_episodes expected num_functions, length >= 1, got {num_functions}, {length}"
        )
    coef = torch.rand(num_functions, 6, generator=generator, dtype=dtype)
    coef = family.coef_low + (family.coef_high - family.coef_low) * coef
    x = torch.rand(num_functions, length, 2, generator=generator, dtype=dtype)
    x = family.x_low + (family.x_high - family.x_low) * x
    y = (quadratic_features(x) @ coef.unsqueeze(-1)) / family.target_scale  # (N, L, 1)
    return x, y, coef


def error_curve(y_hat: Tensor, y: Tensor) -> Tensor:
    """Mean squared error at each position: the error after t examples' targets were seen.

    Args:
        y_hat: Predictions (N, L, H_y).
        y: Targets (N, L, H_y).

    Returns:
        (L,): position t's squared error, summed over the H_y outputs, averaged over the N
        episodes.

    Raises:
        RnnaiError: For mismatched shapes.
    """
    if y_hat.shape != y.shape or y.dim() != 3:
        raise RnnaiError(
            f"error_curve expected y_hat and y of one shape (N, L, H_y), got {tuple(y_hat.shape)} "
            f"and {tuple(y.shape)}"
        )
    return (y_hat - y).square().sum(-1).mean(0)


class MetaLSTM(nn.Module):
    """An LSTM fed (x_t, y_{t-1}) that predicts y_t (Hochreiter, Younger & Conwell 2001).

    Args:
        input_size: H_x, the size of x_t.
        target_size: H_y, the size of y_t.
        hidden_size: Memory blocks per LSTM layer.
        num_layers: Stacked LSTM layers.
        variant: Any `rnnai.nn.LSTM` variant (default ``"vanilla"``).

    Shape:
        forward(x, y, state=None) -> (y_hat, state): x (N, L, H_x), y (N, L, H_y) batch-first;
        y_hat (N, L, H_y), y_hat[:, t] depends on x[:, :t+1] and y[:, :t] only. state is
        `MetaLSTMState`, (the LSTM's state, y[:, L-1]); handing it to the next call continues
        the episode (its y_{t-1} is the last target of the previous call).
    """

    def __init__(
        self,
        input_size: int,
        target_size: int,
        *,
        hidden_size: int,
        num_layers: int = 1,
        variant: str | LSTMVariant = "vanilla",
    ) -> None:
        super().__init__()
        if min(input_size, target_size, hidden_size) < 1:
            raise RnnaiError(
                "MetaLSTM expected input_size, target_size, hidden_size >= 1, got "
                f"{input_size}, {target_size}, {hidden_size}"
            )
        self.input_size, self.target_size = input_size, target_size
        self.lstm = LSTM(
            input_size + target_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            variant=variant,
        )
        self.readout = nn.Linear(hidden_size, target_size)  # W_out, b_out

    def forward(
        self, x: Tensor, y: Tensor, state: MetaLSTMState | None = None
    ) -> tuple[Tensor, MetaLSTMState]:
        """Predict y_t from x_{<=t} and y_{<t}; see the class docstring for shapes."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise RnnaiError(
                f"MetaLSTM expected x of shape (N, L, {self.input_size}), got {tuple(x.shape)}"
            )
        if y.shape != (*x.shape[:2], self.target_size):
            raise RnnaiError(
                f"MetaLSTM expected y of shape {(*x.shape[:2], self.target_size)}, got "
                f"{tuple(y.shape)}"
            )
        if state is None:
            lstm_state, y_last = None, y.new_zeros(y.shape[0], y.shape[-1])  # y_{-1} = 0
        else:
            lstm_state, y_last = state
        y_prev = torch.cat([y_last.unsqueeze(1), y[:, :-1]], dim=1)  # y_{t-1}   (N, L, H_y)
        h, lstm_state = self.lstm(torch.cat([x, y_prev], dim=-1), lstm_state)  # (N, L, H)
        return self.readout(h), (tuple(lstm_state), y[:, -1])

    def extra_repr(self) -> str:
        """Summary shown by print(module)."""
        return f"input_size={self.input_size}, target_size={self.target_size}"
