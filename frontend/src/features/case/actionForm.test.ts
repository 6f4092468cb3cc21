import { afterEach, describe, expect, it, vi } from "vitest";

import ActionForm from "./ActionForm.vue";
import { buildInputs, fieldSpecs, missingFields } from "./actionForm";
import { cleanup, fakeFetch, flush, mountCase } from "./testing";

describe("action form fields", () => {
  it("picks a control for each required field from its name", () => {
    expect(fieldSpecs(["department", "extension_until", "reason", "disputed_amount", "bill_period", "satisfaction"]).map((s) => s.kind)).toEqual([
      "department",
      "datetime",
      "longtext",
      "number",
      "text",
      "number",
    ]);
  });

  it("names the empty fields and sends dates as ISO, numbers as numbers, text trimmed", () => {
    const specs = fieldSpecs(["department", "extension_until", "reason"]);
    expect(missingFields(specs, { department: 3, reason: "  " })).toEqual(["extension_until", "reason"]);
    const until = Date.UTC(2026, 3, 1, 8, 30);
    expect(buildInputs(specs, { department: 3, extension_until: until, reason: " waiting for the bank " })).toEqual({
      department: 3,
      extension_until: "2026-04-01T08:30:00.000Z",
      reason: "waiting for the bank",
    });
  });
});

describe("ActionForm", () => {
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  const option = { action: "request_extension", name: "Request extension", target_step: "handle", required_fields: ["extension_until", "reason"], needs_task: false, task_ids: [] };

  it("renders a labelled control per required field and refuses to send with one missing", async () => {
    const calls = fakeFetch({});
    const wrapper = await mountCase(ActionForm, { ticketId: 5, version: 3, option, departments: [] });
    expect(wrapper.find("label[for='action-request_extension-reason']").text()).toContain("Reason");
    expect(wrapper.find("label[for='action-request_extension-extension_until']").text()).toContain("Extend until");
    await wrapper.find("textarea#action-request_extension-reason").setValue("The bank answers on Monday");
    await wrapper.find("form").trigger("submit");
    expect(wrapper.text()).toContain("Extend until is required.");
    expect(calls).toHaveLength(0);
  });

  it("posts the action with the case version and shows the API's refusal in words", async () => {
    const calls = fakeFetch({
      "POST /api/v1/tickets/5/case/actions": {
        status: 422,
        body: { type: "https://service-hub.dev/problems/workflow-missing-fields", detail: "reason is required for return", errors: { reason: ["Missing."] } },
      },
    });
    const returnOption = { ...option, action: "return", name: "Return", required_fields: ["reason"] };
    const wrapper = await mountCase(ActionForm, { ticketId: 5, version: 3, option: returnOption, departments: [] });
    await wrapper.find("textarea#action-return-reason").setValue("  Not ours  ");
    await wrapper.find("form").trigger("submit");
    await flush();
    await flush();
    expect(calls[0]).toMatchObject({ method: "POST", url: "/api/v1/tickets/5/case/actions", body: { action: "return", version: 3, task_id: null, inputs: { reason: "Not ours" } } });
    expect(wrapper.find("[data-testid='action-error']").text()).toContain("reason is required for return");
    expect(wrapper.text()).toContain("Missing.");
  });
});
