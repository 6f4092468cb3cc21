import { flushPromises } from "@vue/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";

import { moved, reorderBody, ruleBody, blankRule } from "./routing";
import RoutingView from "./RoutingView.vue";
import { departments, fakeApi, mountAdmin } from "./testing";

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.innerHTML = "";
});

const rule = (id: number, position: number, name: string, conditions = {}) => ({
  id,
  name,
  position,
  enabled: true,
  conditions,
  outcome: { workflow: "general_enquiry", department: 2, priority: "from_tier", tags: [] },
  updated_at: "2025-01-01T00:00:00Z",
});
const rules = [rule(11, 1, "VIP first", { tiers: ["vip"] }), rule(12, 2, "Roaming", { keywords_any: ["roaming"] }), rule(13, 3, "Everything else")];

describe("routing order", () => {
  it("moves one rule and leaves the ends alone", () => {
    expect(moved([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(moved([1, 2, 3], 2, -1)).toEqual([1, 3, 2]);
    expect(moved([1, 2, 3], 0, -1)).toEqual([1, 2, 3]);
    expect(reorderBody(rules as never, 1, -1)).toEqual({ ids: [12, 11, 13] });
  });

  it("sends the whole new order when a rule is moved down", async () => {
    const calls = fakeApi({
      "GET /routing-rules": rules,
      "GET /departments": departments,
      "GET /workflows": [{ key: "general_enquiry" }],
      "POST /routing-rules/reorder": (body: unknown) => [200, (body as { ids: number[] }).ids.map((id, i) => ({ ...rules.find((r) => r.id === id)!, position: i + 1 }))],
    });
    const wrapper = await mountAdmin(RoutingView);
    expect(wrapper.text()).toContain("Any of these keywords: roaming");
    expect(wrapper.get('button[aria-label="Move VIP first up"]').attributes("disabled")).toBeDefined();
    await wrapper.get('button[aria-label="Move VIP first down"]').trigger("click");
    await flushPromises();
    expect(calls.filter((c) => c.method === "POST")).toEqual([{ method: "POST", path: "/routing-rules/reorder", body: { ids: [12, 11, 13] } }]);
    expect(wrapper.text()).toContain("The new order is saved.");
  });
});

describe("ruleBody", () => {
  it("sends only the conditions given, and null for a default rule", () => {
    const draft = { ...blankRule(), name: " Roaming ", keywords_any: "roaming, 漫游", channels: ["sms"], department: 2 };
    expect(ruleBody(draft)).toEqual({
      name: "Roaming",
      enabled: true,
      conditions: { channels: ["sms"], keywords_any: ["roaming", "漫游"] },
      outcome: { workflow: "general_enquiry", department: 2, priority: "from_tier", tags: [] },
    });
    expect(ruleBody({ ...blankRule(), name: "All", target: "function", department_function: "front_line" })).toMatchObject({
      conditions: null,
      outcome: { department_function: "front_line" },
    });
  });
});
