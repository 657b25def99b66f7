"""The success-story algorithm (SSA): lifelong backtracking of policy modifications.

Paper: J. Schmidhuber, J. Zhao & M. Wiering, "Shifting inductive bias with success-story
algorithm, adaptive Levin search, and incremental self-improvement", Machine Learning 28:105-130
(1997), Sec. 2 ("Basic set-up and SSA"); the same rule in Schmidhuber, Zhao & Schraudolph,
"Reinforcement learning with self-modifying policies", in Thrun & Pratt (eds.), Learning to Learn,
Kluwer 1997.

The learner lives from time 0 to T; R(t) is the cumulative reward between time 0 and t, R(0) = 0.
Policy modifications are grouped into blocks; block k starts at time t_k with a *tag*
(t_k, R(t_k)) pushed on the stack S, followed by the saved policy components it changed. At a
*checkpoint* t the stack holds tags t_1 < t_2 < ... < t_V (t_0 = 0 at the bottom, R(t_0) = 0).
The success-story criterion (SSC) is satisfied when the reward per time since each tag strictly
increases along the stack::

    R(t) / t  <  (R(t) - R(t_1)) / (t - t_1)  <  ...  <  (R(t) - R(t_V)) / (t - t_V)      (SSC)

SSA restores it: while the topmost tag's speed (R(t) - R(t_V)) / (t - t_V) is not strictly
above the speed of the tag below it (or of the lifetime start, R(t) / t), pop the topmost block
(restore the policy components saved in it, most recent first) and its tag. Then push a new tag
(t, R(t)) for the modifications to come. Nothing is ever reset: the stack lives as long as the
learner, and a modification is kept only while it has been followed by a reward acceleration up
to the present checkpoint (measured since its own start, which includes the effects of all later
modifications it set the stage for).

What is implemented: `tag_speeds` (the speeds above), `kept_tags` (how many tags survive: the
longest bottom part of the stack along which the speeds strictly increase, i.e. the criterion as
stated above), `ssa_pop_count` (the paper's top-down loop: pop while the top does not beat the one
below), and `SSAStack` (tags plus saved components, `checkpoint` pops and restores). When SSC held
at the previous checkpoint and one block was added since, the paper's loop and `kept_tags` pop
the same blocks (the paper's induction argument); the tests hold the two together on random
lifelong histories, and `SSAStack.checkpoint` uses `kept_tags`, the criterion as stated, so it is
correct even for a stack that did not come from earlier SSA calls.

Choices where the paper is silent: a tag whose time equals the checkpoint time (t - t_k = 0,
a block opened at the checkpoint itself) has no measured speed; it is kept only if it is the top
and everything below it satisfies SSC (its speed counts as +inf). Ties count as failures
("strictly").

Examples:
    >>> from rnnai.selfmod.ssa import SSAStack, kept_tags
    >>> kept_tags([10.0, 20.0], [1.0, 1.5], t=30.0, r=4.0)  # 4/30 < 3/20 < 2.5/10
    2
    >>> kept_tags([10.0, 20.0], [1.0, 3.9], t=30.0, r=4.0)  # 0.01 is below 0.15: pop the top
    1
    >>> s = SSAStack()
    >>> s.push_tag(t=10.0, r=0.0)
    >>> s.save(cell=3, old=[0.5, 0.5])
    >>> s.checkpoint(t=20.0, r=0.0)  # no acceleration: restore cell 3
    [(3, [0.5, 0.5])]
    >>> len(s)
    0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnai.runtime.errors import RnnaiError

__all__ = ["SSAStack", "Tag", "kept_tags", "ssa_pop_count", "success_story_holds", "tag_speeds"]


def tag_speeds(
    tag_t: Sequence[float] | np.ndarray, tag_r: Sequence[float] | np.ndarray, *, t: float, r: float
) -> np.ndarray:
    """Reward per time since the lifetime start and since each tag, bottom to top.

    Args:
        tag_t: Tag times t_1 < ... < t_V (bottom to top), all in [0, t].
        tag_r: Cumulative rewards R(t_k) at the tags.
        t: The checkpoint time (> 0).
        r: R(t), the cumulative reward at the checkpoint.

    Returns:
        (V + 1,) float64: R(t)/t, then (R(t) - R(t_k)) / (t - t_k); +inf where t_k = t.

    Raises:
        RnnaiError: If the lengths differ, t <= 0, or the tag times are not increasing in [0, t].
    """
    tt = np.asarray(tag_t, dtype=np.float64)
    rr = np.asarray(tag_r, dtype=np.float64)
    if tt.shape != rr.shape or tt.ndim != 1:
        raise RnnaiError(
            f"tag times and rewards must be 1-d of one length, got {tt.shape} and {rr.shape}"
        )
    if not t > 0:
        raise RnnaiError(f"the checkpoint time must be > 0, got {t}")
    if len(tt) and (tt[0] < 0 or tt[-1] > t or np.any(np.diff(tt) <= 0)):
        raise RnnaiError(f"tag times must increase strictly within [0, {t}], got {tt.tolist()}")
    times = np.concatenate([[0.0], tt])  # t_0 = 0 (lifetime start)
    rewards = np.concatenate([[0.0], rr])  # R(t_0) = 0
    dt = t - times
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(dt > 0, (r - rewards) / np.where(dt > 0, dt, 1.0), np.inf)  # (SSC) terms
    return v


def kept_tags(
    tag_t: Sequence[float] | np.ndarray, tag_r: Sequence[float] | np.ndarray, *, t: float, r: float
) -> int:
    """How many tags survive a checkpoint: the longest bottom run with strictly rising speeds.

    Args:
        tag_t: Tag times, bottom to top.
        tag_r: R at the tags.
        t: Checkpoint time.
        r: R(t).

    Returns:
        V' in 0..V: tags 1..V' satisfy SSC at (t, r); tags above V' are to be popped.
    """
    v = tag_speeds(tag_t, tag_r, t=t, r=r)
    rising = np.diff(v) > 0  # (V,): tag k beats the one below
    bad = np.flatnonzero(~rising)
    return int(bad[0]) if len(bad) else len(rising)


def ssa_pop_count(
    tag_t: Sequence[float] | np.ndarray, tag_r: Sequence[float] | np.ndarray, *, t: float, r: float
) -> int:
    """The paper's SSA loop: pop the top while it does not beat the tag (or time 0) below it.

    Args:
        tag_t: Tag times, bottom to top.
        tag_r: R at the tags.
        t: Checkpoint time.
        r: R(t).

    Returns:
        The number of tags the loop pops (from the top).
    """
    v = tag_speeds(tag_t, tag_r, t=t, r=r)
    top = len(v) - 1
    while top >= 1 and not v[top] > v[top - 1]:
        top -= 1
    return len(v) - 1 - top


def success_story_holds(
    tag_t: Sequence[float] | np.ndarray, tag_r: Sequence[float] | np.ndarray, *, t: float, r: float
) -> bool:
    """Whether SSC holds at (t, r) for the whole stack.

    Examples:
        >>> success_story_holds([], [], t=5.0, r=0.0)
        True
    """
    return kept_tags(tag_t, tag_r, t=t, r=r) == len(tag_t)


@dataclass(frozen=True)
class Tag:
    """A block's start: time, cumulative reward then, and where its saved components begin."""

    t: float
    r: float
    first: int


@dataclass
class SSAStack:
    """The SSA stack: tags and, above each, the policy components its block changed.

    Attributes:
        tags: The tags, bottom to top.
        saved: (cell, old value) pairs in the order they were saved.
    """

    tags: list[Tag] = field(default_factory=list)
    saved: list[tuple[int, list[float]]] = field(default_factory=list)

    def __len__(self) -> int:
        """The number of tags (blocks of modifications still valid)."""
        return len(self.tags)

    def push_tag(self, *, t: float, r: float) -> None:
        """Open a block of modifications at time ``t`` with cumulative reward ``r``.

        Raises:
            RnnaiError: If ``t`` is not after the topmost tag's time.
        """
        if self.tags and not t > self.tags[-1].t:
            raise RnnaiError(f"a tag's time must follow the top tag's {self.tags[-1].t}, got {t}")
        self.tags.append(Tag(t=float(t), r=float(r), first=len(self.saved)))

    def save(self, *, cell: int, old: Sequence[float]) -> None:
        """Save a component's old value before the current block changes it.

        Raises:
            RnnaiError: If no block is open.
        """
        if not self.tags:
            raise RnnaiError("save needs an open block: push a tag first, got an empty stack")
        self.saved.append((int(cell), [float(x) for x in old]))

    def checkpoint(self, *, t: float, r: float) -> list[tuple[int, list[float]]]:
        """Pop the blocks that break SSC at (t, r); return what to restore, most recent first.

        Args:
            t: The checkpoint time.
            r: R(t).

        Returns:
            (cell, old value) pairs; restoring them in this order undoes the popped blocks.
        """
        keep = kept_tags([g.t for g in self.tags], [g.r for g in self.tags], t=t, r=r)
        if keep == len(self.tags):
            return []
        first = self.tags[keep].first
        undo = self.saved[first:][::-1]
        del self.saved[first:]
        del self.tags[keep:]
        return undo
