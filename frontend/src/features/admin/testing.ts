// Test helpers for the admin screens: the app's real i18n, and fetch answered by a table of routes
// (the API's edge), recording every request with its parsed JSON body.
import { flushPromises, mount } from "@vue/test-utils";
import type { Component } from "vue";

import { i18n, setLocale } from "@/i18n";
import { stubFetch } from "@/testing/stubFetch";

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

type Answer = unknown | ((body: unknown) => [number, unknown]);

/** routes: "METHOD /path" (without /api/v1 and the query) -> JSON answer, or fn(body) -> [status, json]. */
export function fakeApi(routes: Record<string, Answer>): Call[] {
  const calls: Call[] = [];
  stubFetch(({ method, path: fullPath, body }) => {
    const path = fullPath.replace(/^\/api\/v1/, "");
    calls.push({ method, path, body });
    const answer = routes[`${method} ${path}`];
    if (answer === undefined) return { status: 404, body: { detail: `no route ${method} ${path}` } };
    const [status, json] = typeof answer === "function" ? (answer as (b: unknown) => [number, unknown])(body) : [200, answer];
    return { status, body: json, contentType: "application/problem+json" };
  });
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
