// AHP pairwise matrices as an admin edits them: one judgement per pair above the diagonal, its
// reciprocal below filled in automatically, values on Saaty's 1/9..9 scale.
import type { Matrix, ModelDocument, TierRule } from "./api";

export const SAATY: number[] = [9, 8, 7, 6, 5, 4, 3, 2, 1, 1 / 2, 1 / 3, 1 / 4, 1 / 5, 1 / 6, 1 / 7, 1 / 8, 1 / 9];

/** 3 -> "3", 0.333… -> "1/3" */
export function saatyLabel(value: number): string {
  return value >= 1 ? String(Math.round(value)) : `1/${Math.round(1 / value)}`;
}

/** The scale value closest to a stored entry (stored matrices may hold any number in 1/9..9). */
export function nearestSaaty(value: number): number {
  return SAATY.reduce((best, v) => (Math.abs(Math.log(v) - Math.log(value)) < Math.abs(Math.log(best) - Math.log(value)) ? v : best), 1);
}

/** A copy with a[i][j] = value and a[j][i] = 1 / value; the diagonal stays 1. */
export function withJudgement(matrix: Matrix, i: number, j: number, value: number): Matrix {
  if (i === j) return matrix.map((row) => [...row]);
  const next = matrix.map((row) => [...row]);
  next[i]![j] = value;
  next[j]![i] = 1 / value;
  return next;
}

export function isReciprocal(matrix: Matrix, tolerance = 1e-9): boolean {
  return matrix.every((row, i) =>
    row.every((value, j) => (i === j ? Math.abs(value - 1) < tolerance : Math.abs(value * matrix[j]![i]! - 1) < tolerance)),
  );
}

/** The document PUT /value/model (and its validate) takes: the loaded one with the edits applied. */
export function modelBody(document: ModelDocument, criteriaMatrix: Matrix, criterionMatrices: Matrix[], tierRules: TierRule[]): ModelDocument {
  return {
    ...document,
    criteria_matrix: criteriaMatrix.map((row) => [...row]),
    criteria: document.criteria.map((criterion, index) => ({ ...criterion, matrix: (criterionMatrices[index] ?? criterion.matrix).map((row) => [...row]) })),
    tier_rules: tierRules.map((rule) => ({ tier: rule.tier, basis: rule.basis, minimum: Number(rule.minimum) })),
  };
}

export const CR_LIMIT = 0.1;
