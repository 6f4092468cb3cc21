import { afterEach, describe, expect, it } from "vitest";

import type { NotScored, Scored } from "./api";
import { cleanup, mountWith } from "./testing";
import ValueBreakdown from "./ValueBreakdown.vue";

// The shape of GET /api/v1/value/customers/<id> for a scored customer (tests/value "scored").
const scored: Scored = {
  customer_id: 7,
  name: "Li Na",
  merged_into_id: null,
  scored: true,
  run_id: 3,
  model_version: 2,
  as_of: "2026-06-30",
  computed_at: "2026-06-30T02:00:00+00:00",
  tier: "gold",
  tier_rule: "gold: index >= 65",
  rfm: {
    window_days: 365,
    recency_days: 210,
    frequency: 5,
    monetary: 1200,
    r_score: 2,
    f_score: 3,
    m_score: 4,
    first_purchase_on: "2024-01-01",
    last_purchase_on: "2025-12-01",
    lifetime_purchases: 8,
  },
  segment8: { code: "important_winback", zh: "重要挽留客户", en: "Important win-back" },
  segment10: { code: "cant_lose", zh: "不能失去的客户", en: "Can't lose them" },
  clv: { simple: 2400, contract: null, avg_arpu: 80 },
  lifecycle: { code: "repeat", zh: "复购客户", en: "Repeat" },
  churn: {
    risk: 90,
    reasons: [
      {
        code: "recency_rising",
        label: "Recency rising",
        detail: "no purchase for 210 days, 2.1 times the usual gap of 100 days between purchases",
        points: 30,
        figures: { recency_days: 210, usual_gap_days: 100, times_usual_gap: 2.1 },
      },
      { code: "complaint", label: "Complaints", detail: "3 complaints in the last 90 days", points: 30, figures: { complaints_recent: 3, counted: 3, window_days: 90 } },
      { code: "new_signal", label: "New signal", detail: "something the server knows", points: 5, figures: {} },
    ],
  },
  value_index: 70.5,
  index: {
    index: 70.5,
    criteria: [
      {
        key: "current",
        weight: 0.54,
        contribution: 40.25,
        indicators: [{ metric: "monetary", value: 1200, cap: 5000, score: 0.24, weight: 0.3, contribution: 7.2 }],
      },
    ],
  },
  tier_history: [{ from_tier: "silver", to_tier: "gold", value_index: 70.5, rule: "gold: index >= 65", run_id: 3, changed_at: "2026-06-30T02:00:00+00:00" }],
};

const notScored: NotScored = { customer_id: 8, name: "New", merged_into_id: null, scored: false, tier: "normal", tier_rule: null, tier_history: [] };

afterEach(cleanup);

describe("ValueBreakdown", () => {
  it("explains a scored customer: rule, RFM, segment, CLV, churn reasons in words, the index", async () => {
    const { wrapper } = await mountWith(ValueBreakdown, { value: scored });
    const text = wrapper.text();
    expect(text).toContain("Tier set by the rule “gold: index >= 65”");
    expect(wrapper.find("[data-tier]").attributes("data-tier")).toBe("gold");
    expect(text).toContain("210 days since the last purchase");
    expect(text).toContain("score 2 of 5");
    expect(text).toContain("5 purchases in 365 days");
    expect(wrapper.get("[data-testid=segment]").text()).toBe("Important win-back");
    expect(text).toContain("Can't lose them");
    expect(text).toContain("2,400");
    expect(wrapper.get("[data-testid=churn-risk]").text()).toBe("90 of 100");
    const reasons = wrapper.findAll("[data-testid=churn-reasons] li").map((li) => li.text());
    expect(reasons[0]).toContain("Recency rising: No purchase for 210 days, 2.1 times the usual gap of 100 days between purchases");
    expect(reasons[1]).toContain("3 complaints in the last 90 days");
    // A reason code this app does not know keeps the server's label and words.
    expect(reasons[2]).toContain("New signal: something the server knows");
    const rows = wrapper.findAll("[data-testid=index-breakdown] tbody tr").map((tr) => tr.text());
    expect(rows[0]).toContain("Current value");
    expect(rows[0]).toContain("54%");
    expect(rows[1]).toMatch(/Spend\s*1,200\s*30%\s*7\.2/);
    expect(wrapper.find("[data-testid=not-scored]").exists()).toBe(false);
  });

  it("speaks Chinese: the segment's Chinese label and the reasons rebuilt from the figures", async () => {
    const { wrapper } = await mountWith(ValueBreakdown, { value: scored }, "zh-CN");
    expect(wrapper.get("[data-testid=segment]").text()).toBe("重要挽留客户");
    const reasons = wrapper.get("[data-testid=churn-reasons]").text();
    expect(reasons).toContain("消费间隔变长");
    expect(reasons).toContain("已 210 天未消费，是平时消费间隔（100 天）的 2.1 倍");
    expect(reasons).toContain("近 90 天投诉 3 次");
    expect(reasons).not.toContain("no purchase for");
  });

  it("says plainly when the customer is not scored yet, with no breakdown", async () => {
    const { wrapper } = await mountWith(ValueBreakdown, { value: notScored });
    expect(wrapper.get("[data-testid=not-scored]").text()).toContain("Not scored yet");
    expect(wrapper.find("[data-testid=index-breakdown]").exists()).toBe(false);
    expect(wrapper.find("[data-testid=churn-risk]").exists()).toBe(false);
    expect(wrapper.find("[data-tier]").exists()).toBe(false); // normal shows no badge
  });
});
