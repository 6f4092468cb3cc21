import { afterEach, describe, expect, it } from "vitest";

import { snapshot } from "./fixtures";
import ReassignDialog from "./ReassignDialog.vue";
import RiskList from "./RiskList.vue";
import { cleanup, fakeFetch, mountWith, settle } from "./testing";
import { dashboard } from "./viewModel";

afterEach(cleanup);

describe("the SLA risk list", () => {
  it("shows the nearest due first, each linking to its case, and asks to reassign the chosen one", async () => {
    const { wrapper } = await mountWith(RiskList, { risks: dashboard(snapshot()).risks });
    const rows = wrapper.findAll("tbody tr");
    expect(rows.map((r) => r.find("a").text())).toEqual(["#1005", "#1006", "#1007"]);
    expect(rows[0]!.find("a").attributes("href")).toBe("/tickets/5");
    expect(rows[0]!.text()).toContain("First response");
    expect(rows[0]!.find(".sla-badge").exists()).toBe(true);
    await rows[1]!.find("button").trigger("click");
    const list = wrapper.findComponent(RiskList);
    expect(list.emitted("reassign")![0]![0]).toMatchObject({ ticket_id: 6, number: 1006 });
  });

  it("says so when no case is nearing breach", async () => {
    const { wrapper } = await mountWith(RiskList, { risks: [] });
    expect(wrapper.text()).toContain("No case is past its SLA warning.");
  });
});

describe("reassigning from the dashboard", () => {
  const model = snapshot();
  const entry = dashboard(model).risks[0]!;

  it("reads the ticket's version and transfers it to the chosen department with the reason", async () => {
    const calls = fakeFetch({
      "GET /api/v1/tickets/5": { id: 5, number: 1005, subject: "x", version: 7, department: { id: 4, name: "Accounts" }, assignee: null },
      "POST /api/v1/tickets/5/transfer": { id: 5, number: 1005, subject: "x", version: 8, department: { id: 2, name: "Front line" }, assignee: null },
    });
    const { wrapper } = await mountWith(ReassignDialog, { entry, agents: model.agents, departments: model.departments });
    const dialog = wrapper.findComponent(ReassignDialog);
    const form = () => document.body.querySelector("form")!;
    // Nothing chosen: the form says what is missing and sends nothing.
    form().dispatchEvent(new Event("submit"));
    await settle();
    expect(document.body.textContent).toContain("Fill in this field.");
    expect(calls).toEqual([]);

    (document.body.querySelectorAll('input[type="radio"]')[1] as HTMLInputElement).click(); // "A department's queue"
    await settle();
    // Pick the department through the component's model (the select's popup is Naive UI's own).
    const select = dialog.findAllComponents({ name: "Select" })[0]!;
    select.vm.$emit("update:value", 2);
    const reason = document.body.querySelector("textarea")!;
    reason.value = "Front line has capacity";
    reason.dispatchEvent(new Event("input"));
    await settle();
    form().dispatchEvent(new Event("submit"));
    await settle(10);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(["GET /api/v1/tickets/5", "POST /api/v1/tickets/5/transfer"]);
    expect(calls[1]!.body).toEqual({ version: 7, reason: "Front line has capacity", department_id: 2 });
    expect(dialog.emitted("done")).toEqual([[1005]]);
  });

  it("offers only agents who can take work (online or away)", async () => {
    fakeFetch({});
    const { wrapper } = await mountWith(ReassignDialog, { entry, agents: model.agents, departments: model.departments });
    const select = wrapper.findComponent(ReassignDialog).findAllComponents({ name: "Select" })[0]!;
    const options = select.props("options") as Array<{ label: string; disabled: boolean }>;
    expect(options.map((o) => [o.label, o.disabled])).toEqual([
      ["Bo · Online · 1/5", false],
      ["Ada · Online · 5/5", true],
      ["Di · Away · 0/5", false],
    ]);
  });

  it("moves the case into the department of an agent from elsewhere", async () => {
    const calls = fakeFetch({
      "GET /api/v1/tickets/5": { id: 5, number: 1005, subject: "x", version: 2, department: { id: 4, name: "Accounts" }, assignee: null },
      "POST /api/v1/tickets/5/transfer": { id: 5, number: 1005, subject: "x", version: 3, department: { id: 2, name: "Front line" }, assignee: null },
    });
    const { wrapper } = await mountWith(ReassignDialog, { entry, agents: model.agents, departments: model.departments });
    wrapper.findComponent(ReassignDialog).findAllComponents({ name: "Select" })[0]!.vm.$emit("update:value", 10); // Bo, Front line
    const reason = document.body.querySelector("textarea")!;
    reason.value = "Bo knows this customer";
    reason.dispatchEvent(new Event("input"));
    await settle();
    document.body.querySelector("form")!.dispatchEvent(new Event("submit"));
    await settle(10);
    expect(calls[1]!.body).toEqual({ version: 2, reason: "Bo knows this customer", assignee_id: 10, department_id: 2 });
  });

  it("shows the server's refusal in words and stays open", async () => {
    fakeFetch({ "GET /api/v1/tickets/5": { id: 5, number: 1005, subject: "x", version: 7, department: { id: 4, name: "A" }, assignee: null } });
    const { wrapper } = await mountWith(ReassignDialog, { entry, agents: model.agents, departments: model.departments });
    const dialog = wrapper.findComponent(ReassignDialog);
    dialog.findAllComponents({ name: "Select" })[0]!.vm.$emit("update:value", 10);
    const reason = document.body.querySelector("textarea")!;
    reason.value = "Bo is free";
    reason.dispatchEvent(new Event("input"));
    await settle();
    document.body.querySelector("form")!.dispatchEvent(new Event("submit"));
    await settle(10);
    expect(document.body.querySelector('[role="alert"]')?.textContent).toContain("It does not exist, or you cannot see it.");
    expect(dialog.emitted("done")).toBeUndefined();
  });
});
