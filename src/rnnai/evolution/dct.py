"""Compressed network search: weight matrices coded by their low-frequency DCT coefficients.

Citations:
    J. Koutnik, F. Gomez and J. Schmidhuber. Evolving neural networks in compressed weight
    space. GECCO 2010, pp. 619-626.
    J. Koutnik, G. Cuccu, J. Schmidhuber and F. Gomez. Evolving large-scale neural networks for
    vision-based reinforcement learning. GECCO 2013 (the same coding for >1M weights).

Coding. Each weight array W (any number of dimensions, e.g. a matrix of shape (N1, N2)) is the
inverse discrete cosine transform (DCT-II with orthonormal scaling, inverted by
``scipy.fft.idctn``) of a coefficient array C of the same shape in which only the k lowest
frequencies are non-zero::

    W = IDCT(C),   C[f_1, ..., f_D] = g_{r(f)}  for r(f) < k,  0 otherwise

The coefficient positions f are ranked by increasing frequency index sum f_1 + ... + f_D (the
anti-diagonals of a matrix), ties broken lexicographically; r(f) is that rank. A genome is the
concatenation of every array's k coefficients, so a search (CoSyNE, CMA-ES, ...) over a few
coefficients yields smooth weight arrays of any size. With k equal to the array's size the coding
is a bijection (the orthonormal DCT is an orthogonal transform), and `DCTCoding.encode` is then
its exact inverse; with fewer coefficients `encode` returns the least-squares best approximation.

Deviations: the 2010 paper orders coefficients the same way (anti-diagonals from the DC term) but
we could not check its tie-break within an anti-diagonal; ours is lexicographic. The papers code
some layers jointly (e.g. all weights of a neuron as one array); here the caller chooses the
arrays (`DCTCoding.from_module` codes each parameter tensor of a torch module separately).

Examples:
    >>> import numpy as np
    >>> from rnnai.evolution import DCTCoding, frequency_order
    >>> frequency_order((2, 3)).tolist()          # flat positions, lowest frequency first
    [0, 1, 3, 2, 4, 5]
    >>> coding = DCTCoding([(32, 115)], 20)       # 3,680 weights from 20 coefficients
    >>> coding.dim, coding.n_weights, coding.compression
    (20, 3680, 184.0)
    >>> W = coding.decode(np.random.default_rng(0).normal(size=20))[0]
    >>> W.shape, bool(np.allclose(coding.decode(coding.encode([W]))[0], W))
    ((32, 115), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.fft

from rnnai.evolution.core import Problem, check_genomes
from rnnai.runtime.errors import RnnaiError

__all__ = ["CompressedProblem", "DCTCoding", "frequency_order"]


def frequency_order(shape: Sequence[int]) -> np.ndarray:
    """Flat indices of an array's DCT coefficients by increasing frequency index sum.

    Args:
        shape: The array's shape.

    Returns:
        (prod(shape),) int64 flat (C-order) indices; ties in the index sum are ordered
        lexicographically by the multi-index.
    """
    shape = tuple(int(s) for s in shape)
    grids = np.indices(shape).reshape(len(shape), -1)  # (D, N), lexicographic order
    total = grids.sum(axis=0)
    return np.argsort(total, kind="stable").astype(np.int64)


class DCTCoding:
    """Maps coefficient vectors to weight arrays of given shapes (and back).

    Args:
        shapes: The shapes of the weight arrays (e.g. ``[(5, 9)]``, or a module's parameters).
        coefficients: k per array: one int for all, or one per array; capped at each array's
            size.

    Attributes:
        shapes: The array shapes.
        ks: Coefficients per array.
        dim: Genome length (sum of ks).
        n_weights: Total number of weights coded.
    """

    def __init__(self, shapes: Sequence[Sequence[int]], coefficients: int | Sequence[int]) -> None:
        self.shapes = [tuple(int(s) for s in shape) for shape in shapes]
        if not self.shapes:
            raise RnnaiError("DCTCoding needs at least one array shape")
        for shape in self.shapes:
            if len(shape) == 0 or min(shape) < 1:
                raise RnnaiError(f"array shapes must have >= 1 dimension of size >= 1, got {shape}")
        if isinstance(coefficients, bool):
            raise RnnaiError(f"coefficients must be an int or a list of ints, got {coefficients}")
        if isinstance(coefficients, int | np.integer):
            ks = [int(coefficients)] * len(self.shapes)
        else:
            ks = [int(k) for k in coefficients]
            if len(ks) != len(self.shapes):
                raise RnnaiError(f"got {len(ks)} coefficient counts for {len(self.shapes)} arrays")
        if min(ks) < 1:
            raise RnnaiError(f"every array needs >= 1 coefficient, got {ks}")
        sizes = [int(np.prod(s)) for s in self.shapes]
        self.ks = [min(k, n) for k, n in zip(ks, sizes, strict=True)]
        self._orders = [frequency_order(s)[:k] for s, k in zip(self.shapes, self.ks, strict=True)]
        self.dim = int(sum(self.ks))
        self.n_weights = int(sum(sizes))

    def __repr__(self) -> str:
        return f"DCTCoding(shapes={self.shapes}, coefficients={self.ks})"

    @property
    def compression(self) -> float:
        """Weights per genome entry (n_weights / dim)."""
        return self.n_weights / self.dim

    def decode(self, genome: np.ndarray) -> list[np.ndarray]:
        """Coefficient vector -> weight arrays (``W = IDCT(C)``).

        Args:
            genome: (dim,) coefficients.

        Returns:
            One float64 array per shape.

        Raises:
            RnnaiError: If the genome has the wrong length.
        """
        g = np.asarray(genome, dtype=np.float64)
        if g.shape != (self.dim,):
            raise RnnaiError(f"genome must have shape ({self.dim},), got {g.shape}")
        out, start = [], 0
        for shape, k, order in zip(self.shapes, self.ks, self._orders, strict=True):
            C = np.zeros(int(np.prod(shape)))
            C[order] = g[start : start + k]
            start += k
            out.append(scipy.fft.idctn(C.reshape(shape), type=2, norm="ortho"))
        return out

    def decode_flat(self, genomes: np.ndarray) -> np.ndarray:
        """Decode a population into flat weight vectors.

        Args:
            genomes: (P, dim) coefficients.

        Returns:
            (P, n_weights) the decoded arrays of each genome, flattened and concatenated.
        """
        g = check_genomes(genomes, self.dim)
        return np.stack([np.concatenate([w.ravel() for w in self.decode(row)]) for row in g])

    def encode(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """Weight arrays -> their k lowest-frequency DCT coefficients (least-squares best).

        Args:
            arrays: One array per shape.

        Returns:
            (dim,) coefficients.

        Raises:
            RnnaiError: If the number or shapes of the arrays do not match.
        """
        if len(arrays) != len(self.shapes):
            raise RnnaiError(f"expected {len(self.shapes)} arrays, got {len(arrays)}")
        parts = []
        for a, shape, order in zip(arrays, self.shapes, self._orders, strict=True):
            w = np.asarray(a, dtype=np.float64)
            if w.shape != shape:
                raise RnnaiError(f"array has shape {w.shape}, expected {shape}")
            parts.append(scipy.fft.dctn(w, type=2, norm="ortho").ravel()[order])
        return np.concatenate(parts)

    @classmethod
    def from_module(cls, module: Any, coefficients: int | Sequence[int]) -> DCTCoding:
        """A coding for every parameter tensor of a torch module (in ``parameters()`` order).

        Args:
            module: A ``torch.nn.Module``.
            coefficients: k per parameter tensor.

        Returns:
            The coding.
        """
        shapes = [tuple(p.shape) for p in module.parameters()]
        return cls(shapes, coefficients)

    def to_module(self, module: Any, genome: np.ndarray) -> None:
        """Decode ``genome`` into a torch module's parameters (in place, no gradient).

        Args:
            module: A ``torch.nn.Module`` whose parameter shapes are this coding's shapes.
            genome: (dim,) coefficients.

        Raises:
            RnnaiError: If the module's parameter shapes differ from the coding's.
        """
        import torch

        params = list(module.parameters())
        shapes = [tuple(p.shape) for p in params]
        if shapes != self.shapes:
            raise RnnaiError(
                f"module parameter shapes {shapes} differ from the coding's {self.shapes}"
            )
        with torch.no_grad():
            for p, w in zip(params, self.decode(genome), strict=True):
                p.copy_(torch.from_numpy(w).to(p.dtype))


class CompressedProblem(Problem):
    """A problem searched in DCT coefficient space: genomes are decoded, then evaluated.

    Args:
        problem: The problem over the full weights (its ``dim`` must equal the coding's
            ``n_weights``; the arrays are flattened and concatenated in the coding's order).
        coding: The coding.

    Attributes:
        dim: The coding's genome length.
    """

    def __init__(self, problem: Problem, coding: DCTCoding) -> None:
        if problem.dim != coding.n_weights:
            raise RnnaiError(
                f"the coding makes {coding.n_weights} weights but the problem takes {problem.dim}"
            )
        self.problem = problem
        self.coding = coding
        self.dim = coding.dim
        self.target_fitness = problem.target_fitness

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        """Decode and evaluate, (P,) float64."""
        return self.problem.evaluate(self.coding.decode_flat(genomes))

    def solved(self, genome: np.ndarray) -> bool:
        """The inner problem's success test on the decoded weights."""
        return self.problem.solved(self.coding.decode_flat(np.reshape(genome, (1, -1)))[0])
