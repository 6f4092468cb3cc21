import { flushPromises } from "@vue/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";

import { cannedBody, blankCanned } from "./canned";
import CannedView from "./CannedView.vue";
import { departments, fakeApi, mountAdmin } from "./testing";

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.innerHTML = "";
});

const row = (id: number, title: string, department_id: number | null, extra = {}) => ({
  id,
  title,
  body: `Body of ${title} {{customer.name}}`,
  shortcut: null,
  department_id,
  department_name: departments.find((d) => d.id === department_id)?.name ?? null,
  language: null,
  version: 3,
  can_edit: true,
  ...extra,
});

describe("cannedBody", () => {
  it("adds the shortcut's slash and sends null for no shortcut", () => {
    expect(cannedBody({ ...blankCanned(), title: " Hi ", body: "x", shortcut: "roaming" })).toEqual({ title: "Hi", body: "x", shortcut: "/roaming", department_id: null, language: null });
    expect(cannedBody({ ...blankCanned(), title: "Hi", body: "x", shortcut: " " }).shortcut).toBeNull();
  });
});

describe("canned responses administration", () => {
  it("lists global and department responses and creates one for a department", async () => {
    const calls = fakeApi({
      "GET /canned-responses": { items: [row(1, "Greeting", null, { shortcut: "/hi" }), row(2, "Roaming", 2, { can_edit: false })] },
      "GET /departments": departments,
      "POST /canned-responses": (body: unknown) => [201, { ...row(3, "Refund", 3), ...(body as object) }],
    });
    const wrapper = await mountAdmin(CannedView);
    const rows = wrapper.findAll("tbody tr");
    expect(rows.map((r) => r.findAll("td")[2].text())).toEqual(["Everyone", "Front line"]);
    expect(rows[0].text()).toContain("/hi");
    // Only the responses you may change offer Edit and Delete.
    expect(rows[1].findAll("button")).toHaveLength(0);
    expect(wrapper.text()).toContain("{{customer.name}}");

    await wrapper.get("#canned-title").setValue("Refund");
    await wrapper.get("#canned-shortcut").setValue("refund");
    await wrapper.get("#canned-scope").setValue("3");
    await wrapper.get("#canned-language").setValue("zh-CN");
    await wrapper.get("#canned-body").setValue("退款将在 7 天内到账，{{customer.name}}。");
    await wrapper.get("form:not([role='search'])").trigger("submit");
    await flushPromises();
    expect(calls.find((c) => c.method === "POST")).toEqual({
      method: "POST",
      path: "/canned-responses",
      body: { title: "Refund", body: "退款将在 7 天内到账，{{customer.name}}。", shortcut: "/refund", department_id: 3, language: "zh-CN" },
    });
    expect(wrapper.text()).toContain("Created Refund.");
  });

  it("edits with the version read, shows a conflict in words, and deletes after confirming", async () => {
    const calls = fakeApi({
      "GET /canned-responses": { items: [row(1, "Greeting", 2)] },
      "GET /departments": departments,
      "PATCH /canned-responses/1": () => [409, { type: "https://service-hub.dev/problems/conflict", status: 409, detail: "Canned response 1 was changed by someone else." }],
      "DELETE /canned-responses/1": () => [204, null],
    });
    const wrapper = await mountAdmin(CannedView);
    await wrapper.get('button[aria-label="Edit Greeting"]').trigger("click");
    expect((wrapper.get("#canned-scope").element as HTMLSelectElement).value).toBe("2");
    await wrapper.get("#canned-title").setValue("Greeting 2");
    await wrapper.get("form:not([role='search'])").trigger("submit");
    await flushPromises();
    expect(calls.find((c) => c.method === "PATCH")?.body).toMatchObject({ version: 3, title: "Greeting 2", department_id: 2 });
    expect(wrapper.get("[data-testid='form-error']").text()).toContain("Reload");

    await wrapper.get('button[aria-label="Delete Greeting"]').trigger("click");
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    const confirm = wrapper.findAll("button").find((b) => b.text() === "Delete for good")!;
    await confirm.trigger("click");
    await flushPromises();
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual(["/canned-responses/1"]);
    expect(wrapper.text()).toContain("Deleted Greeting.");
  });
});
