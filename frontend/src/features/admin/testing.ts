// Test helpers for the admin screens: the app's real i18n, and fetch answered by a table of routes
// (the API's edge), recording every request with its parsed JSON body.
import { flushPromises, mount } from "@vue/test-utils";
import { vi } from "vitest";
import type { Component } from "vue";

import { i18n, setLocale } from "@/i18n";

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

type Answer = unknown | ((body: unknown) => [number, unknown]);

/** routes: "METHOD /path" (without /api/v1 and the query) -> JSON answer, or fn(body) -> [status, json]. */
export function fakeApi(routes: Record<string, Answer>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      const path = new URL(url, "http://test").pathname.replace(/^\/api\/v1/, "");
      const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
      calls.push({ method, path, body });
      const answer = routes[`${method} ${path}`];
      if (answer === undefined) return new Response(JSON.stringify({ detail: `no route ${method} ${path}` }), { status: 404, headers: { "Content-Type": "application/json" } });
      const [status, json] = typeof answer === "function" ? (answer as (b: unknown) => [number, unknown])(body) : [200, answer];
      return new Response(status === 204 ? null : JSON.stringify(json), { status, headers: { "Content-Type": "application/problem+json" } });
    }),
  );
  return calls;
}

export async function mountAdmin(component: Component, props: Record<string, unknown> = {}) {
  setLocale("en");
  // The props are each test's business; mount's per-component typing cannot check a table of them.
  const wrapper = mount(component as { props?: never }, { props: props as never, global: { plugins: [i18n] }, attachTo: document.body });
  await flushPromises();
  return wrapper;
}

export const departments = [
  { id: 1, code: "bj", name: "Beijing Centre", kind: "centre", parent_id: null, functions: [], is_active: true },
  { id: 2, code: "front", name: "Front line", kind: "department", parent_id: 1, functions: ["front_line"], is_active: true },
  { id: 3, code: "billing", name: "Billing back office", kind: "department", parent_id: 1, functions: ["billing"], is_active: true },
];
