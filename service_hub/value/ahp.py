"""The analytic hierarchy process: weights from a pairwise comparison matrix, and its consistency.

Saaty's method as ../shared/DOMAIN.md gives it: the weights are the normalised principal
eigenvector (found by power iteration, exact for the positive reciprocal matrices AHP uses),
lambda_max = mean((A w)_i / w_i), CI = (lambda_max - n) / (n - 1), CR = CI / RI(n). A matrix
with CR >= 0.1 is too inconsistent to trust and is refused, with its CR in the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Saaty's random consistency index for n = 1..10.
RANDOM_INDEX = (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49)
MAX_CONSISTENCY_RATIO = 0.1
SAATY_SCALE = (1 / 9, 9)


class InconsistentMatrix(ValueError):
    """The matrix is not a usable AHP matrix; the message says why (and gives CR when that is why)."""

    def __init__(self, message: str, consistency_ratio: float | None = None) -> None:
        super().__init__(message)
        self.consistency_ratio = consistency_ratio


@dataclass(frozen=True)
class AhpResult:
    weights: tuple[float, ...]
    lambda_max: float
    consistency_index: float
    consistency_ratio: float


def check_reciprocal(matrix: Sequence[Sequence[float]]) -> None:
    """A square matrix on Saaty's 1/9..9 scale with ones on the diagonal and a_ji = 1/a_ij."""
    n = len(matrix)
    if n == 0 or n > len(RANDOM_INDEX):
        raise InconsistentMatrix(f"A pairwise matrix needs 1 to {len(RANDOM_INDEX)} rows, not {n}.")
    low, high = SAATY_SCALE
    for i, row in enumerate(matrix):
        if len(row) != n:
            raise InconsistentMatrix(f"Row {i + 1} has {len(row)} entries; the matrix must be {n} x {n}.")
        for j, value in enumerate(row):
            if not low - 1e-9 <= value <= high + 1e-9:
                raise InconsistentMatrix(f"Entry ({i + 1}, {j + 1}) = {value:g} is outside Saaty's scale 1/9..9.")
        if abs(row[i] - 1) > 1e-9:
            raise InconsistentMatrix(f"Diagonal entry ({i + 1}, {i + 1}) must be 1.")
    for i in range(n):
        for j in range(i + 1, n):
            if abs(matrix[i][j] * matrix[j][i] - 1) > 1e-3:
                raise InconsistentMatrix(f"Entries ({i + 1}, {j + 1}) and ({j + 1}, {i + 1}) must be reciprocal (a_ji = 1/a_ij).")


def analyse(matrix: Sequence[Sequence[float]], tolerance: float = 1e-12, max_iterations: int = 1000) -> AhpResult:
    """Weights and consistency of a reciprocal matrix; does not judge CR (see `weights`)."""
    check_reciprocal(matrix)
    n = len(matrix)
    w = [1.0 / n] * n
    for _ in range(max_iterations):
        product = [sum(matrix[i][j] * w[j] for j in range(n)) for i in range(n)]
        total = sum(product)
        nxt = [p / total for p in product]
        if max(abs(a - b) for a, b in zip(nxt, w, strict=True)) < tolerance:
            w = nxt
            break
        w = nxt
    aw = [sum(matrix[i][j] * w[j] for j in range(n)) for i in range(n)]
    lambda_max = sum(aw[i] / w[i] for i in range(n)) / n
    ci = (lambda_max - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX[n - 1]
    cr = ci / ri if ri else 0.0
    return AhpResult(tuple(w), lambda_max, ci, cr)


def weights(matrix: Sequence[Sequence[float]], name: str = "matrix") -> AhpResult:
    """Like `analyse`, but refuses a matrix whose consistency ratio is 0.1 or more. Errors name the matrix."""
    try:
        result = analyse(matrix)
    except InconsistentMatrix as exc:
        raise InconsistentMatrix(f"The {name}: {exc}", exc.consistency_ratio) from exc
    if result.consistency_ratio >= MAX_CONSISTENCY_RATIO:
        raise InconsistentMatrix(
            f"The {name} is inconsistent: CR = {result.consistency_ratio:.3f}, and AHP accepts only CR < {MAX_CONSISTENCY_RATIO}. "
            "Revise the comparisons that contradict each other.",
            consistency_ratio=result.consistency_ratio,
        )
    return result
