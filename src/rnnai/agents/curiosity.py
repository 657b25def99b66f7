"""Intrinsic rewards for a learner with a world model: learning progress vs raw prediction error.

Citations:
    J. Schmidhuber. Curious model-building control systems. In Proc. International Joint
    Conference on Neural Networks, Singapore, vol. 2, pp. 1458-1463. IEEE, 1991.

    J. Schmidhuber. A possibility for implementing curiosity and boredom in model-building neural
    controllers. In J. A. Meyer and S. W. Wilson (eds.), Proc. of the International Conference on
    Simulation of Adaptive Behavior: From Animals to Animats, pp. 222-227. MIT Press, 1991.

    J. Schmidhuber. Formal theory of creativity, fun, and intrinsic motivation (1990-2010).
    IEEE Transactions on Autonomous Mental Development 2(3):230-247, 2010.

    D. Pathak, P. Agrawal, A. A. Efros and T. Darrell. Curiosity-driven exploration by
    self-supervised prediction. In Proc. ICML 2017 (arXiv:1705.05363).

Two modules (Schmidhuber 2010, Sec. I): a world model (predictor or compressor) p of the growing
history h(<=t) of inputs, improved by a learning algorithm, and a reward maximizer that chooses
actions. The intrinsic reward of the reward maximizer is the *learning progress* of the model:
how much the learning algorithm's update from p_old to p_new improved the model's prediction error
(or compression) C of the history (2010, Sec. II)::

    r_int(t) = f[C(p_old, h(<=t)), C(p_new, h(<=t))],   f(a, b) = a - b          (progress)

so data that is already predicted (boring) and data that cannot be predicted at all (noise) both
give no lasting reward: only learnable, not yet learned regularities do. The contrast is the raw
prediction error bonus of the intrinsic curiosity module (Pathak et al. 2017, Eq. 6), the forward
model's error in feature space phi::

    r^i_t = eta / 2 * || phi_hat(s_{t+1}) - phi(s_{t+1}) ||_2^2                   (raw error)

which stays high forever on unpredictable inputs (the "noisy TV").

Implemented here:

* `compression_progress` (C before the update minus C after it, on the same data);
* `windowed_progress` (the decrease of a windowed average of the prediction error: the mean of
  the errors ``window`` to ``2 window`` steps back minus the mean of the last ``window`` errors,
  the variant of the 1991 papers that reward a decrease of the model's error over time);
* `prediction_error_reward` (the raw-error bonus, Eq. 6 of Pathak et al.);
* `LinearWorldModel`: a linear predictor y_hat = W [x; 1] trained online by the LMS (delta) rule,
  that keeps the last ``history`` observed pairs and reports, per observation, the raw error of
  its prediction and the compression progress of its update measured on that stored history;
* `EpsilonGreedyChooser`: the reward maximizer, a non-stationary bandit that keeps a
  recency-weighted average Q_k of the intrinsic reward of each option k and chooses the best with
  probability 1 - epsilon (ties within ``tolerance`` broken at random), any option otherwise.

Choices where the papers are silent or that differ from them (the 1991 systems are recurrent
networks trained by gradient descent, with a Q-learning or adaptive-critic controller):

* C is the mean squared error ``1/2 |y - y_hat|^2`` over the stored history (the last ``history``
  pairs of the option the observation came from), not a code length; the history is bounded so
  that one update costs O(history);
* the reward maximizer is a bandit over options (each step is one choice of where to look), not a
  recurrent controller with temporal credit assignment: in the environments used with it the
  choice of option is the whole action;
* the boredom tolerance: options whose Q lies within ``tolerance`` of the best are equally good
  (a learned region and a trivial one are then both boring and chosen at random).

What was checked by ``search`` of public copies (2026-12): the 2010 abstract ("maximizing
intrinsic reward for the active creation or discovery of novel, surprising patterns allowing for
improved prediction or data compression"; "the observer's learning progress can be precisely
measured"); Schmidhuber's own summary of the four ingredients (a predictor or compressor of the
history, a learning algorithm that improves it, intrinsic rewards measuring its improvements due
to the learning algorithm, a separate reward optimizer); Pathak et al.'s forward loss
``1/2 |phi_hat - phi|^2`` and reward ``eta/2 |phi_hat - phi|^2`` (from a public review of the
paper and RLlib's documented implementation, not from the paper's own text). The exact form
f(a, b) = a - b of the 2010 paper, Sec. II, is quoted from our reading, not re-checked here.

Examples:
    >>> compression_progress(2.0, 0.5)
    1.5
    >>> windowed_progress([4.0, 4.0, 1.0, 1.0], window=2).tolist()
    [nan, nan, nan, 3.0]
    >>> float(prediction_error_reward(np.array([1.0, 2.0]), np.array([0.0, 0.0]), eta=2.0))
    5.0
    >>> model = LinearWorldModel(n_in=1, n_out=1, lr=0.25, history=4)
    >>> step = model.observe(np.array([1.0]), np.array([2.0]))
    >>> step.error, step.progress
    (2.0, 1.5)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "EpsilonGreedyChooser",
    "LinearWorldModel",
    "Observation",
    "compression_progress",
    "prediction_error_reward",
    "windowed_progress",
]


def compression_progress(error_before: Any, error_after: Any) -> Any:
    """Learning progress: the model's error on the data before its update minus after it.

    ``f[C(p_old, h), C(p_new, h)] = C(p_old, h) - C(p_new, h)`` (Schmidhuber 2010, Sec. II).
    Positive when learning helped, zero when nothing changed, negative when the update made the
    model worse on the data (typical of fitting noise).

    Args:
        error_before: C(p_old, h), a float or an array.
        error_after: C(p_new, h), of the same shape.

    Returns:
        The difference, elementwise.

    Examples:
        >>> compression_progress(np.array([1.0, 1.0]), np.array([0.25, 1.5])).tolist()
        [0.75, -0.5]
    """
    return error_before - error_after


def windowed_progress(errors: Sequence[float] | np.ndarray, *, window: int) -> np.ndarray:
    """The decrease of a windowed average of the prediction error, at every step.

    ``LP_t = mean(e_{t-2w+1} .. e_{t-w}) - mean(e_{t-w+1} .. e_t)``: the mean error of the window
    before the last one minus the mean error of the last ``w`` steps.

    Args:
        errors: The model's prediction errors e_0 .. e_{T-1} (before each update), shape (T,).
        window: w >= 1.

    Returns:
        Shape (T,): LP_t, NaN for t < 2w - 1 (not enough history).

    Raises:
        RnnaiError: If ``window`` < 1 or ``errors`` is not one-dimensional.
    """
    if window < 1:
        raise RnnaiError(f"window must be >= 1, got {window}")
    e = np.asarray(errors, dtype=np.float64)
    if e.ndim != 1:
        raise RnnaiError(f"errors must be one-dimensional, got shape {e.shape}")
    out = np.full(len(e), np.nan)
    if len(e) < 2 * window:
        return out
    c = np.concatenate([[0.0], np.cumsum(e)])  # c[i] = e_0 + ... + e_{i-1}
    t = np.arange(2 * window - 1, len(e))
    recent = (c[t + 1] - c[t + 1 - window]) / window
    older = (c[t + 1 - window] - c[t + 1 - 2 * window]) / window
    out[t] = older - recent
    return out


def prediction_error_reward(predicted: Any, target: Any, *, eta: float = 1.0) -> Any:
    """The raw-error curiosity bonus ``eta / 2 * |phi_hat - phi|^2`` (Pathak et al. 2017, Eq. 6).

    Args:
        predicted: The forward model's prediction, shape (..., D).
        target: The observed features, shape (..., D).
        eta: The scale eta > 0.

    Returns:
        Shape (...): the bonus.

    Raises:
        RnnaiError: If the shapes differ or eta <= 0.
    """
    p, y = np.asarray(predicted, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if p.shape != y.shape:
        raise RnnaiError(f"predicted and target must have one shape, got {p.shape} and {y.shape}")
    if eta <= 0:
        raise RnnaiError(f"eta must be > 0, got {eta}")
    return 0.5 * eta * np.sum((p - y) ** 2, axis=-1)


@dataclass(frozen=True, kw_only=True)
class Observation:
    """What one online update of a `LinearWorldModel` reports.

    Attributes:
        error: ``1/2 |y - y_hat|^2`` of the prediction made before the update (the raw error).
        progress: C(p_old, h) - C(p_new, h) on the stored history including the new pair.
    """

    error: float
    progress: float


class LinearWorldModel:
    """A linear predictor ``y_hat = W [x; 1]`` trained online by the LMS rule, with its history.

    ``W <- W + lr (y - y_hat) [x; 1]^T`` after each observed pair (the gradient step on
    ``1/2 |y - y_hat|^2``). The last ``history`` pairs are kept, and `observe` reports the
    compression progress of each update measured on them (`compression_progress` of the mean
    error over the history before and after the step).

    Args:
        n_in: Input size.
        n_out: Output size.
        lr: LMS step size (> 0).
        history: Pairs kept to measure progress on (>= 1).
    """

    def __init__(self, *, n_in: int, n_out: int, lr: float, history: int) -> None:
        if n_in < 1 or n_out < 1:
            raise RnnaiError(f"n_in and n_out must be >= 1, got {n_in} and {n_out}")
        if lr <= 0 or history < 1:
            raise RnnaiError(f"lr must be > 0 and history >= 1, got {lr} and {history}")
        self.lr = float(lr)
        self.W = np.zeros((n_out, n_in + 1))
        self._X = np.zeros((history, n_in + 1))  # (K, n_in + 1) ring buffer of [x; 1]
        self._Y = np.zeros((history, n_out))  # (K, n_out)
        self._count = 0

    def _augment(self, x: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(x, dtype=np.float64).reshape(-1), [1.0]])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions for inputs of shape (n_in,) or (N, n_in)."""
        x = np.asarray(x, dtype=np.float64)
        return x @ self.W[:, :-1].T + self.W[:, -1]

    def error(self, x: np.ndarray, y: np.ndarray) -> float:
        """Mean of ``1/2 |y - y_hat|^2`` over the rows of x (N, n_in) and y (N, n_out)."""
        return float(np.mean(prediction_error_reward(self.predict(x), y)))

    def _history_error(self) -> float:
        n = min(self._count, len(self._X))
        r = self._Y[:n] - self._X[:n] @ self.W.T  # (n, n_out)
        return float(np.mean(0.5 * np.sum(r * r, axis=1)))

    def observe(self, x: np.ndarray, y: np.ndarray) -> Observation:
        """Store the pair, take one LMS step on it, report the raw error and the progress."""
        xa = self._augment(x)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        residual = y - self.W @ xa
        raw = 0.5 * float(residual @ residual)
        self._X[self._count % len(self._X)] = xa
        self._Y[self._count % len(self._Y)] = y
        self._count += 1
        before = self._history_error()
        self.W += self.lr * np.outer(residual, xa)  # LMS / delta rule
        after = self._history_error()
        return Observation(error=raw, progress=float(compression_progress(before, after)))


class EpsilonGreedyChooser:
    """A non-stationary bandit: recency-weighted reward averages, epsilon-greedy choice.

    ``Q_k <- Q_k + alpha (r - Q_k)`` for the chosen option k; with probability epsilon a uniform
    random option, otherwise a uniform choice among the options with ``Q_k >= max Q - tolerance``.

    Args:
        n_options: Number of options (>= 1).
        alpha: Step size of the averages in (0, 1].
        epsilon: Exploration probability in [0, 1].
        tolerance: Options this close to the best count as equally good (>= 0).
        rng: The generator of every random choice.
        initial: Initial Q of every option.
    """

    def __init__(
        self,
        *,
        n_options: int,
        alpha: float,
        epsilon: float,
        tolerance: float,
        rng: np.random.Generator,
        initial: float = 0.0,
    ) -> None:
        if n_options < 1 or not 0 < alpha <= 1 or not 0 <= epsilon <= 1 or tolerance < 0:
            raise RnnaiError(
                "need n_options >= 1, 0 < alpha <= 1, 0 <= epsilon <= 1, tolerance >= 0; got "
                f"{n_options}, {alpha}, {epsilon}, {tolerance}"
            )
        self.alpha, self.epsilon, self.tolerance = float(alpha), float(epsilon), float(tolerance)
        self.rng = rng
        self.Q = np.full(n_options, float(initial))

    def choose(self) -> int:
        """The next option."""
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(len(self.Q)))
        best = np.flatnonzero(self.Q >= self.Q.max() - self.tolerance)
        return int(best[self.rng.integers(len(best))])

    def update(self, option: int, reward: float) -> None:
        """Move Q of ``option`` towards ``reward``."""
        self.Q[option] += self.alpha * (float(reward) - self.Q[option])
