import { afterEach, describe, expect, it } from "vitest";

import { useSessionStore } from "@/stores/session";
import { cleanup, fakeFetch, mountWith, settle } from "@/features/supervisor/testing";

import type { BoardItem } from "./api";
import BoardView from "./BoardView.vue";

afterEach(cleanup);

const dueSoon = new Date(Date.now() + 30 * 60_000).toISOString();
const startedAgo = new Date(Date.now() - 10 * 60_000).toISOString();

function item(overrides: Partial<BoardItem> = {}): BoardItem {
  return {
    ticket_id: 42,
    number: 1042,
    subject: "<b>Charged twice</b>",
    priority: "normal",
    version: 3,
    department_id: 7,
    kind: "case",
    task_key: null,
    lead: null,
    state: "open",
    workflow_name: "Complaint (12345 style)",
    step: "acknowledge",
    step_name: "Sign for 签收",
    since: "2026-05-01T08:00:00+00:00",
    from_department: { id: 2, name: "Front line" },
    clock: { kind: "acknowledge", status: "running", started_at: startedAgo, due_at: dueSoon },
    actions: [
      { action: "acknowledge", name: "Sign for 签收", required_fields: [], needs_task: false },
      { action: "return", name: "Return 退回", required_fields: ["reason"], needs_task: false },
      { action: "urge", name: "Urge", required_fields: [], needs_task: false },
    ],
    ...overrides,
  };
}

async function mountBoard(items: BoardItem[], extra: Record<string, unknown> = {}) {
  const calls = fakeFetch({ "GET /api/v1/departments/7/tasks": { department_id: 7, items }, ...extra });
  const signIn = () => {
    useSessionStore().me = {
    id: 3,
    email: "cy@example.test",
    name: "Cy",
    role: "back_office",
    presence: "online",
    languages: [],
    skills: [],
    memberships: [{ department_id: 7, department_name: "Billing back office", is_lead: false }],
    authenticated_via: "session",
    scopes: [],
    };
  };
  const { wrapper } = await mountWith(BoardView, {}, signIn);
  await settle(10);
  return { wrapper, calls };
}

describe("the department board", () => {
  it("shows each case with its origin, state and deadline, the subject as text", async () => {
    const { wrapper } = await mountBoard([item()]);
    const card = wrapper.get('[data-testid="board-card-42"]');
    expect(card.text()).toContain("#1042");
    expect(card.text()).toContain("<b>Charged twice</b>");
    expect(card.find("b").exists()).toBe(false);
    expect(card.text()).toContain("From Front line");
    expect(card.get('[data-testid="board-state"]').text()).toBe("Awaiting sign-for");
    expect(card.get(".sla-badge").attributes("data-risk")).toBe("warning");
    // Only the board's actions; urging is the dispatcher's, done from the case view.
    expect(card.findAll("button").map((b) => b.text())).toEqual(["Sign for", "Return"]);
  });

  it("signs for a case through the case actions API with the version it read", async () => {
    const { wrapper, calls } = await mountBoard([item()], { "POST /api/v1/tickets/42/case/actions": {} });
    await wrapper.findAll("button").find((b) => b.text() === "Sign for")!.trigger("click");
    await settle(10);
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.path).toBe("/api/v1/tickets/42/case/actions");
    expect(post.body).toEqual({ action: "acknowledge", version: 3, task_id: null, inputs: {} });
    // And the board reloads to show where the case went.
    expect(calls.filter((c) => c.path.startsWith("/api/v1/departments/7/tasks")).length).toBe(2);
  });

  it("returns a countersign task with its task id and the reason from the dialog", async () => {
    const task = item({
      kind: "countersign",
      task_key: "t2",
      lead: false,
      step: "investigation",
      actions: [
        { action: "complete_task", name: "Complete task", required_fields: ["task_opinion"], needs_task: true },
        { action: "return_task", name: "Return task", required_fields: ["reason"], needs_task: true },
      ],
    });
    const { wrapper, calls } = await mountBoard([task], { "POST /api/v1/tickets/42/case/actions": {} });
    expect(wrapper.get('[data-testid="board-state"]').text()).toBe("Open");
    await wrapper.findAll("button").find((b) => b.text() === "Return task")!.trigger("click");
    await settle();
    const form = document.body.querySelector("form")!;
    form.dispatchEvent(new Event("submit"));
    await settle();
    expect(document.body.textContent).toContain("Fill in this field.");
    const reason = document.body.querySelector("textarea")!;
    reason.value = "Not a finance matter";
    reason.dispatchEvent(new Event("input"));
    await settle();
    form.dispatchEvent(new Event("submit"));
    await settle(10);
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual({ action: "return_task", version: 3, task_id: "t2", inputs: { reason: "Not a finance matter" } });
  });

  it("asks for the new deadline and the reason of an extension request", async () => {
    const handling = item({
      step: "handle",
      actions: [{ action: "request_extension", name: "Request extension", required_fields: ["extension_until", "reason"], needs_task: false }],
    });
    const { wrapper } = await mountBoard([handling]);
    expect(wrapper.get('[data-testid="board-state"]').text()).toBe("Signed for");
    await wrapper.findAll("button").find((b) => b.text() === "Request extension")!.trigger("click");
    await settle();
    const labels = [...document.body.querySelectorAll("form label > span:first-child")].map((s) => s.textContent);
    expect(labels).toEqual(["New deadline", "Reason"]);
  });

  it("says when nothing awaits the department, and shows a failed load in words", async () => {
    const { wrapper } = await mountBoard([]);
    expect(wrapper.text()).toContain("Nothing awaits this department.");
    cleanup();
    const failing = await mountBoard([], { "GET /api/v1/departments/7/tasks": undefined });
    expect(failing.wrapper.text()).toContain("Try again");
  });
});
