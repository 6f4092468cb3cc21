import { afterEach, describe, expect, it, vi } from "vitest";

import { insertAt, matching, slashQuery, type CannedResponse } from "./canned";
import CaseComposer from "./CaseComposer.vue";
import { cleanup, fakeFetch, flush, mountCase } from "./testing";

const ticket = {
  id: 5,
  number: 1042,
  subject: "Roaming",
  status: "open",
  priority: "urgent",
  channel: "sms",
  tier: "gold",
  customer: { id: 3, name: "Li Na" },
  department: { id: 2, name: "Front line" },
  assignee: null,
  version: 1,
  next_due_at: null,
  messages: [],
};

const item = (id: number, title: string, shortcut: string | null, body: string): CannedResponse => ({
  id,
  title,
  shortcut,
  body,
  department_id: null,
  department_name: null,
  language: null,
});
const items = [
  item(1, "Roaming charges", "/roaming", "Dear {{customer.name}}, roaming in case {{ticket.number}}."),
  item(2, "Refund", "/refund", "We refund within 7 days. {{customer.balance}}"),
  item(3, "Broadband outage", null, "Engineers are on the way."),
];

function world() {
  return fakeFetch({
    "GET /api/v1/customers/3": { body: { identities: [] } },
    "GET /api/v1/canned-responses": { body: { items } },
    "GET /api/v1/tickets/5/canned-responses/1/render": { body: { id: 1, ticket_id: 5, text: "Dear Li Na, roaming in case 1042.", unknown: [], empty: [] } },
    "GET /api/v1/tickets/5/canned-responses/2/render": {
      body: { id: 2, ticket_id: 5, text: "We refund within 7 days. {{customer.balance}}", unknown: ["customer.balance"], empty: [] },
    },
    "POST /api/v1/tickets/5/messages": { status: 201, body: { id: 100, collision: null } },
  });
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200)); // the picker's search debounce
  await flush();
  await flush();
}

describe("canned response text logic", () => {
  it("sees a shortcut only as the whole reply so far", () => {
    expect(slashQuery("/")).toBe("/");
    expect(slashQuery("/roa")).toBe("/roa");
    expect(slashQuery("")).toBeNull();
    expect(slashQuery("Hi /roa")).toBeNull();
    expect(slashQuery("/roa ming")).toBeNull();
  });

  it("matches shortcuts by prefix and other text anywhere", () => {
    expect(matching(items, "/RE").map((i) => i.id)).toEqual([2]);
    expect(matching(items, "/").map((i) => i.id)).toEqual([1, 2]);
    expect(matching(items, "engineers").map((i) => i.id)).toEqual([3]);
    expect(matching(items, "").map((i) => i.id)).toEqual([1, 2, 3]);
  });

  it("inserts at the caret, replacing a selection", () => {
    expect(insertAt("Hello  bye", 6, 6, "X")).toEqual({ text: "Hello X bye", caret: 7 });
    expect(insertAt("Hello old bye", 6, 9, "new")).toEqual({ text: "Hello new bye", caret: 9 });
  });
});

describe("canned responses in the composer", () => {
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("opens a searchable list from the button and inserts the rendered text at the caret", async () => {
    const calls = world();
    const wrapper = await mountCase(CaseComposer, { ticket, seenMessageId: 7 });
    const box = wrapper.find("textarea").element as HTMLTextAreaElement;
    await wrapper.find("textarea").setValue("Hello\n\nBest regards");
    box.setSelectionRange(6, 6);

    const button = wrapper.find("[data-testid='canned-button']");
    expect(button.text()).toBe("Canned response");
    await button.trigger("click");
    await settle();
    expect(button.attributes("aria-expanded")).toBe("true");
    const search = wrapper.find("input[type='search']");
    expect(document.activeElement).toBe(search.element);
    expect(wrapper.find(`label[for='${search.attributes("id")}']`).text()).toBe("Search canned responses");
    expect(wrapper.findAll("[role='option']")).toHaveLength(3);

    await search.setValue("roaming");
    await settle();
    expect(calls.some((c) => c.url.startsWith("/api/v1/canned-responses?") && c.url.includes("q=roaming"))).toBe(true);
    expect(wrapper.findAll("[role='option']").map((o) => o.find(".title").text())).toEqual(["Roaming charges"]);
    await search.trigger("keydown", { key: "Enter" });
    await flush();
    await flush();

    expect(calls.some((c) => c.url === "/api/v1/tickets/5/canned-responses/1/render")).toBe(true);
    expect(box.value).toBe("Hello\nDear Li Na, roaming in case 1042.\nBest regards");
    expect(wrapper.find("[data-testid='canned-picker']").exists()).toBe(false);
    expect(document.activeElement).toBe(box);
    expect(box.selectionStart).toBe(6 + "Dear Li Na, roaming in case 1042.".length);
  });

  it("opens filtered by shortcut on '/' in an empty reply, picks with the keyboard and warns of unknown variables", async () => {
    const calls = world();
    const wrapper = await mountCase(CaseComposer, { ticket, seenMessageId: 7 });
    const textarea = wrapper.find("textarea");
    await textarea.setValue("/");
    await settle();
    expect(wrapper.findAll("[role='option']").map((o) => o.find(".shortcut").text())).toEqual(["/roaming", "/refund"]);
    await textarea.setValue("/r");
    await settle();
    await textarea.trigger("keydown", { key: "ArrowDown" });
    expect(textarea.attributes("aria-activedescendant")).toBe(wrapper.findAll("[role='option']")[1].attributes("id"));
    await textarea.trigger("keydown", { key: "Enter" });
    await flush();
    await flush();

    expect((textarea.element as HTMLTextAreaElement).value).toBe("We refund within 7 days. {{customer.balance}}");
    expect(wrapper.text()).toContain("Left as written, not a known variable: {{customer.balance}}.");
    expect(wrapper.find("[data-testid='canned-picker']").exists()).toBe(false);

    await wrapper.find("button.n-button--primary-type").trigger("click");
    await flush();
    await flush();
    expect(calls.at(-1)).toMatchObject({ method: "POST", body: { kind: "reply", body_text: "We refund within 7 days. {{customer.balance}}" } });
  });

  it("closes the shortcut list when the reply stops being a shortcut, or on Escape", async () => {
    world();
    const wrapper = await mountCase(CaseComposer, { ticket });
    const textarea = wrapper.find("textarea");
    await textarea.setValue("/ro");
    await settle();
    expect(wrapper.find("[data-testid='canned-picker']").exists()).toBe(true);
    await textarea.setValue("/ro and more");
    expect(wrapper.find("[data-testid='canned-picker']").exists()).toBe(false);
    await textarea.setValue("/");
    expect(wrapper.find("[data-testid='canned-picker']").exists()).toBe(true);
    await textarea.trigger("keydown", { key: "Escape" });
    expect(wrapper.find("[data-testid='canned-picker']").exists()).toBe(false);
  });
});
