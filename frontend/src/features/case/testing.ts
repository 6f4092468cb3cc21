// Test helpers for the case view: a fetch stand-in that answers by path and records the calls.
import { stubFetch } from "@/testing/stubFetch";

export interface Call {
  method: string;
  url: string;
  body: unknown;
}

type Answer = { status?: number; body: unknown } | ((call: Call) => { status?: number; body: unknown });

/** Answers fetches by "METHOD /path" prefix (query ignored); unknown requests get a 404. */
export function fakeFetch(routes: Record<string, Answer>): Call[] {
  const calls: Call[] = [];
  stubFetch(({ method, url, body }) => {
    const call = { method, url, body };
    calls.push(call);
    const path = url.split("?")[0];
    const key = Object.keys(routes)
      .filter((k) => `${method} ${path}`.startsWith(k))
      .sort((a, b) => b.length - a.length)[0];
    const found = key ? routes[key] : { status: 404, body: { type: "about:blank", detail: "no such path" } };
    const answer = typeof found === "function" ? found(call) : found;
    return { status: answer.status ?? 200, body: answer.body };
  });
  return calls;
}

export const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

import { mount, type VueWrapper } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import type { Component } from "vue";
import { createMemoryHistory, createRouter } from "vue-router";

import { i18n, setLocale, type Locale } from "@/i18n";
import { useSessionStore } from "@/stores/session";

const mounted: Array<{ unmount(): void }> = [];

export function cleanup(): void {
  mounted.splice(0).forEach((wrapper) => wrapper.unmount());
  document.body.innerHTML = "";
}

/** Mount with the app's i18n, a memory router, and a session for agent `meId`. */
export async function mountCase(component: Component, props: Record<string, unknown>, locale: Locale = "en", meId = 10): Promise<VueWrapper> {
  setLocale(locale);
  const pinia = createPinia();
  setActivePinia(pinia);
  const session = useSessionStore();
  session.me = { id: meId, email: "ada@example.test", name: "Ada Agent", role: "agent", presence: "online", languages: [], skills: [], memberships: [], authenticated_via: "session", scopes: [] };
  const Blank = { template: "<div />" };
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/", component: Blank }, { path: "/customers/:id", name: "customer", component: Blank }] });
  await router.push("/");
  // Loosely typed on purpose: each test passes its component's props as plain data.
  const mountAny = mount as unknown as (c: Component, options: Record<string, unknown>) => VueWrapper;
  const wrapper = mountAny(component, { props, global: { plugins: [i18n, router, pinia] }, attachTo: document.body });
  mounted.push(wrapper);
  return wrapper;
}
