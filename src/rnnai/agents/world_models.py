"""World Models: a convolutional VAE (V), an MDN-RNN (M) and a linear controller (C).

Citation:
    D. Ha and J. Schmidhuber. Recurrent world models facilitate policy evolution. Advances in
    Neural Information Processing Systems 31 (NeurIPS 2018), pp. 2450-2462; the longer version
    "World Models", arXiv:1803.10122, 2018, https://worldmodels.github.io.

The agent (the paper's symbols)::

    V:  z_t ~ q(z | o_t) = N(mu(o_t), diag(sigma(o_t)^2))          o_t: 64x64x3 frame, z: 32
        loss = ||o - o_hat(z)||^2 + max(KL(q || N(0, I)), kl_floor)   (reconstruction + KL)
    M:  h_t = LSTM([z_t, a_t], h_{t-1})                               256 units
        P(z_{t+1} | a_t, z_t, h_t) = prod_i sum_k pi_ik N(z_{t+1,i}; mu_ik, sigma_ik)  K = 5
        at temperature tau: pi_k ∝ exp(log pi_k / tau), sigma_ik -> sigma_ik sqrt(tau)
    C:  a_t = W_c [z_t, h_t] + b_c                                   (32 + 256) * 3 + 3 = 867

`ConvVAE` has the paper's layers: four 4x4 stride-2 convolutions with 32, 64, 128, 256 ReLU
channels (64 -> 31 -> 14 -> 6 -> 2, flattened to 1,024), linear maps to mu and log sigma^2;
the decoder maps z to a 1,024-vector seen as a 1x1 image and four transposed convolutions of
kernel 5, 5, 6, 6 (stride 2; 128, 64, 32 ReLU channels, then 3 sigmoid channels: 1 -> 5 -> 13
-> 30 -> 64). That is 4,348,547 weights; `MDNRNN` at the CarRacing size (inputs z and a, 35;
256 units; 5 x 3 x 32 mixture outputs) has 422,368 weights with one bias vector per LSTM gate
(PyTorch's LSTM keeps two, so `MDNRNN.n_params` is 1,024 more: 423,392). Both counts follow from
the layer sizes; the layer sizes come from our reading of the paper's appendix and of the
authors' public code (the kernel sizes and the two counts could not be re-checked against the
paper's text here; the 64x64x3 frames, z of 32, 256 LSTM units, 5 mixtures and the 867-weight C
were checked against secondary summaries). `controller_dim` gives C's size,
`controller_actions` evaluates a whole population of controllers at once.

Data. `RolloutData` holds frames (uint8), actions, rewards and episode ends of many episodes;
`save_rollouts` / `load_rollouts` store it as one compressed ``.npz`` (never a pickle: it is read
with ``allow_pickle=False``).

Batched dreaming. `DreamEnv` rolls M out for N agents at once (a whole CMA-ES population times
its rollouts): one LSTM step and one mixture sample per time step for all of them. Its noise
(mixture choice, Gaussian noise, episode ends) is drawn beforehand per agent (`DreamNoise`) from
a seed, so that the dream of one genome does not depend on which other genomes share the batch
(the property that makes Ray evaluation equal to in-process evaluation).

`DodgeEnv` is a small pixel environment of ours in the spirit of the paper's VizDoom
"take cover" task (survive as long as possible by moving left or right out of the way of falling
fireballs), batched in numpy, for the dream experiment that must finish on two CPU cores.

Deviations and choices where the paper is silent (all ours):

* the KL term is floored at ``kl_floor`` nats per frame (the authors' code keeps a "KL
  tolerance" of 0.5 per latent dimension, as far as we could check: not re-verified);
* M is trained on z sampled from V's posterior for each minibatch (as in the paper), on windows
  of ``seq_len`` steps of the episodes; optionally it also predicts the episode's end (the
  paper's Doom model does; CarRacing's does not);
* C's actions for CarRacing are squashed as steering tanh(y_1), gas (tanh(y_2) + 1) / 2,
  brake max(0, tanh(y_3)) (the authors' code as we read it: unverified); for `DodgeEnv` the one
  output is tanh(y) and moves left below -1/3, right above 1/3 (as in the paper's Doom C);
* during real rollouts C reads mu of V's posterior (no sampling);
* in the dream an episode ends when a Bernoulli draw with M's predicted end probability says so
  (or at the step limit); the reward is 1 per step survived, as in the take-cover task.

Examples:
    >>> import torch
    >>> V = ConvVAE(VAEConfig(channels=(4, 4, 4, 4), z_dim=3))
    >>> mu, logvar = V.encode(torch.zeros(2, 3, 64, 64))
    >>> tuple(mu.shape), tuple(V.decode(mu).shape)
    ((2, 3), (2, 3, 64, 64))
    >>> ConvVAE(VAEConfig()).n_params, MDNRNN(MDNRNNConfig()).n_params, controller_dim(32, 256, 3)
    (4348547, 423392, 867)
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "PAPER_CONTROLLER_PARAMS",
    "PAPER_M_PARAMS",
    "PAPER_V_PARAMS",
    "ConvVAE",
    "DodgeConfig",
    "DodgeEnv",
    "DreamEnv",
    "DreamNoise",
    "MDNRNN",
    "MDNRNNConfig",
    "RolloutData",
    "VAEConfig",
    "carracing_frames",
    "collect_carracing",
    "controller_actions",
    "controller_dim",
    "dodge_moves",
    "drive_carracing",
    "encode_frames",
    "eval_seeds",
    "frames_to_tensor",
    "genome_seeds",
    "load_rollouts",
    "mdn_epoch",
    "mdn_nll",
    "random_car_actions",
    "sample_mdn",
    "save_rollouts",
    "sequence_windows",
    "vae_epoch",
    "vae_loss",
]

PAPER_V_PARAMS = 4_348_547
"""Weights of V at the paper's layer sizes (`ConvVAE` with `VAEConfig()`)."""
PAPER_M_PARAMS = 422_368
"""Weights of the CarRacing M with one bias per LSTM gate (`MDNRNN.n_params` minus 4 x 256)."""
PAPER_CONTROLLER_PARAMS = 867
"""Weights of the CarRacing C: (32 + 256) * 3 + 3."""


# ----------------------------------------------------------------------------- V
@dataclass(frozen=True, kw_only=True)
class VAEConfig:
    """The convolutional VAE's sizes (defaults: the paper's)."""

    z_dim: int = 32
    """Latent size."""
    channels: tuple[int, int, int, int] = (32, 64, 128, 256)
    """Channels of the four encoder convolutions; the decoder uses the first three reversed."""
    kl_floor: float = 16.0
    """The KL term is max(KL, kl_floor) nats per frame (0.5 per latent dimension at z = 32)."""

    def __post_init__(self) -> None:
        """Validate the fields."""
        if isinstance(self.z_dim, bool) or not isinstance(self.z_dim, int) or self.z_dim < 1:
            raise RnnaiError(f"VAEConfig.z_dim must be an int >= 1, got {self.z_dim!r}")
        ch = tuple(self.channels)
        if len(ch) != 4 or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in ch):
            raise RnnaiError(f"VAEConfig.channels must be 4 ints >= 1, got {self.channels!r}")
        if not self.kl_floor >= 0:
            raise RnnaiError(f"VAEConfig.kl_floor must be >= 0, got {self.kl_floor}")


class ConvVAE(nn.Module):
    """V: the paper's convolutional VAE on 64x64x3 frames.

    Args:
        config: The sizes.

    Shapes: frames ``(N, 3, 64, 64)`` in [0, 1]; ``mu``, ``logvar``, ``z``: ``(N, z_dim)``.
    """

    def __init__(self, config: VAEConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else VAEConfig()
        c1, c2, c3, c4 = self.config.channels
        z = self.config.z_dim
        self.enc = nn.ModuleList(
            [nn.Conv2d(a, b, 4, stride=2) for a, b in ((3, c1), (c1, c2), (c2, c3), (c3, c4))]
        )
        self.flat = 4 * c4  # 2 x 2 x c4 after the four convolutions
        self.fc_mu = nn.Linear(self.flat, z)
        self.fc_logvar = nn.Linear(self.flat, z)
        self.fc_dec = nn.Linear(z, self.flat)
        self.dec = nn.ModuleList(
            [
                nn.ConvTranspose2d(self.flat, c3, 5, stride=2),
                nn.ConvTranspose2d(c3, c2, 5, stride=2),
                nn.ConvTranspose2d(c2, c1, 6, stride=2),
                nn.ConvTranspose2d(c1, 3, 6, stride=2),
            ]
        )

    @property
    def n_params(self) -> int:
        """Number of weights."""
        return sum(p.numel() for p in self.parameters())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior parameters ``(mu, log sigma^2)`` of frames ``x`` (N, 3, 64, 64)."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (3, 64, 64):
            raise RnnaiError(f"V expects frames of shape (N, 3, 64, 64), got {tuple(x.shape)}")
        h = x
        for conv in self.enc:
            h = F.relu(conv(h))
        h = h.flatten(1)  # (N, 4 * c4)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstructed frames (N, 3, 64, 64) in [0, 1] from latents (N, z_dim)."""
        h = self.fc_dec(z).view(-1, self.flat, 1, 1)  # (N, flat, 1, 1)
        for k, deconv in enumerate(self.dec):
            h = deconv(h)
            h = torch.sigmoid(h) if k == len(self.dec) - 1 else F.relu(h)
        return h

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode, sample z = mu + sigma * eps (reparametrization), decode.

        Returns:
            ``(reconstruction, mu, logvar)``.
        """
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decode(z), mu, logvar


def vae_loss(
    x: torch.Tensor, recon: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, kl_floor: float
) -> torch.Tensor:
    """Mean over the batch of the summed squared error plus the floored KL divergence.

    ``KL(N(mu, sigma^2) || N(0, I)) = -1/2 sum_i (1 + log sigma_i^2 - mu_i^2 - sigma_i^2)``.

    Args:
        x: Frames (N, 3, 64, 64).
        recon: Reconstructions, same shape.
        mu: (N, z).
        logvar: (N, z).
        kl_floor: The KL term is ``max(KL, kl_floor)`` per frame.

    Returns:
        A scalar.
    """
    rec = ((x - recon) ** 2).flatten(1).sum(dim=1)  # (N,)
    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)  # (N,)
    return (rec + torch.clamp(kl, min=kl_floor)).mean()


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 frames (N, 64, 64, 3) -> float32 tensor (N, 3, 64, 64) in [0, 1]."""
    f = np.asarray(frames)
    if f.ndim != 4 or f.shape[1:] != (64, 64, 3) or f.dtype != np.uint8:
        raise RnnaiError(f"frames must be uint8 of shape (N, 64, 64, 3), got {f.shape} {f.dtype}")
    return torch.from_numpy(f).permute(0, 3, 1, 2).float().div_(255.0)


def _box(n_in: int, n_out: int) -> np.ndarray:
    s = n_in / n_out
    lo = np.arange(n_out)[:, None] * s
    j = np.arange(n_in)[None, :]
    return (np.clip(np.minimum(lo + s, j + 1) - np.maximum(lo, j), 0.0, None) / s).astype(
        np.float32
    )


CROP_ROWS = 84
"""Rows of CarRacing's 96x96 frame kept for V (the bottom 12 show the dashboard)."""


def carracing_frames(raw: np.ndarray) -> np.ndarray:
    """CarRacing frames (P, 96, 96, 3) uint8 -> V's frames (P, 64, 64, 3) uint8.

    The dashboard rows are cut (`CROP_ROWS` kept) and the rest area-averaged to 64x64, all
    frames of a population in two matrix products.
    """
    f = np.asarray(raw)
    if f.ndim != 4 or f.shape[1:] != (96, 96, 3) or f.dtype != np.uint8:
        raise RnnaiError(f"raw frames must be uint8 of shape (P, 96, 96, 3), got {f.shape}")
    x = f[:, :CROP_ROWS].astype(np.float32).transpose(0, 3, 1, 2)  # (P, 3, 84, 96)
    y = _box(CROP_ROWS, 64) @ x @ _box(96, 64).T  # (P, 3, 64, 64)
    return np.clip(np.rint(y), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


# ----------------------------------------------------------------------------- M
@dataclass(frozen=True, kw_only=True)
class MDNRNNConfig:
    """The MDN-RNN's sizes (defaults: the paper's CarRacing M)."""

    z_dim: int = 32
    """Latent size."""
    action_dim: int = 3
    """Action size."""
    hidden: int = 256
    """LSTM units."""
    mixtures: int = 5
    """Gaussians per latent dimension."""
    predict_done: bool = False
    """Also predict the episode's end (a logit from h; the paper's Doom M)."""

    def __post_init__(self) -> None:
        """Validate the fields."""
        for name in ("z_dim", "action_dim", "hidden", "mixtures"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise RnnaiError(f"MDNRNNConfig.{name} must be an int >= 1, got {v!r}")


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class MDNRNN(nn.Module):
    """M: an LSTM whose output is a mixture of Gaussians per latent dimension.

    Args:
        config: The sizes.

    Shapes (``batch_first``): ``z`` (N, L, z_dim), ``a`` (N, L, action_dim); outputs
    ``log_pi``, ``mu``, ``log_sigma`` (N, L, z_dim, K), ``done_logit`` (N, L) or None, and the
    LSTM state ``(h, c)``, each (1, N, hidden).
    """

    def __init__(self, config: MDNRNNConfig | None = None) -> None:
        super().__init__()
        self.config = c = config if config is not None else MDNRNNConfig()
        self.lstm = nn.LSTM(c.z_dim + c.action_dim, c.hidden, batch_first=True)
        self.mdn = nn.Linear(c.hidden, 3 * c.mixtures * c.z_dim)
        self.done = nn.Linear(c.hidden, 1) if c.predict_done else None

    @property
    def n_params(self) -> int:
        """Number of weights."""
        return sum(p.numel() for p in self.parameters())

    def initial_state(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero LSTM state for ``n`` sequences."""
        zeros = torch.zeros(1, n, self.config.hidden)
        return zeros, zeros.clone()

    def forward(
        self,
        z: torch.Tensor,
        a: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[
        torch.Tensor,
        torch.Tensor,
        torch.Tensor,
        torch.Tensor | None,
        tuple[torch.Tensor, torch.Tensor],
        torch.Tensor,
    ]:
        """Run M over sequences.

        Returns:
            ``(log_pi, mu, log_sigma, done_logit, state, h)`` with ``h`` the LSTM outputs
            (N, L, hidden) (``h_t`` after reading ``z_t, a_t``).
        """
        c = self.config
        if z.ndim != 3 or z.shape[-1] != c.z_dim or a.shape[:2] != z.shape[:2]:
            raise RnnaiError(
                f"M expects z (N, L, {c.z_dim}) and a (N, L, {c.action_dim}), "
                f"got {tuple(z.shape)} and {tuple(a.shape)}"
            )
        h, state = self.lstm(torch.cat([z, a], dim=-1), state)  # (N, L, hidden)
        out = self.mdn(h).view(*h.shape[:2], c.z_dim, 3, c.mixtures)  # (N, L, Z, 3, K)
        logits, mu, log_sigma = out.unbind(dim=3)  # each (N, L, Z, K)
        log_pi = torch.log_softmax(logits, dim=-1)
        done = self.done(h).squeeze(-1) if self.done is not None else None  # (N, L)
        return log_pi, mu, log_sigma, done, state, h


def mdn_nll(
    z_next: torch.Tensor, log_pi: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor
) -> torch.Tensor:
    """Negative log-likelihood of ``z_next`` under the factored mixture, per latent dimension.

    ``-log sum_k pi_k N(z; mu_k, sigma_k)``, averaged over every dimension of every step.

    Args:
        z_next: (..., Z) targets.
        log_pi: (..., Z, K) log mixture weights (normalized over K).
        mu: (..., Z, K) component means.
        log_sigma: (..., Z, K) component log standard deviations.

    Returns:
        A scalar.
    """
    zt = z_next.unsqueeze(-1)  # (..., Z, 1)
    log_n = -0.5 * ((zt - mu) / log_sigma.exp()) ** 2 - log_sigma - LOG_SQRT_2PI
    return -torch.logsumexp(log_pi + log_n, dim=-1).mean()


def sample_mdn(
    log_pi: torch.Tensor,
    mu: torch.Tensor,
    log_sigma: torch.Tensor,
    tau: float,
    uniform: torch.Tensor,
    normal: torch.Tensor,
) -> torch.Tensor:
    """Draw z from the mixture at temperature ``tau`` with given noise.

    ``pi_k ∝ exp(log pi_k / tau)``; the component is the first k whose cumulative weight
    exceeds ``uniform``; ``z = mu_k + sigma_k sqrt(tau) normal``. ``tau = 0`` takes the most
    likely component's mean.

    Args:
        log_pi: (N, Z, K) log mixture weights.
        mu: (N, Z, K) component means.
        log_sigma: (N, Z, K) component log standard deviations.
        tau: Temperature (>= 0).
        uniform: (N, Z) in [0, 1).
        normal: (N, Z) standard normal.

    Returns:
        (N, Z).
    """
    if tau < 0:
        raise RnnaiError(f"temperature tau must be >= 0, got {tau}")
    if tau == 0:
        k = log_pi.argmax(dim=-1, keepdim=True)
        return mu.gather(-1, k).squeeze(-1)
    pi = torch.softmax(log_pi / tau, dim=-1)  # (N, Z, K)
    cdf = pi.cumsum(dim=-1)
    k = (cdf < uniform.unsqueeze(-1)).sum(dim=-1, keepdim=True).clamp(max=pi.shape[-1] - 1)
    m = mu.gather(-1, k).squeeze(-1)  # (N, Z)
    s = log_sigma.gather(-1, k).squeeze(-1).exp()
    return m + s * math.sqrt(tau) * normal


# ----------------------------------------------------------------------------- C
def controller_dim(z_dim: int, hidden: int, action_dim: int) -> int:
    """Weights of the linear controller on [z, h] (``hidden = 0``: on z only)."""
    return (z_dim + hidden) * action_dim + action_dim


def controller_actions(genomes: np.ndarray, features: np.ndarray, squash: str) -> np.ndarray:
    """C for a population: ``a = squash(W [z, h] + b)``, each row its own controller.

    Args:
        genomes: (P, A * F + A): W (A, F) row by row, then b (A).
        features: (P, F) ``[z, h]`` of each controller's own rollout.
        squash: ``"car"`` (steer tanh, gas (tanh + 1) / 2, brake max(0, tanh)) or ``"tanh"``.

    Returns:
        (P, A) actions.
    """
    g = np.asarray(genomes, dtype=np.float64)
    x = np.asarray(features, dtype=np.float64)
    P, Fdim = x.shape
    A = g.shape[1] // (Fdim + 1)
    if g.shape != (P, A * Fdim + A) or A < 1:
        raise RnnaiError(
            f"genomes must have shape ({P}, A * {Fdim} + A) for features {x.shape}, got {g.shape}"
        )
    W = g[:, : A * Fdim].reshape(P, A, Fdim)  # (P, A, F)
    y = np.tanh(np.einsum("paf,pf->pa", W, x) + g[:, A * Fdim :])  # (P, A)
    if squash == "tanh":
        return y
    if squash == "car":
        if A != 3:
            raise RnnaiError(f"the car squash needs 3 outputs, got {A}")
        return np.stack([y[:, 0], (y[:, 1] + 1.0) / 2.0, np.maximum(y[:, 2], 0.0)], axis=1)
    raise RnnaiError(f"squash must be 'car' or 'tanh', got {squash!r}")


def dodge_moves(y: np.ndarray) -> np.ndarray:
    """Controller outputs in [-1, 1] -> moves -1 (left), 0, +1 (right), thresholds -+1/3."""
    v = np.asarray(y, dtype=np.float64)
    return (v > 1.0 / 3.0).astype(np.int64) - (v < -1.0 / 3.0).astype(np.int64)


# ----------------------------------------------------------------------------- seeds
def genome_seeds(genome: np.ndarray, n: int, salt: str = "") -> np.ndarray:
    """``n`` training seeds of one genome: even numbers from a hash of its bytes.

    Every evaluation of a genome sees the same episodes (the fitness is deterministic) and
    different genomes see different ones (as the paper's random rollouts); evaluation uses odd
    seeds (`eval_seeds`), so training and evaluation episodes never coincide.
    """
    digest = hashlib.sha256(
        np.ascontiguousarray(genome, dtype=np.float64).tobytes() + salt.encode()
    ).digest()
    base = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    return 2 * base.integers(0, 2**30, size=n)


def eval_seeds(n: int, offset: int = 0) -> np.ndarray:
    """``n`` held-out seeds: odd numbers ``2 (offset + i) + 1``."""
    return 2 * (offset + np.arange(n, dtype=np.int64)) + 1


# ----------------------------------------------------------------------------- data
@dataclass
class RolloutData:
    """Episodes of frames, actions, rewards and ends, concatenated.

    Attributes:
        frames: (T, 64, 64, 3) uint8, the frame seen before each action.
        actions: (T, A) float32.
        rewards: (T,) float32, the reward after each action.
        dones: (T,) bool, whether the episode ended after the action.
        starts: (E,) int64 index of each episode's first step.
        seeds: (E,) int64 the episodes' seeds.
    """

    frames: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    starts: np.ndarray
    seeds: np.ndarray

    def episodes(self) -> list[tuple[int, int]]:
        """``(start, stop)`` of each episode."""
        stops = [*self.starts[1:].tolist(), len(self.frames)]
        return list(zip(self.starts.tolist(), stops, strict=True))


def save_rollouts(path: Path | str, data: RolloutData) -> None:
    """Store rollouts as one compressed ``.npz`` (numpy arrays only)."""
    np.savez_compressed(
        Path(path),
        frames=data.frames,
        actions=data.actions,
        rewards=data.rewards,
        dones=data.dones,
        starts=data.starts,
        seeds=data.seeds,
    )


def load_rollouts(path: Path | str) -> RolloutData:
    """Read rollouts stored by `save_rollouts` (pickles are refused)."""
    with np.load(Path(path), allow_pickle=False) as f:
        return RolloutData(**{k: f[k] for k in ("frames", "actions", "rewards", "dones",
                                                 "starts", "seeds")})  # fmt: skip


# ----------------------------------------------------------------------------- the dream
@dataclass
class DreamNoise:
    """Pre-drawn noise of N dreams for T steps.

    Attributes:
        uniform: (T, N, Z) mixture choices.
        normal: (T, N, Z) Gaussian noise.
        done: (T, N) uniforms compared with the end probability.
    """

    uniform: torch.Tensor
    normal: torch.Tensor
    done: torch.Tensor

    @classmethod
    def draw(cls, seeds: np.ndarray, steps: int, z_dim: int) -> DreamNoise:
        """One generator per seed, so that a dream depends only on its own seed."""
        parts = []
        for s in np.asarray(seeds).tolist():
            g = np.random.default_rng(int(s))
            parts.append(
                (g.random((steps, z_dim)), g.standard_normal((steps, z_dim)), g.random(steps))
            )
        u, n, d = (np.stack([p[i] for p in parts], axis=1) for i in range(3))
        return cls(
            torch.from_numpy(u).float(), torch.from_numpy(n).float(), torch.from_numpy(d).float()
        )


class DreamEnv:
    """M's dream of N episodes at once: z_{t+1} and the episode's end sampled from M.

    Args:
        model: A trained `MDNRNN` with ``predict_done`` (episodes end only at ``steps``
            otherwise).
        z0: (N, Z) first latents (e.g. V's encoding of real first frames).
        tau: The temperature.
        noise: The pre-drawn noise (`DreamNoise.draw`), at least ``steps`` long.
        steps: The step limit.

    After `step`, ``alive`` says which dreams are still running; the reward is 1 per step
    survived (the take-cover task).
    """

    def __init__(
        self, model: MDNRNN, z0: torch.Tensor, tau: float, noise: DreamNoise, steps: int
    ) -> None:
        if noise.uniform.shape[0] < steps or noise.uniform.shape[1] != z0.shape[0]:
            raise RnnaiError(
                f"dream noise of shape {tuple(noise.uniform.shape)} does not cover {steps} steps "
                f"of {z0.shape[0]} dreams"
            )
        self.model, self.tau, self.noise, self.steps = model, float(tau), noise, int(steps)
        self.z = z0.float().clone()
        self.state = model.initial_state(z0.shape[0])
        self.alive = torch.ones(z0.shape[0], dtype=torch.bool)
        self.t = 0

    @property
    def features(self) -> np.ndarray:
        """``[z_t, h_t]`` (N, Z + hidden) that C reads."""
        return torch.cat([self.z, self.state[0][0]], dim=1).double().numpy()

    @torch.no_grad()
    def step(self, actions: np.ndarray) -> np.ndarray:
        """Advance every dream by one step.

        Args:
            actions: (N, action_dim) actions as M was trained on them.

        Returns:
            (N,) rewards: 1 for each dream alive before this step, else 0.
        """
        a = torch.as_tensor(np.asarray(actions), dtype=torch.float32).view(self.z.shape[0], -1)
        log_pi, mu, log_sigma, done, self.state, _ = self.model(
            self.z[:, None], a[:, None], self.state
        )
        t = self.t
        z = sample_mdn(log_pi[:, 0], mu[:, 0], log_sigma[:, 0], self.tau,
                       self.noise.uniform[t], self.noise.normal[t])  # fmt: skip
        reward = self.alive.double().numpy().copy()
        self.z = z
        ended = torch.zeros_like(self.alive)
        if done is not None:
            ended = self.noise.done[t] < torch.sigmoid(done[:, 0])
        self.t += 1
        if self.t >= self.steps:
            ended = torch.ones_like(self.alive)
        self.alive = self.alive & ~ended
        return reward


# ----------------------------------------------------------------------------- DodgeEnv
@dataclass(frozen=True, kw_only=True)
class DodgeConfig:
    """The dodge task's geometry (positions in [0, 1], x left to right, y top to bottom)."""

    balls: int = 2
    """Fireballs falling at once (staggered)."""
    speed: float = 0.05
    """A fireball's fall per step."""
    agent_half: float = 0.1
    """Half the agent's width."""
    ball_half: float = 0.1
    """Half a fireball's width."""
    move: float = 0.08
    """The agent's move per step."""
    max_steps: int = 100
    """Steps before the episode is cut (the score is the steps survived)."""


class DodgeEnv:
    """Survive falling fireballs by moving left or right: N episodes at once, from pixels.

    Description: the agent stands on the bottom row; fireballs fall from random columns; the
    episode ends when one touches the agent (a small stand-in for the paper's VizDoom take-cover
    task, where fireballs fly at the agent).

    Action Space: (N,) ints -1 (left), 0 (stay), +1 (right).

    Observation Space: (N, 64, 64, 3) uint8 frames: a dark blue background, the agent a green bar
    at the bottom, fireballs orange squares.

    Rewards: 1 per step survived.

    Starting State: agent in the middle; fireball k at height ``-k / balls`` (staggered) in a
    random column. Each episode's randomness comes from its own seed.

    Episode End: a fireball overlaps the agent (terminated) or ``max_steps`` steps (truncated).

    Version History: v0, first version.

    Args:
        seeds: (N,) one seed per episode.
        config: The geometry.
    """

    AGENT_Y = 0.9
    """Top of the agent's band."""

    def __init__(self, seeds: np.ndarray, config: DodgeConfig | None = None) -> None:
        self.config = c = config if config is not None else DodgeConfig()
        self.seeds = np.asarray(seeds, dtype=np.int64)
        n = len(self.seeds)
        # Each episode's column draws, pre-drawn from its own seed (enough for max_steps).
        per = c.balls * (1 + int(c.max_steps * c.speed) + 2)
        self._cols = np.stack(
            [np.random.default_rng(int(s)).uniform(0.05, 0.95, per) for s in self.seeds]
        )  # (N, per)
        self._used = np.zeros(n, dtype=np.int64)
        self.x = np.full(n, 0.5)
        k = np.arange(c.balls)
        self.by = np.tile(-k / c.balls, (n, 1))  # (N, B)
        self.bx = self._draw(np.ones((n, c.balls), dtype=bool))
        self.alive = np.ones(n, dtype=bool)
        self.t = 0

    def _draw(self, mask: np.ndarray) -> np.ndarray:
        n, b = mask.shape
        out = np.zeros((n, b))
        counts = mask.sum(axis=1)
        idx = self._used[:, None] + np.cumsum(mask, axis=1) - 1  # (N, B)
        idx = np.minimum(idx, self._cols.shape[1] - 1)
        vals = np.take_along_axis(self._cols, idx, axis=1)
        out[mask] = vals[mask]
        self._used += counts
        return out

    def render(self) -> np.ndarray:
        """Frames (N, 64, 64, 3) uint8 of the current state."""
        c = self.config
        n = len(self.x)
        px = (np.arange(64) + 0.5) / 64.0  # pixel centres
        img = np.empty((n, 64, 64, 3), dtype=np.uint8)
        img[...] = (20, 20, 40)
        agent_cols = np.abs(px[None, :] - self.x[:, None]) < c.agent_half  # (N, 64)
        rows = (px >= self.AGENT_Y) & (px < self.AGENT_Y + 0.06)  # (64,)
        agent = rows[None, :, None] & agent_cols[:, None, :]  # (N, 64, 64)
        in_y = np.abs(px[None, None, :] - self.by[:, :, None]) < c.ball_half  # (N, B, 64)
        in_x = np.abs(px[None, None, :] - self.bx[:, :, None]) < c.ball_half  # (N, B, 64)
        ball = (in_y[:, :, :, None] & in_x[:, :, None, :]).any(axis=1)  # (N, 64, 64)
        img[agent] = (40, 255, 40)
        img[ball] = (255, 90, 0)
        return img

    def step(self, moves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Move the agents, let the fireballs fall, end the hit episodes.

        Args:
            moves: (N,) in {-1, 0, 1}.

        Returns:
            ``(rewards, alive)``: (N,) 1.0 for every episode alive before the step, and whether
            it is still alive (ended episodes stay frozen).
        """
        c = self.config
        m = np.asarray(moves)
        if m.shape != self.x.shape or not np.isin(m, (-1, 0, 1)).all():
            raise RnnaiError(f"moves must be {self.x.shape} values in -1, 0, 1, got {m!r}")
        reward = self.alive.astype(np.float64)
        live = self.alive
        self.x = np.where(live, np.clip(self.x + c.move * m, c.agent_half, 1 - c.agent_half),
                          self.x)  # fmt: skip
        self.by = np.where(live[:, None], self.by + c.speed, self.by)
        hit = (
            (self.by + c.ball_half > self.AGENT_Y)
            & (self.by - c.ball_half < self.AGENT_Y + 0.06)
            & (np.abs(self.bx - self.x[:, None]) < c.agent_half + c.ball_half)
        ).any(axis=1)
        gone = self.by - c.ball_half > 1.0  # fallen past the bottom: a new ball at the top
        if gone.any():
            self.bx = np.where(gone, self._draw(gone), self.bx)
            self.by = np.where(gone, self.by - 1.0 - 2 * c.ball_half, self.by)
        self.t += 1
        self.alive = live & ~hit & (self.t < c.max_steps)
        return reward, self.alive.copy()


# ----------------------------------------------------------------------------- training
@torch.no_grad()
def encode_frames(vae: ConvVAE, frames: np.ndarray, batch: int = 256) -> tuple[np.ndarray, ...]:
    """V's posterior ``(mu, logvar)`` (T, Z) float32 of uint8 frames (T, 64, 64, 3)."""
    mus, logvars = [], []
    for i in range(0, len(frames), batch):
        mu, logvar = vae.encode(frames_to_tensor(frames[i : i + batch]))
        mus.append(mu.numpy())
        logvars.append(logvar.numpy())
    return np.concatenate(mus), np.concatenate(logvars)


def vae_epoch(
    vae: ConvVAE,
    optimizer: torch.optim.Optimizer,
    frames: np.ndarray,
    batch: int,
    generator: torch.Generator,
) -> float:
    """One pass over the frames in a random order (from ``generator``); the mean loss."""
    order = torch.randperm(len(frames), generator=generator).numpy()
    total, n = 0.0, 0
    for i in range(0, len(order), batch):
        x = frames_to_tensor(frames[np.sort(order[i : i + batch])])
        recon, mu, logvar = vae(x, generator)
        loss = vae_loss(x, recon, mu, logvar, vae.config.kl_floor)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(x)
        n += len(x)
    return total / max(n, 1)


def sequence_windows(episodes: list[tuple[int, int]], seq_len: int) -> np.ndarray:
    """Start indices of non-overlapping windows of ``seq_len + 1`` steps inside episodes."""
    starts = [np.arange(a, b - seq_len, seq_len) for a, b in episodes if b - a >= seq_len + 1]
    return np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)


def mdn_epoch(
    model: MDNRNN,
    optimizer: torch.optim.Optimizer,
    data: RolloutData,
    mu: np.ndarray,
    logvar: np.ndarray,
    seq_len: int,
    batch: int,
    generator: torch.Generator,
    action_fn: Any = None,
) -> float:
    """One pass of M over windows of the episodes; z is sampled from V's posterior.

    M reads ``(z_t, a_t)`` and is scored on ``z_{t+1}`` (mixture NLL) and, with
    ``predict_done``, on whether the episode ended after ``a_t`` (binary cross-entropy).

    Args:
        model: M.
        optimizer: Its optimizer.
        data: The episodes.
        mu: V's posterior mean of every frame (T, Z).
        logvar: V's posterior log variance of every frame (T, Z).
        seq_len: Steps per window.
        batch: Windows per minibatch.
        generator: Order and z samples.
        action_fn: Maps stored actions (T, A) to M's action input (default: unchanged).

    Returns:
        The mean loss.
    """
    starts = sequence_windows(data.episodes(), seq_len)
    if len(starts) == 0:
        raise RnnaiError(f"no episode is longer than seq_len + 1 = {seq_len + 1} steps")
    acts = data.actions if action_fn is None else action_fn(data.actions)
    order = starts[torch.randperm(len(starts), generator=generator).numpy()]
    idx_base = np.arange(seq_len + 1)
    total, n = 0.0, 0
    for i in range(0, len(order), batch):
        idx = order[i : i + batch, None] + idx_base[None, :]  # (B, L + 1)
        m, lv = torch.from_numpy(mu[idx]), torch.from_numpy(logvar[idx])
        z = m + torch.exp(0.5 * lv) * torch.randn(m.shape, generator=generator)  # (B, L+1, Z)
        a = torch.from_numpy(np.asarray(acts[idx[:, :-1]], dtype=np.float32))  # (B, L, A)
        log_pi, mu_k, log_sigma, done, _, _ = model(z[:, :-1], a)
        loss = mdn_nll(z[:, 1:], log_pi, mu_k, log_sigma)
        if done is not None:
            target = torch.from_numpy(data.dones[idx[:, :-1]].astype(np.float32))
            loss = loss + F.binary_cross_entropy_with_logits(done, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(idx)
        n += len(idx)
    return total / max(n, 1)


# ----------------------------------------------------------------------------- CarRacing
def random_car_actions(rng: np.random.Generator, steps: int) -> np.ndarray:
    """A random driving policy's actions (steps, 3): smoothed random steering, mostly gas."""
    steer = np.zeros(steps)
    s = 0.0
    noise = rng.normal(0.0, 0.5, steps)
    for t in range(steps):  # a first-order filter: sequential by definition
        s = float(np.clip(0.8 * s + noise[t], -1.0, 1.0))
        steer[t] = s
    gas = rng.uniform(0.3, 1.0, steps)
    brake = np.where(rng.random(steps) < 0.05, rng.uniform(0.0, 0.5, steps), 0.0)
    return np.stack([steer, gas, brake], axis=1).astype(np.float32)


def collect_carracing(
    seeds: np.ndarray, steps: int, frame_skip: int, rng: np.random.Generator
) -> RolloutData:
    """Random-policy episodes on CarRacing's tracks ``seeds`` (one per seed).

    Args:
        seeds: Track seeds.
        steps: Actions per episode (fewer if CarRacing ends it).
        frame_skip: Simulator frames per action.
        rng: The random policy's generator.

    Returns:
        The episodes, V's frames (64x64 RGB, dashboard cut) before each action.
    """
    from rnnai.envs.car_racing import CarRacingConfig, make_car_racing

    env = make_car_racing(
        CarRacingConfig(size=8, frame_skip=frame_skip, max_frames=steps * frame_skip)
    )
    frames, actions, rewards, dones, starts = [], [], [], [], []
    total = 0
    try:
        for seed in np.asarray(seeds).tolist():
            env.reset(seed=int(seed))
            acts = random_car_actions(rng, steps)
            starts.append(total)
            for t in range(steps):
                frames.append(carracing_frames(env.frame[None])[0])
                _, r, term, trunc, _ = env.step(acts[t])
                actions.append(acts[t])
                rewards.append(float(r))
                end = bool(term or trunc) or t == steps - 1
                dones.append(end)
                total += 1
                if end:
                    break
    finally:
        env.close()
    return RolloutData(
        frames=np.stack(frames),
        actions=np.stack(actions).astype(np.float32),
        rewards=np.asarray(rewards, dtype=np.float32),
        dones=np.asarray(dones, dtype=bool),
        starts=np.asarray(starts, dtype=np.int64),
        seeds=np.asarray(seeds, dtype=np.int64),
    )


@torch.no_grad()
def drive_carracing(
    vae: ConvVAE,
    model: MDNRNN | None,
    genomes: np.ndarray,
    seeds: np.ndarray,
    steps: int,
    frame_skip: int,
    envs: list[Any] | None = None,
    record: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Drive a population of controllers on CarRacing, all at once.

    Controller i drives track ``seeds[i]``. Each step encodes all frames in one V call, steps
    M once for all (``model`` None: C reads z only) and evaluates all controllers in one
    product; only the simulators step one by one (Box2D has no batch).

    Args:
        vae: V.
        model: M, or None for the controller on z only.
        genomes: (P, dim) controllers.
        seeds: (P,) track seeds.
        steps: Actions per episode.
        frame_skip: Simulator frames per action.
        envs: Reusable environments (at least P; built when None).
        record: If a list, V's input frames of controller 0 are appended to it.

    Returns:
        (P,) episode rewards.
    """
    from rnnai.envs.car_racing import CarRacingConfig, make_car_racing

    P = len(genomes)
    cfg = CarRacingConfig(size=8, frame_skip=frame_skip, max_frames=steps * frame_skip)
    own = envs is None
    pool = envs if envs is not None else [make_car_racing(cfg) for _ in range(P)]
    try:
        for e, s in zip(pool, np.asarray(seeds).tolist(), strict=False):
            e.reset(seed=int(s))
        alive = np.ones(P, dtype=bool)
        total = np.zeros(P)
        state = model.initial_state(P) if model is not None else None
        h = torch.zeros(P, 0)  # C on z only
        for _ in range(steps):
            raw = np.stack([pool[i].frame for i in range(P)])  # (P, 96, 96, 3)
            frames = carracing_frames(raw)
            if record is not None:
                record.append(frames[0])
            z, _ = vae.encode(frames_to_tensor(frames))  # (P, Z)
            if state is not None:
                h = state[0][0]  # h_t: M's state after z_{t-1}, a_{t-1}
            feats = torch.cat([z, h], dim=1).double().numpy()
            acts = controller_actions(genomes, feats, "car")  # (P, 3)
            for i in np.flatnonzero(alive):
                _, r, term, trunc, _ = pool[i].step(acts[i].astype(np.float32))
                total[i] += float(r)
                if term or trunc:
                    alive[i] = False
            if model is not None:  # h_{t+1} = M(z_t, a_t, h_t)
                a = torch.from_numpy(acts).float()
                *_, state, _ = model(z[:, None], a[:, None], state)
            if not alive.any():
                break
        return total
    finally:
        if own:
            for e in pool:
                e.close()
