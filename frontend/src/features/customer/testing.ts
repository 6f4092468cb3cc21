// Mounting this feature's components in tests: the app's real i18n and a memory router that knows
// the routes the components link to.
import { mount } from "@vue/test-utils";
import type { Component } from "vue";
import { createMemoryHistory, createRouter, type Router } from "vue-router";

import { i18n, setLocale, type Locale } from "@/i18n";

const Blank = { template: "<div />" };
const mounted: Array<{ unmount(): void }> = [];

/** Unmount what mountWith mounted: a component left mounted keeps listening to realtime events. */
export function cleanup(): void {
  mounted.splice(0).forEach((wrapper) => wrapper.unmount());
  document.body.innerHTML = "";
}

export function testRouter(): Router {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: "/", component: Blank },
      { path: "/customers/:id", name: "customer", component: Blank },
      { path: "/tickets/:id", name: "ticket", component: Blank },
    ],
  });
}

export async function mountWith(component: Component, props: Record<string, unknown>, locale: Locale = "en") {
  setLocale(locale);
  const router = testRouter();
  await router.push("/");
  // Loosely typed on purpose: tests pass each component its props as plain data.
  const wrapper = mount(component as never, { props: props as never, global: { plugins: [i18n, router] }, attachTo: document.body });
  mounted.push(wrapper);
  return { wrapper, router };
}
