"""A recurrent world model M and a recurrent controller C trained through the frozen M (1990).

Citations:
    J. Schmidhuber. Making the world differentiable: on using self-supervised fully recurrent
    neural networks for dynamic reinforcement learning and planning in non-stationary
    environments. Technical Report FKI-126-90, Institut fuer Informatik, TU Muenchen, 1990
    (revised November 1990).

    J. Schmidhuber. An on-line algorithm for dynamic reinforcement learning and planning in
    reactive environments. In Proc. IEEE/INNS International Joint Conference on Neural Networks,
    San Diego, vol. 2, pp. 253-258, 1990.

The system (1990): two recurrent networks. The model network M sees the controller's input x_t
and its action a_t and learns, by gradient descent on recorded experience, to predict the next
input x_{t+1} and the reinforcement ("pain" or reward) r_{t+1}. The controller C maps its inputs
to actions. C is trained by "gradient descent through the frozen model network" (the principle
the report credits to Werbos, Jordan, Munro, Robinson & Fallside, Nguyen & Widrow): the weights
of M are held fixed, and the gradient of M's predicted reinforcement with respect to C's weights
flows back through M's predictions and C's actions over time. Learning alternates: collect
experience with C (plus exploration noise), train M on all of it, train C through M. M can also
be used to plan: action sequences are evaluated in imagined rollouts through M and the best first
action is executed.

Equations (our symbols; the report's own notation was not available to check). Both networks are
Elman-type fully recurrent tanh layers::

    M:  h_t = tanh(W_x x_t + W_a a_t + W_h h_{t-1} + b)                         (Eq. 1)
        x^_{t+1} = x_t + V_x h_t + c_x                                           (Eq. 2)
        r^_{t+1} = v_r . h_t + c_r                                               (Eq. 3)
    C:  g_t = tanh(U_x x_t + U_g g_{t-1} + d),   a_t = f(u_a . g_t + e)          (Eq. 4)

with f = tanh (actions in [-1, 1]) or the logistic sigmoid (actions in (0, 1)). M is trained to
minimize ``sum_t |x^_{t+1} - x_{t+1}|^2 + L_r(r^_{t+1}, r_{t+1})`` over recorded episodes
(BPTT), with L_r the squared error for a real reinforcement, or the logistic loss for a binary
one where r^ is the logit of "still alive" (`model_loss`). C is trained to maximize the return M
predicts for an imagined rollout of C and M together from recorded starting points, M frozen
(`imagine`, `imagined_return`)::

    real r:    J = sum_{t=1..H} r^_t
    binary r:  J = sum_{t=1..H} prod_{k<=t} sigma(r^_k)     (expected steps survived under M)

Planning (`plan_first_actions`): N candidate action sequences of length H, C's own imagined
rollout among them, are scored by J in one batched rollout through M; the first action of the
best is executed (model-predictive control by random shooting).

What the report has and we could not check: the exact sizes, learning rates, the pole-balancing
and flip-flop constants and the numbers of trials (the report was not available; only its
abstract and later summaries were). The choices here are ours: Elman tanh layers trained by BPTT
(the report uses fully recurrent nets with real-time recurrent learning), M predicting the change
of the input (Eq. 2), the binary-reward form of J, Adam, Gaussian exploration noise in place of
the report's "adaptive randomness" of probabilistic output units, and random shooting for
planning.

Examples:
    >>> import torch
    >>> gen = torch.Generator().manual_seed(0)
    >>> m = RecurrentWorldModel(n_obs=2, n_act=1, hidden=4, generator=gen)
    >>> c = RecurrentController(n_in=2, n_act=1, hidden=3, generator=gen)
    >>> rollout = imagine(m, c, torch.zeros(5, 2), horizon=7)
    >>> tuple(rollout.obs.shape), tuple(rollout.reward.shape)
    ((5, 7, 2), (5, 7))
    >>> imagined_return(torch.zeros(1, 3), binary=True).item()  # sigma(0) + sigma(0)^2 + ...
    0.875
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "Imagined",
    "RecurrentController",
    "RecurrentWorldModel",
    "controller_loss",
    "imagine",
    "imagined_return",
    "model_loss",
    "plan_first_actions",
    "train_controller_through_model",
    "train_model",
]


def _init(out: int, inp: int, gen: torch.Generator, dtype: torch.dtype) -> nn.Parameter:
    bound = 1.0 / math.sqrt(max(inp, 1))
    return nn.Parameter((torch.rand(out, inp, generator=gen, dtype=dtype) * 2 - 1) * bound)


class RecurrentWorldModel(nn.Module):
    """M: an Elman tanh layer predicting the next input and the reinforcement (Eqs. 1-3).

    Shapes: ``x`` (N, n_obs), ``a`` (N, n_act), ``h`` (N, hidden). `forward` takes whole
    sequences ``obs`` (N, L, n_obs) and ``act`` (N, L, n_act) (batch first).
    """

    def __init__(
        self,
        *,
        n_obs: int,
        n_act: int,
        hidden: int,
        generator: torch.Generator,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        """Build M with weights uniform in +-1/sqrt(fan-in) from ``generator``.

        Raises:
            RnnaiError: If a size is not a positive integer.
        """
        super().__init__()
        for name, v in (("n_obs", n_obs), ("n_act", n_act), ("hidden", hidden)):
            if not isinstance(v, int) or v < 1:
                raise RnnaiError(f"{name} must be a positive integer, got {v!r}")
        self.n_obs, self.n_act, self.hidden = n_obs, n_act, hidden
        self.W_x = _init(hidden, n_obs, generator, dtype)
        self.W_a = _init(hidden, n_act, generator, dtype)
        self.W_h = _init(hidden, hidden, generator, dtype)
        self.b = nn.Parameter(torch.zeros(hidden, dtype=dtype))
        self.V_x = _init(n_obs, hidden, generator, dtype)
        self.c_x = nn.Parameter(torch.zeros(n_obs, dtype=dtype))
        self.v_r = _init(1, hidden, generator, dtype)
        self.c_r = nn.Parameter(torch.zeros(1, dtype=dtype))

    def initial_state(self, n: int) -> Tensor:
        """h_0 = 0, shape (n, hidden)."""
        return torch.zeros(n, self.hidden, dtype=self.W_h.dtype)

    def step(
        self, x: Tensor, a: Tensor, h: Tensor, extra: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One step: (x^_{t+1}, r^_{t+1}, h_t) from x_t, a_t, h_{t-1}.

        Args:
            x: Input x_t, (N, n_obs).
            a: Action a_t, (N, n_act).
            h: Previous hidden state, (N, hidden).
            extra: Optional additional input to the hidden units, (N, hidden) (what a
                controller sends into M in `rnnai.agents.think`).

        Returns:
            Predicted next input (N, n_obs), predicted reinforcement (N,), new state (N, hidden).
        """
        pre = x @ self.W_x.T + a @ self.W_a.T + h @ self.W_h.T + self.b
        if extra is not None:
            pre = pre + extra
        h = torch.tanh(pre)  # Eq. 1
        x_next = x + h @ self.V_x.T + self.c_x  # Eq. 2
        r_next = (h @ self.v_r.T).squeeze(-1) + self.c_r  # Eq. 3
        return x_next, r_next, h

    def forward(
        self, obs: Tensor, act: Tensor, h0: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Teacher-forced predictions over sequences.

        Args:
            obs: (N, L, n_obs) inputs x_0..x_{L-1}.
            act: (N, L, n_act) actions a_0..a_{L-1}.
            h0: (N, hidden) initial state (zeros when None).

        Returns:
            Predicted next inputs (N, L, n_obs), reinforcements (N, L), final state (N, hidden).
        """
        if obs.dim() != 3 or act.dim() != 3 or obs.shape[:2] != act.shape[:2]:
            raise RnnaiError(
                f"obs and act must be (N, L, .) with equal N, L, got {tuple(obs.shape)} and "
                f"{tuple(act.shape)}"
            )
        h = self.initial_state(obs.shape[0]) if h0 is None else h0
        xs, rs = [], []
        for x_t, a_t in zip(obs.unbind(1), act.unbind(1), strict=True):
            x_next, r_next, h = self.step(x_t, a_t, h)
            xs.append(x_next)
            rs.append(r_next)
        return torch.stack(xs, 1), torch.stack(rs, 1), h  # (N, L, n_obs), (N, L)


class RecurrentController(nn.Module):
    """C: an Elman tanh layer and an action unit (Eq. 4); ``squash`` is "tanh" or "sigmoid"."""

    def __init__(
        self,
        *,
        n_in: int,
        n_act: int,
        hidden: int,
        generator: torch.Generator,
        squash: str = "tanh",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        """Build C with weights uniform in +-1/sqrt(fan-in) from ``generator``.

        Raises:
            RnnaiError: On a bad size or an unknown ``squash``.
        """
        super().__init__()
        for name, v in (("n_in", n_in), ("n_act", n_act), ("hidden", hidden)):
            if not isinstance(v, int) or v < 1:
                raise RnnaiError(f"{name} must be a positive integer, got {v!r}")
        if squash not in ("tanh", "sigmoid"):
            raise RnnaiError(f"squash must be 'tanh' or 'sigmoid', got {squash!r}")
        self.n_in, self.n_act, self.hidden, self.squash = n_in, n_act, hidden, squash
        self.U_x = _init(hidden, n_in, generator, dtype)
        self.U_g = _init(hidden, hidden, generator, dtype)
        self.d = nn.Parameter(torch.zeros(hidden, dtype=dtype))
        self.u_a = _init(n_act, hidden, generator, dtype)
        self.e = nn.Parameter(torch.zeros(n_act, dtype=dtype))

    def initial_state(self, n: int) -> Tensor:
        """g_0 = 0, shape (n, hidden)."""
        return torch.zeros(n, self.hidden, dtype=self.U_g.dtype)

    def step(self, x: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
        """One step (Eq. 4): the action (N, n_act) and the new state (N, hidden)."""
        g = torch.tanh(x @ self.U_x.T + g @ self.U_g.T + self.d)
        z = g @ self.u_a.T + self.e
        return (torch.tanh(z) if self.squash == "tanh" else torch.sigmoid(z)), g


@dataclass
class Imagined:
    """An imagined rollout of C and M: inputs (N, H, n_obs), actions (N, H, n_act), rewards (N, H).

    ``obs[:, t]`` is M's prediction x^_{t+1}; ``reward[:, t]`` is r^_{t+1}.
    """

    obs: Tensor
    act: Tensor
    reward: Tensor


def imagine(
    model: RecurrentWorldModel,
    controller: RecurrentController | None,
    x0: Tensor,
    *,
    horizon: int,
    h0: Tensor | None = None,
    g0: Tensor | None = None,
    actions: Tensor | None = None,
    inputs: Tensor | None = None,
) -> Imagined:
    """Roll C and M forward in M's "imagination": M's prediction becomes the next input.

    With ``inputs`` given, C and M see those recorded inputs instead of M's predictions (C is
    then trained along experienced input sequences, M still supplying the path from C's
    actions to the reinforcement: the on-line form of the 1990 algorithm).

    Args:
        model: M.
        controller: C (ignored when ``actions`` are given).
        x0: Starting inputs (N, n_obs).
        horizon: H >= 1 steps.
        h0: M's starting state (zeros when None).
        g0: C's starting state (zeros when None).
        actions: Optional fixed actions (N, H, n_act) instead of C's (for planning).
        inputs: Optional recorded inputs (N, H, n_obs) fed instead of M's predictions.

    Returns:
        The rollout; differentiable in C's (and M's) parameters.
    """
    if horizon < 1:
        raise RnnaiError(f"horizon must be >= 1, got {horizon}")
    n = x0.shape[0]
    h = model.initial_state(n) if h0 is None else h0
    if actions is None:
        if controller is None:
            raise RnnaiError("imagine needs a controller or fixed actions")
        g = controller.initial_state(n) if g0 is None else g0
    if inputs is not None and inputs.shape[1] < horizon:
        raise RnnaiError(f"inputs cover {inputs.shape[1]} steps, fewer than horizon {horizon}")
    x = x0
    xs, acts, rs = [], [], []
    for t in range(horizon):
        if inputs is not None:
            x = inputs[:, t]
        if actions is None:
            assert controller is not None
            a, g = controller.step(x, g)
        else:
            a = actions[:, t]
        x, r, h = model.step(x, a, h)
        xs.append(x)
        acts.append(a)
        rs.append(r)
    return Imagined(obs=torch.stack(xs, 1), act=torch.stack(acts, 1), reward=torch.stack(rs, 1))


def imagined_return(reward: Tensor, *, binary: bool) -> Tensor:
    """J per rollout from predicted reinforcements (N, H): see the module docstring.

    Binary: ``sum_t prod_{k<=t} sigma(r^_k)`` (r^ are logits of "still alive"), the expected
    number of steps survived under M. Real: ``sum_t r^_t``.
    """
    if binary:
        return torch.cumprod(torch.sigmoid(reward), dim=1).sum(1)
    return reward.sum(1)


def model_loss(
    model: RecurrentWorldModel,
    obs: Tensor,
    act: Tensor,
    next_obs: Tensor,
    reward: Tensor,
    mask: Tensor,
    *,
    binary: bool,
) -> Tensor:
    """M's loss on padded episodes: squared input error plus the reinforcement loss, masked.

    Args:
        model: M.
        obs: (N, L, .) recorded x_t.
        act: (N, L, .) recorded a_t.
        next_obs: (N, L, .) recorded x_{t+1}.
        reward: (N, L) recorded r_{t+1} (1 alive / 0 failed when ``binary``).
        mask: (N, L) bool, True on recorded steps.
        binary: Logistic loss on the reinforcement logit instead of the squared error.

    Returns:
        The mean loss per recorded step. Inputs after a failure are not predicted (they do not
        exist): the failing step's x_{t+1} is masked out of the input term by ``reward == 0``
        when ``binary``.
    """
    x_hat, r_hat, _ = model(obs, act)
    m = mask.to(x_hat.dtype)
    keep_x = m * reward if binary else m
    sq = ((x_hat - next_obs) ** 2).sum(-1)
    if binary:
        lr = F.binary_cross_entropy_with_logits(r_hat, reward, reduction="none")
    else:
        lr = (r_hat - reward) ** 2
    return ((sq * keep_x).sum() + (lr * m).sum()) / m.sum().clamp_min(1.0)


def train_model(
    model: RecurrentWorldModel,
    data: tuple[Tensor, Tensor, Tensor, Tensor, Tensor],
    *,
    binary: bool,
    steps: int,
    lr: float,
    batch: int,
    generator: torch.Generator,
    window: int | None = None,
) -> list[float]:
    """Train M with Adam on minibatches of recorded episodes; returns the loss per step.

    Args:
        model: M.
        data: (obs, act, next_obs, reward, mask) as in `model_loss`, all (N, L, ...).
        binary: Binary or real reinforcement.
        steps: Adam steps.
        lr: Adam's learning rate.
        batch: Episodes per step.
        generator: Draws the episodes (and the windows).
        window: If given, each step trains on one random window of this many steps of the
            chosen episodes, M starting from h = 0 there (truncated BPTT; cheaper on long
            episodes).
    """
    obs, act, nxt, rew, mask = data
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    n, length = obs.shape[0], obs.shape[1]
    for _ in range(steps):
        idx = torch.randint(0, n, (min(batch, n),), generator=generator)
        sl = slice(0, length)
        if window is not None and window < length:
            t0 = int(torch.randint(0, length - window + 1, (1,), generator=generator))
            sl = slice(t0, t0 + window)
        loss = model_loss(model, obs[idx, sl], act[idx, sl], nxt[idx, sl], rew[idx, sl],
                          mask[idx, sl], binary=binary)  # fmt: skip
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def controller_loss(
    model: RecurrentWorldModel,
    controller: RecurrentController,
    x0: Tensor,
    *,
    horizon: int,
    binary: bool,
    h0: Tensor | None = None,
) -> Tensor:
    """-mean J of C's rollouts through M: what C minimizes, M frozen.

    ``x0`` (N, n_obs) starts imagined rollouts of ``horizon`` steps; ``x0`` (N, L, n_obs) are
    recorded input sequences that C and M follow for ``min(L, horizon)`` steps.
    """
    if x0.dim() == 3:
        steps = min(horizon, x0.shape[1])
        rollout = imagine(model, controller, x0[:, 0], horizon=steps, h0=h0, inputs=x0)
    else:
        rollout = imagine(model, controller, x0, horizon=horizon, h0=h0)
    return -imagined_return(rollout.reward, binary=binary).mean()


def train_controller_through_model(
    model: RecurrentWorldModel,
    controller: RecurrentController,
    starts: Tensor,
    *,
    horizon: int,
    binary: bool,
    steps: int,
    lr: float,
    batch: int,
    generator: torch.Generator,
    start_states: Tensor | None = None,
) -> list[float]:
    """Train C by gradient descent through the frozen M (M's weights are not changed).

    Args:
        model: M (its parameters' ``requires_grad`` is restored afterwards).
        controller: C.
        starts: Recorded inputs to start imagined rollouts from, (S, n_obs), or recorded
            input sequences (S, L, n_obs) to follow (`controller_loss`).
        horizon: Imagined steps H.
        binary: Binary or real reinforcement (`imagined_return`).
        steps: Adam steps.
        lr: Adam's learning rate.
        batch: Starts per step.
        generator: Draws the starts.
        start_states: M's hidden states at those starts (S, hidden), or None for zeros.

    Returns:
        The loss (-mean J) per step.
    """
    flags = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)  # frozen M
    opt = torch.optim.Adam(controller.parameters(), lr=lr)
    losses = []
    try:
        for _ in range(steps):
            idx = torch.randint(0, starts.shape[0], (min(batch, starts.shape[0]),),
                                generator=generator)  # fmt: skip
            h0 = None if start_states is None else start_states[idx]
            loss = controller_loss(model, controller, starts[idx], horizon=horizon,
                                   binary=binary, h0=h0)  # fmt: skip
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    finally:
        for p, f in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(f)
    return losses


@torch.no_grad()
def plan_first_actions(
    model: RecurrentWorldModel,
    controller: RecurrentController | None,
    x: Tensor,
    h: Tensor,
    *,
    horizon: int,
    candidates: int,
    binary: bool,
    generator: torch.Generator,
    noise: float = 0.5,
) -> Tensor:
    """Look-ahead planning through M by random shooting: the best first action per state.

    For each of the N current inputs ``x`` (N, n_obs) with M's state ``h`` (N, hidden), the
    candidates are C's own imagined action sequence (when C is given), the same perturbed by
    Gaussian noise, and uniform random sequences in [-1, 1] (half each); all are scored by J in
    one batched rollout through M (N * candidates rollouts).

    Returns:
        The first action of the best sequence, (N, n_act).
    """
    if controller is not None and controller.squash != "tanh":
        raise RnnaiError("planning draws actions in [-1, 1]: it needs a tanh controller")
    n, k = x.shape[0], candidates
    n_act = model.n_act
    xs = x.repeat_interleave(k, 0)  # (N k, n_obs)
    hs = h.repeat_interleave(k, 0)
    acts = torch.rand(n * k, horizon, n_act, generator=generator, dtype=x.dtype) * 2 - 1
    if controller is not None:
        base = imagine(model, controller, x, horizon=horizon, h0=h).act  # (N, H, n_act)
        base = base.repeat_interleave(k, 0).view(n, k, horizon, n_act)
        eps = torch.randn(n, k, horizon, n_act, generator=generator, dtype=x.dtype) * noise
        eps[:, 0] = 0.0  # C's own plan is always a candidate
        guided = (base + eps).clamp(-1.0, 1.0).view(n * k, horizon, n_act)
        half = torch.arange(k).repeat(n) < (k + 1) // 2  # (N k,)
        acts = torch.where(half[:, None, None], guided, acts)
    rollout = imagine(model, None, xs, horizon=horizon, h0=hs, actions=acts)
    score = imagined_return(rollout.reward, binary=binary).view(n, k)
    best = score.argmax(1)  # (N,)
    return acts.view(n, k, horizon, n_act)[torch.arange(n), best, 0]
