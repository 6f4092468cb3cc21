// Mounting the dashboard's and the board's components in tests: the app's real i18n, a memory
// router for their links, Naive UI's message provider, and fetch answered per "METHOD path".
import { mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { NMessageProvider } from "naive-ui";
import { defineComponent, h, type Component } from "vue";
import { createMemoryHistory, createRouter } from "vue-router";
import { vi } from "vitest";

import { i18n, setLocale } from "@/i18n";
import { stubFetch } from "@/testing/stubFetch";

const Blank = { template: "<div />" };
const mounted: Array<{ unmount(): void }> = [];

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

/** fetch answered from `routes` ("GET /api/v1/x" -> JSON body); every call recorded. */
export function fakeFetch(routes: Record<string, unknown>): Call[] {
  const calls: Call[] = [];
  stubFetch(({ method, url, path, body }) => {
    calls.push({ method, path: url, body });
    const key = `${method} ${path}`;
    if (!(key in routes)) return { status: 404, body: { title: "Not Found", status: 404 }, contentType: "application/problem+json" };
    return { body: routes[key] };
  });
  return calls;
}

/** prepare runs with the fresh Pinia active, before mounting (e.g. to set the session's agent). */
export async function mountWith(component: Component, props: Record<string, unknown> = {}, prepare?: () => void) {
  setLocale("en");
  const pinia = createPinia();
  setActivePinia(pinia);
  prepare?.();
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/:any(.*)*", component: Blank }] });
  await router.push("/");
  const Harness = defineComponent({ setup: () => () => h(NMessageProvider, null, { default: () => h(component, props) }) });
  const wrapper = mount(Harness, { global: { plugins: [i18n, router, pinia] }, attachTo: document.body });
  mounted.push(wrapper);
  return { wrapper, router, pinia };
}

export function cleanup(): void {
  mounted.splice(0).forEach((wrapper) => wrapper.unmount());
  document.body.innerHTML = "";
  vi.unstubAllGlobals();
}

/** Let promises and Vue's re-render settle. */
export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i += 1) await new Promise((resolve) => setTimeout(resolve, 0));
}
