"""Learned visual attention: a multi-resolution fovea, the 1991 model-based saccade controller, RAM.

Papers:

* J. Schmidhuber & R. Huber, "Learning to generate artificial fovea trajectories for target
  detection", International Journal of Neural Systems 2(1 & 2):135-141, 1991 (first as TR
  FKI-128-90, TU Munich, 1990). A controller C sees only the input x(t) of an artificial fovea and
  outputs o(t), the activations of "eye muscles" that move the fovea. A model network M is trained
  to predict C's next input from the current input and output,

      x_hat(t+1) = M(x(t), o(t)),      E_M = 1/2 ||x(t+1) - x_hat(t+1)||^2,

  and C is trained to make the final input x(n) of a trajectory match a desired input d, the
  pattern the fovea sees when it is centred on the target,

      E_C = 1/2 ||d - x(n)||^2,

  by backpropagating E_C through M (the trajectory's chain x(t) -> o(t) = C(x(t)) -> x(t+1)
  differentiated as if x(t+1) were M(x(t), o(t))): a "reward-only-at-goal" task without a teacher
  for the muscles. The paper's translation experiment (as far as we could check it): a dark object
  on a 512x512 field, 40 fovea input units averaging the pixels of their receptive fields, 4
  logistic outputs (up, down, left, right) each scaled to a move of 0..20 pixels and the moves
  summed, M with 40 hidden units and 40 outputs, C with 20 hidden units, logistic units, weights
  uniform in [-0.1, 0.1], learning rates 0.1, M first trained for 50,000 cycles on random fovea
  placements near the object with uniformly random controller outputs, then C. We could not check
  the trajectory length, C's number of training trajectories for translations, or any success
  rate (the paper's results are figures of trajectories).

* V. Mnih, N. Heess, A. Graves & K. Kavukcuoglu, "Recurrent Models of Visual Attention", NIPS
  2014 (arXiv:1406.6247), the recurrent attention model (RAM). Glimpse sensor rho(x, l): k square
  patches centred at l, the first g x g pixels, each next one twice as wide, all resized to g x g.
  Glimpse network: h_g = ReLU(Linear(rho)), h_l = ReLU(Linear(l)), g_t = ReLU(Linear(h_g) +
  Linear(h_l)) (128, 128, 256 units). Core: h_t = ReLU(Linear(h_{t-1}) + Linear(g_t)) (256).
  Location network: l_t ~ N(f_l(h_t), sigma^2) with f_l linear (its mean in [-1, 1] image
  coordinates). Action network: softmax over classes from the last h_T. Reward R = 1 for a right
  class at the end, else 0. Hybrid loss: cross-entropy for classification, REINFORCE for the
  locations with a baseline b_t that reduces variance,

      grad J ~ sum_t grad log pi(l_t | h_t) (R - b_t),   b_t trained by (R - b_t)^2.

  Reported for 60x60 cluttered translated MNIST (12x12 retina, 3 scales): a 2-layer convolutional
  net 7.83% error; RAM with 8 glimpses 5.23% (these two numbers as quoted by a secondary source;
  the paper's table itself was not available to us, and ~4% is also quoted elsewhere).

What is ours (the papers are silent or we could not check them):

* `glimpse` samples every scale with ``torch.nn.functional.grid_sample`` (bilinear, zeros
  outside the image) at pixel centres and area-averages scale k by 2^k: "resized" read as the
  block mean; where the patch is pixel-aligned it is an exact crop.
* The 1991 fovea here is `glimpse` itself (a high-resolution centre and coarser rings, e.g. 4
  scales of 4x4 = 64 inputs, against the paper's 40 receptive fields). `saccade` maps the four
  logistic outputs to a move max_step * (o_right - o_left, o_down - o_up).
* `model_rollout` backpropagates through M along the *real* trajectory: each real input x(t+1)
  is replaced by x(t+1) + M(x(t), o(t)) - stop_grad(M(x(t), o(t))), equal in value to the real
  input and with M's Jacobians as its derivatives. Adam instead of the paper's plain online
  gradient descent, and minibatches.
* RAM: the location network reads stop_grad(h_t) (only REINFORCE trains it), the baseline is a
  linear function of stop_grad(h_t), the first location is uniformly random, sigma is a config
  value (0.15 in [-1, 1] units by default), locations are clipped to [-1, 1]; at test time the
  mean location is used. Adam instead of the paper's SGD with momentum.
* `train_steps` is the checkpointed step loop these trainers share: the minibatch of step s is
  drawn from a generator derived from (seed, label, s), so a run resumed from a checkpoint ends
  with the same weights as an uninterrupted one.

Examples:
    >>> import torch
    >>> img = torch.arange(16.0).reshape(1, 4, 4)
    >>> glimpse(img, torch.zeros(1, 2), size=2, scales=2)[0].tolist()
    [[[5.0, 6.0], [9.0, 10.0]], [[2.5, 4.5], [10.5, 12.5]]]
    >>> saccade(torch.tensor([[1.0, 0.0, 0.5, 0.5]]), max_step=4.0).tolist()
    [[4.0, 0.0]]
    >>> ram = RAM(RAMConfig(glimpses=2, size=4, scales=2, hidden_g=8, hidden_l=8, glimpse_out=8,
    ...                     core=8), generator=torch.Generator().manual_seed(0))
    >>> out = ram(torch.zeros(3, 16, 16), generator=torch.Generator().manual_seed(1))
    >>> tuple(out.logits.shape), tuple(out.locations.shape), tuple(out.log_probs.shape)
    ((3, 10), (3, 2, 2), (3, 1))
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed, torch_generator
from rnnai.train.hooks import Hooks, SilentHooks
from rnnai.train.loop import make_optimizer

__all__ = [
    "RAM",
    "FoveaController",
    "FoveaModel",
    "FoveaNetConfig",
    "RAMConfig",
    "RAMOutput",
    "StepsRun",
    "glimpse",
    "model_rollout",
    "ram_loss",
    "saccade",
    "train_steps",
    "default_init_",
    "uniform_init_",
]


# ----------------------------------------------------------------------------- the sensor


def glimpse(images: Tensor, loc: Tensor, *, size: int, scales: int) -> Tensor:
    """The multi-resolution retina rho(x, l): ``scales`` patches centred at ``loc``.

    Patch k covers (size * 2^k)^2 pixels and is averaged down to size x size (2^k x 2^k blocks).

    Args:
        images: (N, H, W) or (N, 1, H, W).
        loc: (N, 2) centres (x, y) in [-1, 1] image coordinates: -1 is the left / top edge of
            the image, +1 the right / bottom edge (pixels outside read as 0).
        size: The side g of every patch after resizing.
        scales: The number k of patches.

    Returns:
        (N, scales, size, size).

    Raises:
        RnnaiError: For non-positive sizes or mismatched shapes.
    """
    if size < 1 or scales < 1:
        raise RnnaiError(f"size and scales must be >= 1, got {size} and {scales}")
    x = images[:, None] if images.dim() == 3 else images  # (N, 1, H, W)
    if x.dim() != 4 or x.shape[1] != 1 or loc.shape != (x.shape[0], 2):
        raise RnnaiError(
            f"expected images (N, H, W) and loc (N, 2), got {tuple(images.shape)} and "
            f"{tuple(loc.shape)}"
        )
    N, _, H, W = x.shape
    loc = loc.to(x.dtype)
    out = []
    for k in range(scales):
        s = size * 2**k
        offs = torch.arange(s, dtype=x.dtype, device=x.device) + 0.5 - s / 2  # pixel offsets
        gx = loc[:, 0, None] + offs[None] * (2.0 / W)  # (N, s)
        gy = loc[:, 1, None] + offs[None] * (2.0 / H)  # (N, s)
        grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)
        patch = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if k:
            patch = F.avg_pool2d(patch, 2**k)  # (N, 1, size, size)
        out.append(patch[:, 0])
    return torch.stack(out, dim=1)  # (N, scales, size, size)


# ----------------------------------------------------------------------------- 1991: C and M


@dataclass(frozen=True, kw_only=True)
class FoveaNetConfig:
    """The 1991 networks and fovea.

    Attributes:
        size: Side of each fovea scale (inputs: ``scales * size**2``).
        scales: Fovea scales (the centre, then rings twice as wide each).
        actions: C's outputs ("eye muscles"); 4: right, left, down, up.
        model_hidden: M's hidden units (the paper: 40).
        controller_hidden: C's hidden units (the paper: 20).
        max_step: Pixels one muscle moves at full activation (the paper: 20 on 512x512).
        init: Weights and biases uniform in [-init, init] (the paper: 0.1).
    """

    size: int = 4
    scales: int = 4
    actions: int = 4
    model_hidden: int = 40
    controller_hidden: int = 20
    max_step: float = 6.0
    init: float = 0.1

    @property
    def inputs(self) -> int:
        """The fovea's input units."""
        return self.scales * self.size**2


def uniform_init_(module: nn.Module, bound: float, generator: torch.Generator) -> None:
    """Set every parameter of ``module`` uniform in [-bound, bound] (in place)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=generator, dtype=p.dtype) * 2 * bound - bound)


def default_init_(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default bounds for every Linear / Conv2d, drawn from ``generator`` (in place).

    Weight and bias of a layer with fan-in f are uniform in [-1/sqrt(f), 1/sqrt(f)].
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear | nn.Conv2d):
                bound = 1.0 / math.sqrt(m.weight[0].numel())
                for p in (m.weight, m.bias):
                    if p is not None:
                        p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)


class FoveaModel(nn.Module):
    """M: predicts the fovea's next input from its input and C's output (logistic units).

    Shapes: x (N, inputs), o (N, actions) -> x_hat (N, inputs).
    """

    def __init__(self, config: FoveaNetConfig, *, generator: torch.Generator) -> None:
        super().__init__()
        self.config = config
        self.hidden = nn.Linear(config.inputs + config.actions, config.model_hidden)
        self.out = nn.Linear(config.model_hidden, config.inputs)
        uniform_init_(self, config.init, generator)

    def forward(self, x: Tensor, o: Tensor) -> Tensor:
        """x_hat(t+1) = M(x(t), o(t))."""
        return torch.sigmoid(self.out(torch.sigmoid(self.hidden(torch.cat([x, o], dim=1)))))


class FoveaController(nn.Module):
    """C: maps the fovea's input to muscle activations in (0, 1) (logistic units).

    Shapes: x (N, inputs) -> o (N, actions).
    """

    def __init__(self, config: FoveaNetConfig, *, generator: torch.Generator) -> None:
        super().__init__()
        self.config = config
        self.hidden = nn.Linear(config.inputs, config.controller_hidden)
        self.out = nn.Linear(config.controller_hidden, config.actions)
        uniform_init_(self, config.init, generator)

    def forward(self, x: Tensor) -> Tensor:
        """o(t) = C(x(t))."""
        return torch.sigmoid(self.out(torch.sigmoid(self.hidden(x))))


def saccade(o: Tensor, *, max_step: float) -> Tensor:
    """The fovea move (dx, dy) in pixels from the four muscles (right, left, down, up).

    Each muscle pulls ``max_step * o_i`` pixels in its direction; the four pulls are summed.

    Args:
        o: (N, 4) activations in [0, 1].
        max_step: Pixels at full activation.

    Returns:
        (N, 2) moves (dx, dy).
    """
    if o.dim() != 2 or o.shape[1] != 4:
        raise RnnaiError(f"expected muscle activations (N, 4), got {tuple(o.shape)}")
    return max_step * torch.stack([o[:, 0] - o[:, 1], o[:, 2] - o[:, 3]], dim=1)


def model_rollout(
    sense: Callable[[Tensor], Tensor],
    start: Tensor,
    controller: Callable[[Tensor], Tensor],
    model: Callable[[Tensor, Tensor], Tensor] | None,
    *,
    steps: int,
    max_step: float,
    bounds: tuple[float, float],
) -> tuple[Tensor, Tensor]:
    """Run C for ``steps`` saccades in the real scene; differentiate through M along the way.

    With ``model`` given, every real input x(t+1) = sense(p(t+1)) is replaced by
    x(t+1) + M(x(t), o(t)) - stop_grad(M(x(t), o(t))): the same value, and the derivative of
    M's prediction with respect to x(t) and o(t). A loss on the final input then backpropagates
    through the chain of M copies into C's weights (1991), though the real sensor is not
    differentiable. Without a model the inputs carry no gradient (evaluation).

    Args:
        sense: Fovea positions (N, 2) in pixels -> inputs (N, D).
        start: (N, 2) start positions (x, y) in pixels.
        controller: x (N, D) -> muscle activations (N, 4).
        model: M, or None.
        steps: Saccades n.
        max_step: Pixels per muscle at full activation.
        bounds: Positions are clipped to [low, high] on both axes.

    Returns:
        (inputs, positions): x(0..n) as (N, n+1, D) and p(0..n) as (N, n+1, 2).
    """
    p = start
    x = sense(p)
    xs, ps = [x], [p]
    for _ in range(steps):
        o = controller(x)
        p = (p + saccade(o.detach(), max_step=max_step)).clamp(*bounds)
        real = sense(p)
        if model is not None:
            pred = model(x, o)
            x = real + pred - pred.detach()  # value of the real input, gradient of M
        else:
            x = real
        xs.append(x)
        ps.append(p)
    return torch.stack(xs, dim=1), torch.stack(ps, dim=1)


# ----------------------------------------------------------------------------- RAM


@dataclass(frozen=True, kw_only=True)
class RAMConfig:
    """The recurrent attention model (defaults: the paper's 60x60 cluttered MNIST net).

    Attributes:
        glimpses: Glimpses per image (the first at a random location).
        size: Retina patch side g.
        scales: Retina scales k.
        hidden_g: Units of h_g (what).
        hidden_l: Units of h_l (where).
        glimpse_out: Units of g_t.
        core: Units of the core RNN h_t.
        classes: Classes of the action network.
        std: Standard deviation of the location policy (in [-1, 1] units).
    """

    glimpses: int = 8
    size: int = 12
    scales: int = 3
    hidden_g: int = 128
    hidden_l: int = 128
    glimpse_out: int = 256
    core: int = 256
    classes: int = 10
    std: float = 0.15

    def __post_init__(self) -> None:
        if self.glimpses < 1 or self.std <= 0:
            raise RnnaiError(f"need >= 1 glimpse and std > 0, got {self.glimpses}, {self.std}")

    @property
    def pixels_per_glimpse(self) -> int:
        """Retina values read per glimpse: k g^2."""
        return self.scales * self.size**2


@dataclass
class RAMOutput:
    """One forward pass of `RAM`.

    Attributes:
        logits: (N, classes) class scores after the last glimpse.
        locations: (N, G, 2) glimpse centres l_0 .. l_{G-1}.
        log_probs: (N, G-1) log pi(l_t | h_t) of the sampled locations l_1 .. l_{G-1}.
        baselines: (N, G-1) b_t for those locations.
    """

    logits: Tensor
    locations: Tensor
    log_probs: Tensor
    baselines: Tensor


class RAM(nn.Module):
    """Recurrent attention model: glimpse network, core RNN, location, action and baseline nets.

    Input (N, H, W) images in [0, 1]; output a `RAMOutput`.
    """

    def __init__(self, config: RAMConfig, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = c = config
        self.fc_g = nn.Linear(c.pixels_per_glimpse, c.hidden_g)  # theta_g^0
        self.fc_l = nn.Linear(2, c.hidden_l)  # theta_g^1
        self.fc_gg = nn.Linear(c.hidden_g, c.glimpse_out)  # theta_g^2 (what)
        self.fc_gl = nn.Linear(c.hidden_l, c.glimpse_out)  # theta_g^2 (where)
        self.core_h = nn.Linear(c.core, c.core)
        self.core_g = nn.Linear(c.glimpse_out, c.core)
        self.loc = nn.Linear(c.core, 2)
        self.action = nn.Linear(c.core, c.classes)
        self.baseline = nn.Linear(c.core, 1)
        if generator is not None:
            default_init_(self, generator)

    def glimpse_net(self, images: Tensor, l: Tensor) -> Tensor:
        """g_t = ReLU(W h_g + W' h_l) with h_g = ReLU(W0 rho(x, l)), h_l = ReLU(W1 l)."""
        c = self.config
        rho = glimpse(images, l, size=c.size, scales=c.scales).flatten(1)  # (N, k g^2)
        h_g = F.relu(self.fc_g(rho))
        h_l = F.relu(self.fc_l(l))
        return F.relu(self.fc_gg(h_g) + self.fc_gl(h_l))

    def forward(
        self,
        images: Tensor,
        *,
        generator: torch.Generator | None = None,
        sample: bool = True,
        start: Tensor | None = None,
    ) -> RAMOutput:
        """Take the glimpses, sampling locations from the policy (``sample``) or its mean.

        Args:
            images: (N, H, W).
            generator: Draws the first location and the policy noise.
            sample: Sample locations (training) or take the policy's mean (testing).
            start: (N, 2) first locations (None: uniform in [-1, 1]^2 from ``generator``).
        """
        c = self.config
        N = images.shape[0]
        l = (
            start
            if start is not None
            else torch.rand(N, 2, generator=generator, dtype=images.dtype) * 2 - 1
        ).to(images.device)
        h = images.new_zeros(N, c.core)
        locs, logps, bases = [l], [], []
        for t in range(c.glimpses):
            g = self.glimpse_net(images, l)
            h = F.relu(self.core_h(h) + self.core_g(g))  # core RNN
            if t == c.glimpses - 1:
                break
            mu = torch.tanh(self.loc(h.detach()))  # location network (REINFORCE only)
            if sample:
                eps = torch.randn(N, 2, generator=generator, dtype=images.dtype).to(images.device)
                l = (mu + c.std * eps).clamp(-1.0, 1.0).detach()
            else:
                l = mu.detach()
            logp = -0.5 * ((l - mu) / c.std) ** 2 - math.log(c.std) - 0.5 * math.log(2 * math.pi)
            logps.append(logp.sum(dim=1))
            bases.append(self.baseline(h.detach())[:, 0])
            locs.append(l)
        empty = images.new_zeros(N, 0)
        return RAMOutput(
            logits=self.action(h),
            locations=torch.stack(locs, dim=1),
            log_probs=torch.stack(logps, dim=1) if logps else empty,
            baselines=torch.stack(bases, dim=1) if bases else empty,
        )


def ram_loss(out: RAMOutput, labels: Tensor) -> tuple[Tensor, dict[str, float]]:
    """The hybrid loss: cross-entropy + REINFORCE with baseline + the baseline's squared error.

    R = 1 if the class is right, else 0; the REINFORCE term is
    -mean_n sum_t (R_n - b_{n,t}) log pi(l_{n,t}) with (R - b) held constant.

    Returns:
        (loss, parts): the scalar loss and its terms as floats ("ce", "reinforce", "baseline",
        "reward").
    """
    ce = F.cross_entropy(out.logits, labels)
    R = (out.logits.argmax(dim=1) == labels).to(out.logits.dtype)  # (N,)
    advantage = (R[:, None] - out.baselines).detach()  # (N, G-1)
    reinforce = -(advantage * out.log_probs).sum(dim=1).mean()
    base = ((out.baselines - R[:, None]) ** 2).mean() if out.baselines.numel() else ce * 0
    loss = ce + reinforce + base
    parts = {"ce": float(ce.detach()), "reinforce": float(reinforce.detach()),
             "baseline": float(base.detach()), "reward": float(R.mean())}  # fmt: skip
    return loss, parts


# ----------------------------------------------------------------------------- training


@dataclass
class StepsRun:
    """What `train_steps` returns.

    Attributes:
        curve: (step, mean loss over the last ``log_every`` steps) pairs.
        steps: Steps done.
    """

    curve: list[tuple[int, float]]
    steps: int


def train_steps(
    modules: Sequence[nn.Module],
    step_loss: Callable[[int, torch.Generator], Tensor],
    *,
    steps: int,
    lr: float,
    seed: int,
    label: str,
    fingerprint: dict[str, Any] | None = None,
    hooks: Hooks | None = None,
    save_every: int = 200,
    log_every: int = 100,
) -> StepsRun:
    """Adam on ``step_loss(step, generator)`` for ``steps`` steps; checkpointed and resumable.

    The generator of step s is seeded by (seed, label, s): a run resumed from a checkpoint
    (saved every ``save_every`` steps and at the end, under ``label``) draws the same data and
    ends with the same weights as one never interrupted. A finished label returns at once.

    Args:
        modules: The trained modules (their parameters go to one Adam optimizer).
        step_loss: Builds the loss of one step from its own generator.
        steps: Steps to train.
        lr: Adam's learning rate.
        seed: The run seed.
        label: Names the run in the checkpoint, the progress bar and the log.
        fingerprint: JSON-able settings; a checkpoint made with other settings is an error.
        hooks: Checkpointer, progress and log (None: silent, no checkpoints).
        save_every: Steps between checkpoints.
        log_every: Steps per point of the loss curve.

    Returns:
        The loss curve.

    Raises:
        RnnaiError: If the checkpoint under ``label`` was made with another fingerprint.
    """
    if steps < 0 or save_every < 1 or log_every < 1 or save_every % log_every:
        raise RnnaiError(
            f"need steps >= 0 and save_every a multiple of log_every, got {steps}, {save_every}, "
            f"{log_every}"
        )
    hooks = hooks if hooks is not None else SilentHooks()
    params = [p for m in modules for p in m.parameters()]
    opt = make_optimizer(params, optimizer="adam", lr=lr)
    key = "fovea_runs"
    prefix = f"{key}/{label}"
    ckpt = hooks.checkpointer
    loaded = ckpt.load() if ckpt is not None else None
    tensors, saved = loaded if loaded is not None else ({}, {})
    mine: dict[str, Any] = dict(saved.get(key) or {})
    fp = json.loads(json.dumps({"fingerprint": fingerprint or {}, "steps": steps, "lr": lr,
                                "seed": seed}))  # fmt: skip
    start, curve = 0, []
    if label in mine:
        entry = mine[label]
        if entry["fingerprint"] != fp:
            raise RnnaiError(f"checkpoint of {label!r} was made with other settings; delete it")
        state = unpack_state(entry["state"], tensors)
        for i, m in enumerate(modules):
            m.load_state_dict(state[f"m{i}"])
        opt.load_state_dict(state["opt"])
        start = int(entry["step"])
        curve = [(int(s), float(v)) for s, v in entry["curve"]]
    kept = {k: v for k, v in tensors.items() if not k.startswith(prefix + ".")}

    def save(step: int) -> None:
        if ckpt is None:
            return
        packed, skel = pack_state(
            {**{f"m{i}": m.state_dict() for i, m in enumerate(modules)}, "opt": opt.state_dict()},
            prefix=prefix,
        )
        mine[label] = {"step": step, "curve": curve, "state": skel, "fingerprint": fp}
        ckpt.save({**kept, **packed}, {**saved, key: mine})

    total = 0.0
    with hooks.progress(steps, label) as bar:
        bar.advance(start)
        for step in range(start, steps):
            gen = torch_generator(derive_seed(seed, label, "step", step))
            loss = step_loss(step, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
            bar.advance(1)
            if (step + 1) % log_every == 0:
                curve.append((step + 1, total / log_every))
                bar.update(status=f"loss {total / log_every:.4f}")
                hooks.log(f"{label} step {step + 1}: loss {total / log_every:.4f}")
                total = 0.0
            if (step + 1) % save_every == 0 and step + 1 < steps:
                save(step + 1)
        if start < steps or label not in mine:
            save(steps)
    return StepsRun(curve=curve, steps=steps)
