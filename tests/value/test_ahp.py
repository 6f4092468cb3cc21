"""AHP weights and consistency against published worked examples, and the matrices ahp refuses."""

from __future__ import annotations

import pytest

from service_hub.value.ahp import InconsistentMatrix, analyse, weights

SAATY_3 = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]

# Wikipedia, "Analytic hierarchy process - leader example" (the en dash spelled as a hyphen here),
# https://en.wikipedia.org/wiki/Analytic_hierarchy_process_%E2%80%93_leader_example : the board's
# comparisons of the criteria Experience, Education, Charisma and Age.
LEADER_4 = [[1, 4, 3, 7], [1 / 4, 1, 1 / 3, 3], [1 / 3, 3, 1, 5], [1 / 7, 1 / 3, 1 / 5, 1]]


def test_saaty_classic_three_by_three():
    """Saaty's classic 3 x 3 example: w = (0.637, 0.258, 0.105), lambda_max 3.039, CI 0.019, CR 0.033."""
    result = analyse(SAATY_3)
    assert [round(w, 3) for w in result.weights] == [0.637, 0.258, 0.105]
    assert round(result.lambda_max, 3) == 3.039
    assert round(result.consistency_index, 3) == 0.019
    assert round(result.consistency_ratio, 3) == 0.033
    assert weights(SAATY_3).weights == result.weights  # CR < 0.1: accepted


def test_published_four_by_four_leader_example():
    """Wikipedia's "Analytic hierarchy process - leader example" gives the criteria weights
    Experience .547, Education .127, Charisma .270, Age .056 with CR = 0.044 for this matrix.

    The eigenvector's first entry is 0.54757: the article prints .547 so that its four figures add
    up to 1.000, so every weight is compared within one unit of the third decimal (and the three
    others round exactly).
    """
    result = analyse(LEADER_4)
    published = [0.547, 0.127, 0.270, 0.056]
    assert all(abs(w - p) < 0.001 for w, p in zip(result.weights, published, strict=True)), result.weights
    assert [round(w, 3) for w in result.weights[1:]] == published[1:]
    assert round(result.consistency_ratio, 3) == 0.044
    assert round(sum(result.weights), 12) == 1.0


def test_a_perfectly_consistent_matrix_has_lambda_n_and_cr_zero():
    w = [8, 4, 2, 1]
    matrix = [[a / b for b in w] for a in w]
    result = analyse(matrix)
    assert [round(x, 9) for x in result.weights] == [round(a / 15, 9) for a in w]
    assert result.lambda_max == pytest.approx(4.0, abs=1e-9)
    assert result.consistency_ratio == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("matrix", [[[1]], [[1, 3], [1 / 3, 1]]])
def test_one_or_two_items_are_always_consistent(matrix):
    result = analyse(matrix)
    assert result.consistency_ratio == 0.0
    assert round(sum(result.weights), 12) == 1.0


def test_an_inconsistent_matrix_is_refused_with_its_cr():
    # A prefers B strongly, B prefers C strongly, C prefers A strongly: a cycle.
    cyclic = [[1, 5, 1 / 5], [1 / 5, 1, 5], [5, 1 / 5, 1]]
    cr = analyse(cyclic).consistency_ratio
    assert cr >= 0.1
    with pytest.raises(InconsistentMatrix) as caught:
        weights(cyclic, "criteria matrix")
    assert f"CR = {cr:.3f}" in str(caught.value)
    assert "criteria matrix" in str(caught.value)
    assert caught.value.consistency_ratio == pytest.approx(cr)


def test_a_four_by_four_over_the_threshold_is_refused_and_one_under_it_accepted():
    optics = [[1, 5, 6, 7], [1 / 5, 1, 4, 6], [1 / 6, 1 / 4, 1, 4], [1 / 7, 1 / 6, 1 / 4, 1]]
    assert round(analyse(optics).consistency_ratio, 3) == 0.145
    with pytest.raises(InconsistentMatrix, match=r"CR = 0\.145"):
        weights(optics)
    assert weights(LEADER_4).consistency_ratio < 0.1


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 3], [3, 1]], "reciprocal"),
        ([[1, 3, 5], [1 / 3, 1, 3], [1 / 4, 1 / 3, 1]], "reciprocal"),
        ([[1, 10], [1 / 10, 1]], "Saaty's scale"),
        ([[1, 0], [0, 1]], "Saaty's scale"),
        ([[1, -2], [-0.5, 1]], "Saaty's scale"),
        ([[2, 1], [1, 1]], "Diagonal"),
        ([[1, 2, 3], [1 / 2, 1]], "Row 1 has 3 entries; the matrix must be 2 x 2"),
        ([], "1 to 10 rows"),
        ([[1] * 11 for _ in range(11)], "not 11"),
    ],
)
def test_malformed_matrices_are_refused(matrix, message):
    with pytest.raises(InconsistentMatrix, match=message):
        analyse(matrix)
