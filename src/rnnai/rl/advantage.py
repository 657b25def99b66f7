"""RL-LSTM: Advantage(lambda) learning with an LSTM function approximator (Bakker 2002).

Citations:
    B. Bakker. Reinforcement learning with Long Short-Term Memory. Advances in Neural Information
    Processing Systems 14 (NIPS 2001), pp. 1475-1482, MIT Press, 2002 (RL-LSTM).
    L. C. Baird. Residual algorithms: reinforcement learning with function approximation. ICML
    1995 (advantage updating / advantage learning).
    M. E. Harmon and L. C. Baird. Multi-player residual advantage learning with general function
    approximation. Tech. report WL-TR-1065, Wright-Patterson AFB, 1996 (advantage learning with
    the scaling factor kappa, the form Bakker uses).

Advantage learning. The network outputs one advantage A(s, a) per action; the state value is
V(s) = max_a A(s, a). After action a_t in s_t with reward r_t the target error is (equation
numbers are ours)::

    E_t = V(s_t) + (r_t + gamma V(s_{t+1}) - V(s_t)) / kappa - A(s_t, a_t)          (Eq. 1)

with V(s_{t+1}) = 0 when the episode terminated. With kappa = 1 this is Q-learning; kappa < 1
widens the gaps between the actions' values (the optimal action keeps A = V, a worse one falls
by its loss divided by kappa), which makes them easier to represent with a noisy approximator.
Eligibility traces carry E_t back over the preceding steps (Advantage(lambda))::

    e_t = gamma lambda e_{t-1} + grad_w A(s_t, a_t),     Delta w = alpha E_t e_t        (Eq. 2)

In a recurrent net, grad_w A(s_t, a_t) is the gradient through the whole history s_0..s_t.

What we implement, and the deviations (each one a choice we state, not the paper's):

- **Offline traces, exactly.** We update the weights once per batch of episodes instead of after
  every step. With the weights held fixed over an episode, summing Eq. 2 over the episode gives
  sum_t E_t e_t = sum_k grad A(s_k, a_k) G_k with G_k = sum_{t>=k} (gamma lambda)^{t-k} E_t, so
  one backpropagation-through-time pass over the episode with the surrogate
  ``-sum_k G_k A(s_k, a_k)`` (G_k held constant) produces the accumulated trace update exactly
  (the equivalence of the forward and backward views of offline TD(lambda); Sutton & Barto,
  "Reinforcement Learning: An Introduction", 1998, Sec. 7.4).
  Bakker updated online, every step, with LSTM's truncated real-time gradient; our gradient is
  the full BPTT gradient, and with `AdvantageConfig.episodes_per_update` > 1 the updates of
  several episodes (collected with the same weights) are summed.
- **Optimizer.** Plain gradient ascent with step alpha is Eq. 2 (``optimizer="sgd"``); Adam
  (``"adam"``) is offered as a modern alternative and used by the experiment (stated there).
- **Exploration.** Boltzmann (softmax) action selection over A(s, .) with temperature tau.
  Bakker used "directed exploration" (per our reading of the paper, an extra network output that
  predicts the size of the TD error sets the temperature: exploration high where the values are
  still wrong, e.g. at the T-junction, low in the corridor); we did not implement it and did not
  verify its details. Since kappa scales the learned gaps between actions up by 1 / kappa, a
  fixed tau becomes nearly greedy where one action is clearly best (the corridor, once learned)
  and keeps exploring where the values are close (the junction, before the memory works).
- **Traces after exploratory actions** are not cut (Watkins-style cutting is not used): our
  reading of Bakker, not verified.

The network (`AdvantageNet`), after Bakker's "LSTM with a few memory cells plus standard hidden
units" (his T-maze net: 3 inputs, 3 memory cells, 12 standard hidden units; our reading, not
verified): a layer of ``hidden`` tanh units fed by the input, an LSTM layer of ``cells`` memory
cells (`rnnai.nn.lstm.LSTM`, variant ``"torch"`` = Gers 2000 forget-gate LSTM without peepholes,
which runs on torch's fused kernel), and a linear output per action fed by the hidden units, the
cell outputs and the input directly. The memoryless baseline is the same net with ``cells = 0``:
a reactive policy that sees only the current observation.

Examples:
    Eq. 1 for one step into the goal (reward 4, terminal): with A(s_0) = (1, 0) the error of
    action 1 is ``V + (r - V) / kappa - A = 1 + 3 / 0.5 - 0 = 7``; the trace weights of Eq. 2
    accumulate the later errors:

    >>> import torch
    >>> from rnnai.rl.advantage import advantage_errors, trace_weights
    >>> A = torch.tensor([[[1.0, 0.0]], [[0.0, 0.0]]])  # (T+1, B, n_actions)
    >>> E = advantage_errors(A, torch.tensor([[1]]), torch.tensor([[4.0]]), torch.tensor([1]),
    ...                      torch.tensor([True]), gamma=0.9, kappa=0.5)
    >>> E.tolist()
    [[7.0]]
    >>> trace_weights(torch.tensor([[1.0], [2.0]]), gamma=0.5, lam=0.5).tolist()
    [[1.5], [2.0]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor, nn

from rnnai.nn.lstm import LSTM, get_variant
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "AdvantageConfig",
    "AdvantageLearner",
    "AdvantageNet",
    "BatchEnv",
    "Episodes",
    "NetConfig",
    "advantage_errors",
    "boltzmann_sample",
    "trace_weights",
]


# --------------------------------------------------------------------------------- configs


@dataclass(frozen=True, kw_only=True)
class NetConfig:
    """The advantage network (defaults: Bakker's T-maze net as we read it)."""

    cells: int = 3
    """LSTM memory cells; 0 gives the memoryless (feedforward) baseline."""
    hidden: int = 12
    """Standard (feedforward tanh) hidden units fed by the input; 0 for none."""
    variant: str = "torch"
    """`rnnai.nn.lstm` variant of the memory cells ("torch" = forget gates, fused kernel)."""
    forget_gate_bias: float = 1.0
    """Initial forget-gate bias (ours: starts the cells remembering); ignored without f."""
    init_range: float = 0.1
    """Weights start uniform in [-init_range, init_range]."""

    def __post_init__(self) -> None:
        """Validate the fields and raise `RnnaiError` naming a bad one."""
        for name in ("cells", "hidden"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise RnnaiError(f"NetConfig.{name} must be an int >= 0, got {v!r}")
        try:
            get_variant(self.variant)
        except (TypeError, ValueError) as err:
            raise RnnaiError(f"NetConfig.variant: {err}") from err
        if not (isinstance(self.init_range, int | float) and 0 < self.init_range < 10):
            raise RnnaiError(f"NetConfig.init_range must be in (0, 10), got {self.init_range!r}")
        if not math.isfinite(self.forget_gate_bias):
            raise RnnaiError(
                f"NetConfig.forget_gate_bias must be finite, got {self.forget_gate_bias}"
            )

    @property
    def memoryless(self) -> bool:
        """True for the reactive baseline (no memory cells)."""
        return self.cells == 0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NetConfig:
        """Build from a dict (e.g. an experiment config); unknown keys raise `RnnaiError`."""
        return cls(**_known_fields(cls, d))


@dataclass(frozen=True, kw_only=True)
class AdvantageConfig:
    """Advantage(lambda) learning (defaults: Bakker's gamma, lambda, kappa; our optimizer)."""

    gamma: float = 0.98
    """Discount factor gamma."""
    lam: float = 0.8
    """Trace decay lambda."""
    kappa: float = 0.1
    """Advantage-learning scaling factor kappa in (0, 1] (1 = Q-learning)."""
    optimizer: str = "adam"
    """"sgd" (Eq. 2, step alpha = lr) or "adam"."""
    lr: float = 1e-3
    """Learning rate alpha."""
    temperature: float = 0.2
    """Boltzmann temperature tau of the behaviour policy."""
    episodes_per_update: int = 8
    """Episodes collected in parallel with the same weights, then one update."""
    grad_clip: float = 10.0
    """Clip the update's gradient norm to this (0 = no clipping)."""

    def __post_init__(self) -> None:
        """Validate the fields and raise `RnnaiError` naming a bad one."""
        checks = {
            "gamma": 0.0 <= self.gamma <= 1.0,
            "lam": 0.0 <= self.lam <= 1.0,
            "kappa": 0.0 < self.kappa <= 1.0,
            "lr": self.lr > 0.0,
            "temperature": self.temperature > 0.0,
            "grad_clip": self.grad_clip >= 0.0,
        }
        for name, ok in checks.items():
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and ok):
                raise RnnaiError(f"AdvantageConfig.{name} is out of range: {value!r}")
        if self.optimizer not in ("sgd", "adam"):
            raise RnnaiError(
                f"AdvantageConfig.optimizer must be 'sgd' or 'adam', got {self.optimizer!r}"
            )
        e = self.episodes_per_update
        if isinstance(e, bool) or not isinstance(e, int) or e < 1:
            raise RnnaiError(f"AdvantageConfig.episodes_per_update must be an int >= 1, got {e!r}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AdvantageConfig:
        """Build from a dict (e.g. an experiment config); unknown keys raise `RnnaiError`."""
        return cls(**_known_fields(cls, d))


def _known_fields(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    """``d`` if every key is a field of the dataclass ``cls``; else `RnnaiError` naming them."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise RnnaiError(f"unknown {cls.__name__} field(s) {unknown}; valid: {sorted(names)}")
    return d


# ------------------------------------------------------------------------------ core math


def advantage_errors(
    A: Tensor, actions: Tensor, rewards: Tensor, lengths: Tensor, terminated: Tensor,
    gamma: float, kappa: float,
) -> Tensor:  # fmt: skip
    """The advantage-learning errors E_t of Eq. 1 for a batch of episodes.

    Args:
        A: (T+1, B, n_actions) advantages of s_0..s_T (rows past an episode's end are ignored).
        actions: (T, B) int64 actions a_t.
        rewards: (T, B) rewards r_t.
        lengths: (B,) int64 episode lengths L_b (steps taken), 1 <= L_b <= T.
        terminated: (B,) bool: the episode ended in a terminal state (else it was truncated
            and V(s_L) bootstraps).
        gamma: Discount gamma.
        kappa: Scaling factor kappa.

    Returns:
        (T, B) errors E_t, zero for t >= L_b.
    """
    T = actions.shape[0]
    V = A.max(dim=-1).values  # (T+1, B)
    t = torch.arange(T, device=A.device).unsqueeze(1)  # (T, 1)
    is_last = t == (lengths - 1).unsqueeze(0)  # (T, B)
    V_next = V[1:].clone()  # (T, B): V(s_{t+1})
    V_next[is_last & terminated.unsqueeze(0)] = 0.0  # terminal: no future
    A_taken = A[:-1].gather(-1, actions.unsqueeze(-1)).squeeze(-1)  # (T, B)
    E = V[:-1] + (rewards + gamma * V_next - V[:-1]) / kappa - A_taken  # Eq. 1
    valid = t < lengths.unsqueeze(0)
    return torch.where(valid, E, torch.zeros_like(E))


def trace_weights(E: Tensor, gamma: float, lam: float) -> Tensor:
    """G_k = sum_{t >= k} (gamma lambda)^{t-k} E_t: the weight each step's gradient receives
    from the accumulated traces of Eq. 2 over an episode (E must be zero past its end).

    Args:
        E: (T, B) errors of `advantage_errors`.
        gamma: Discount gamma.
        lam: Trace decay lambda.

    Returns:
        (T, B) weights G.
    """
    G = torch.zeros_like(E)
    acc = torch.zeros_like(E[0])
    for k in range(E.shape[0] - 1, -1, -1):
        acc = E[k] + gamma * lam * acc
        G[k] = acc
    return G


def boltzmann_sample(A: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """Sample one action per row with probability proportional to exp(A / tau).

    Args:
        A: (B, n_actions) advantages.
        temperature: tau > 0.
        rng: The generator (one uniform draw per row).

    Returns:
        (B,) int64 actions.
    """
    z = (A - A.max(axis=1, keepdims=True)) / temperature
    p = np.exp(z)
    cdf = np.cumsum(p, axis=1)
    u = rng.random(A.shape[0]) * cdf[:, -1]
    return np.minimum((cdf < u[:, None]).sum(axis=1), A.shape[1] - 1).astype(np.int64)


# ------------------------------------------------------------------------------- network


class AdvantageNet(nn.Module):
    """Input -> [tanh hidden units, LSTM memory cells, the input itself] -> one A per action.

    Shapes: `forward` maps (L, N, n_obs) to (L, N, n_actions) (time-major); `step` maps one
    time step (N, n_obs) and a state to (N, n_actions) and the next state.
    """

    def __init__(
        self, n_obs: int, n_actions: int, cfg: NetConfig, generator: torch.Generator
    ) -> None:
        """Build and initialize the net.

        Args:
            n_obs: Observation size.
            n_actions: Number of discrete actions.
            cfg: The architecture.
            generator: Draws the initial weights (uniform in +-init_range).
        """
        super().__init__()
        self.cfg = cfg
        self.n_obs, self.n_actions = n_obs, n_actions
        self.hidden = nn.Linear(n_obs, cfg.hidden) if cfg.hidden else None
        self.lstm = LSTM(n_obs, cfg.cells, variant=cfg.variant) if cfg.cells else None
        self.head = nn.Linear(cfg.hidden + cfg.cells + n_obs, n_actions)  # + direct input
        with torch.no_grad():
            for p in self.parameters():
                p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * cfg.init_range)
            if self.lstm is not None and "f" in self.lstm.gate_slices:
                f = self.lstm.gate_slices["f"]
                self.lstm.get_parameter("bias_ih_l0")[f] = cfg.forget_gate_bias
                self.lstm.get_parameter("bias_hh_l0")[f] = 0.0

    def _features(self, x: Tensor, y: Tensor | None) -> Tensor:
        parts = [x]
        if self.hidden is not None:
            parts.append(torch.tanh(self.hidden(x)))
        if y is not None:
            parts.append(y)
        return torch.cat(parts, dim=-1)

    def forward(self, x: Tensor) -> Tensor:
        """(L, N, n_obs) -> (L, N, n_actions); the state starts at zero."""
        y = self.lstm(x)[0] if self.lstm is not None else None  # (L, N, cells)
        return self.head(self._features(x, y))

    def step(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None
    ) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        """One time step: (N, n_obs) and the previous state -> (N, n_actions) and the new state."""
        if self.lstm is None:
            return self.head(self._features(x, None)), None
        y, state = self.lstm(x.unsqueeze(0), state)  # (1, N, cells)
        return self.head(self._features(x, y[0])), state

    @torch.no_grad()
    def cell_trace(self, x: Tensor) -> Tensor | None:
        """Cell states c along one sequence, (L, N, cells), or None for the memoryless net."""
        if self.lstm is None:
            return None
        return self.lstm.trace(x)["c"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


class _NumpyActor:
    """`AdvantageNet.step` in float64 numpy for acting, for LSTMs with torch.nn.LSTM's math.

    Other LSTM variants fall back to the torch module (same results, slower).
    """

    def __init__(self, net: AdvantageNet, batch: int) -> None:
        self.net = net
        self.torch_state: tuple[Tensor, Tensor] | None = None
        sd = {k: v.detach().double().numpy() for k, v in net.state_dict().items()}
        self.fast = net.lstm is None or net.lstm.variant.is_torch_lstm
        n_hid = net.cfg.hidden
        self.n_hid = n_hid
        W_parts, b_parts = [], []
        if n_hid:
            W_parts.append(sd["hidden.weight"])
            b_parts.append(sd["hidden.bias"])
        H = net.cfg.cells
        self.H = H
        if H and self.fast:
            W_parts.append(sd["lstm.weight_ih_l0"])  # (4H, I), gates i, f, g, o
            b_parts.append(sd["lstm.bias_ih_l0"] + sd["lstm.bias_hh_l0"])
            self.R = sd["lstm.weight_hh_l0"].T.copy()  # (H, 4H)
            self.y = np.zeros((batch, H))
            self.c = np.zeros((batch, H))
        self.W = np.concatenate(W_parts).T.copy() if W_parts else None  # (I, hid + 4H)
        self.b = np.concatenate(b_parts) if b_parts else None
        self.head_W = sd["head.weight"].T.copy()  # (I + hid + H, n_actions)
        self.head_b = sd["head.bias"]

    def step(self, obs: np.ndarray) -> np.ndarray:
        """(B, n_obs) observations -> (B, n_actions) advantages; advances the cell state."""
        if not self.fast:
            with torch.no_grad():
                A, self.torch_state = self.net.step(torch.from_numpy(obs).float(), self.torch_state)
            return A.double().numpy()
        parts = [obs]
        if self.W is not None and self.b is not None:  # None: no hidden units and no cells
            pre = obs @ self.W + self.b  # (B, hid + 4H)
            if self.n_hid:
                parts.append(np.tanh(pre[:, : self.n_hid]))
            if self.H:
                H = self.H
                a = pre[:, self.n_hid :] + self.y @ self.R  # (B, 4H)
                i = _sigmoid(a[:, :H])
                f = _sigmoid(a[:, H : 2 * H])
                g = np.tanh(a[:, 2 * H : 3 * H])
                o = _sigmoid(a[:, 3 * H :])
                self.c = f * self.c + i * g
                self.y = o * np.tanh(self.c)
                parts.append(self.y)
        return np.concatenate(parts, axis=1) @ self.head_W + self.head_b


# ------------------------------------------------------------------------------- learner


class BatchEnv(Protocol):
    """What `AdvantageLearner.collect` needs of a batched environment (e.g. `TMazeBatch`).

    ``alive`` (P,) bool is False once an episode ended; ``steps`` (P,) counts its steps; `step`
    returns per-episode terminated/truncated flags that are True on the step it ends, and
    ignores the actions of finished episodes (whose rewards are 0).
    """

    alive: np.ndarray
    steps: np.ndarray

    @property
    def size(self) -> int:
        """Number of parallel episodes."""
        ...

    def reset(self, goals: Any = None, rng: np.random.Generator | None = None) -> np.ndarray:
        """Start all episodes; return (P, n_obs) observations."""
        ...

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Step all running episodes: (obs, reward, terminated, truncated)."""
        ...


@dataclass
class Episodes:
    """A batch of B episodes run side by side (time-major, padded past each end).

    Attributes:
        obs: (T+1, B, n_obs) float32 observations s_0..s_T.
        actions: (T, B) int64.
        rewards: (T, B) float32.
        lengths: (B,) int64 steps taken per episode.
        terminated: (B,) bool (False: truncated).
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    lengths: np.ndarray
    terminated: np.ndarray

    @property
    def returns(self) -> np.ndarray:
        """Undiscounted return of each episode, (B,)."""
        return self.rewards.sum(axis=0)


class AdvantageLearner:
    """Advantage(lambda) learning with an `AdvantageNet` (see the module docstring).

    Args:
        n_obs: Observation size.
        n_actions: Number of actions.
        net: Architecture (``cells = 0``: memoryless baseline).
        cfg: Learning constants.
        generator: Draws the initial weights.
    """

    def __init__(
        self,
        n_obs: int,
        n_actions: int,
        net: NetConfig,
        cfg: AdvantageConfig,
        generator: torch.Generator,
    ) -> None:
        self.cfg = cfg
        self.net = AdvantageNet(n_obs, n_actions, net, generator)
        params = self.net.parameters()
        if cfg.optimizer == "sgd":
            self.opt: torch.optim.Optimizer = torch.optim.SGD(params, lr=cfg.lr)
        else:
            self.opt = torch.optim.Adam(params, lr=cfg.lr)

    @torch.no_grad()
    def collect(
        self, env: BatchEnv, rng: np.random.Generator, greedy: bool = False, goals: Any = None
    ) -> Episodes:
        """Run ``env.size`` episodes side by side with the current weights.

        Acting runs on `_NumpyActor`, a float64 numpy copy of the net (a torch call per time
        step costs more than the whole step in numpy for nets this small); the update recomputes
        every A(s, a) with torch.

        Args:
            env: The batched environment; it is reset here.
            rng: Draws the goals (if ``goals`` is None) and the Boltzmann actions.
            greedy: Take argmax_a A(s, a) instead of sampling.
            goals: Passed to ``env.reset`` (e.g. a fixed cue per episode).

        Returns:
            The episodes (they end when all have terminated or been truncated).
        """
        obs = env.reset(goals=goals, rng=rng) if goals is not None else env.reset(rng=rng)
        actor = _NumpyActor(self.net, env.size)
        obs_seq, act_seq, rew_seq = [obs], [], []
        terminated = np.zeros(env.size, dtype=np.bool_)
        while env.alive.any():
            A = actor.step(obs)
            if greedy:
                a = A.argmax(axis=1).astype(np.int64)
            else:
                a = boltzmann_sample(A, self.cfg.temperature, rng)
            obs, r, term, _ = env.step(a)
            terminated |= term
            obs_seq.append(obs)
            act_seq.append(a)
            rew_seq.append(r)
        return Episodes(
            obs=np.stack(obs_seq).astype(np.float32),
            actions=np.stack(act_seq),
            rewards=np.stack(rew_seq).astype(np.float32),
            lengths=env.steps.copy(),
            terminated=terminated,
        )

    def update(self, ep: Episodes) -> dict[str, float]:
        """One Advantage(lambda) update from a batch of episodes (offline traces, Eq. 1-2).

        Args:
            ep: Episodes collected with the current weights.

        Returns:
            ``{"td_abs": mean |E_t| over the valid steps}``.
        """
        c = self.cfg
        A = self.net(torch.from_numpy(ep.obs))  # (T+1, B, n_actions)
        actions = torch.from_numpy(ep.actions)
        lengths = torch.from_numpy(ep.lengths)
        with torch.no_grad():
            E = advantage_errors(
                A, actions, torch.from_numpy(ep.rewards), lengths,
                torch.from_numpy(ep.terminated), c.gamma, c.kappa,
            )  # fmt: skip
            G = trace_weights(E, c.gamma, c.lam)  # (T, B)
        A_taken = A[:-1].gather(-1, actions.unsqueeze(-1)).squeeze(-1)  # (T, B)
        surrogate = -(G * A_taken).sum() / ep.lengths.shape[0]  # grad = -mean_b sum_k G_k dA_k
        self.opt.zero_grad(set_to_none=True)
        surrogate.backward()
        if c.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.net.parameters(), c.grad_clip)
        self.opt.step()
        n_valid = max(int(ep.lengths.sum()), 1)
        return {"td_abs": float(E.abs().sum()) / n_valid}

    def state_dict(self) -> dict[str, Any]:
        """Network and optimizer state (for checkpoints)."""
        return {"net": self.net.state_dict(), "opt": self.opt.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
