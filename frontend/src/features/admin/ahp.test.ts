import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises } from "@vue/test-utils";

import { isReciprocal, modelBody, saatyLabel, withJudgement } from "./ahp";
import AhpMatrixEditor from "./AhpMatrixEditor.vue";
import ValueView from "./ValueView.vue";
import { fakeApi, mountAdmin } from "./testing";

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.innerHTML = "";
});

const document0 = {
  window_days: 365,
  criteria_matrix: [
    [1, 2, 3],
    [0.5, 1, 2],
    [1 / 3, 0.5, 1],
  ],
  criteria: [
    { key: "current", indicators: ["monetary", "avg_arpu"], matrix: [[1, 1], [1, 1]] },
    { key: "potential", indicators: ["clv", "spend_trend"], matrix: [[1, 2], [0.5, 1]] },
    { key: "relationship", indicators: ["tenure_days", "recency_days"], matrix: [[1, 0.5], [2, 1]] },
  ],
  tier_rules: [{ tier: "diamond", basis: "index", minimum: 80 }],
};

function view(cr: number) {
  const consistency = { lambda_max: 3, consistency_index: 0, consistency_ratio: cr };
  return {
    version: 3,
    active: true,
    created_at: null,
    document: document0,
    weights: { criteria_matrix: consistency, criteria: document0.criteria.map((c) => ({ ...consistency, consistency_ratio: 0, key: c.key, weight: 0.3, indicators: [] })) },
  };
}

describe("AHP judgements", () => {
  it("writes the reciprocal of every judgement and keeps the diagonal", () => {
    const m = withJudgement(document0.criteria_matrix, 0, 2, 7);
    expect(m[0]![2]).toBe(7);
    expect(m[2]![0]).toBeCloseTo(1 / 7);
    expect(isReciprocal(m)).toBe(true);
    expect(document0.criteria_matrix[0]![2]).toBe(3); // the input is not changed
    expect(saatyLabel(1 / 7)).toBe("1/7");
  });

  it("builds the model body from the loaded document and the edits", () => {
    const top = withJudgement(document0.criteria_matrix, 0, 1, 5);
    const body = modelBody(document0 as never, top, [[[1, 3], [1 / 3, 1]]], [{ tier: "gold", basis: "arpu", minimum: "150" as unknown as number }]);
    expect(body.window_days).toBe(365);
    expect(body.criteria_matrix[1]![0]).toBeCloseTo(0.2);
    expect(body.criteria[0]!.matrix).toEqual([[1, 3], [1 / 3, 1]]);
    expect(body.criteria[1]!.matrix).toEqual([[1, 2], [0.5, 1]]);
    expect(body.tier_rules).toEqual([{ tier: "gold", basis: "arpu", minimum: 150 }]);
  });
});

describe("AhpMatrixEditor", () => {
  it("edits above the diagonal only and fills the mirror cell", async () => {
    const wrapper = await mountAdmin(AhpMatrixEditor, { id: "t", title: "Criteria", labels: ["A", "B", "C"], modelValue: document0.criteria_matrix, consistencyRatio: 0.0089 });
    const selects = wrapper.findAll("select");
    expect(selects).toHaveLength(3); // (A,B) (A,C) (B,C)
    expect(selects[0]!.attributes("aria-label")).toBe("How much more important A is than B");
    expect(wrapper.text()).toContain("1/3"); // the mirror of A:C = 3
    await selects[1]!.setValue(String(1 / 5));
    const emitted = wrapper.emitted("update:modelValue")![0]![0] as number[][];
    expect(emitted[0]![2]).toBeCloseTo(0.2);
    expect(emitted[2]![0]).toBeCloseTo(5);
    expect(isReciprocal(emitted)).toBe(true);
    expect(wrapper.get("[data-testid=cr-t]").text()).toBe("CR = 0.009");
  });
});

describe("ValueView", () => {
  it("validates the edited matrix with the server and explains a CR refusal", async () => {
    const calls = fakeApi({
      "GET /value/model": view(0.0089),
      "GET /value/model/versions": [{ version: 3, is_active: true, active: true, created_at: "2025-01-01T00:00:00Z" }],
      "GET /value/runs": [],
      "POST /value/model/validate": () => [
        422,
        {
          type: "https://service-hub.dev/problems/validation-failed",
          detail: "The criteria matrix: CR 0.236 >= 0.1.",
          errors: { json: { criteria_matrix: ["The criteria matrix: CR 0.236 >= 0.1."] }, consistency_ratio: 0.236 },
        },
      ],
    });
    const wrapper = await mountAdmin(ValueView);
    expect(wrapper.get("[data-testid=cr-criteria]").text()).toBe("CR = 0.009");
    // B is judged 9 times as important as C while A > B and A < C: inconsistent.
    await wrapper.get('select[aria-label="How much more important Current value is than Relationship"]').setValue(String(1 / 9));
    await flushPromises();
    const sent = calls.find((c) => c.method === "POST" && c.path === "/value/model/validate")!.body as typeof document0;
    expect(sent.criteria_matrix[0]![2]).toBeCloseTo(1 / 9);
    expect(sent.criteria_matrix[2]![0]).toBeCloseTo(9);
    expect(sent.window_days).toBe(365);
    const refusal = wrapper.get("[data-testid=value-refused]").text();
    expect(refusal).toContain("CR = 0.236 is not below 0.1");
    expect(refusal).toContain("Some fields need attention.");
  });
});
