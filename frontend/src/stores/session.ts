// Who is logged in. The session cookie is the credential (HttpOnly, set by the API); this store
// keeps the current agent and the CSRF token, and sends the user back to login on any 401.
import { defineStore } from "pinia";
import { computed, ref } from "vue";

import { authApi } from "@/api/auth";
import { ApiError, setCsrfToken, setUnauthenticatedHandler } from "@/api/http";
import type { Me } from "@/api/types";
import { realtime } from "@/realtime/socket";

export const useSessionStore = defineStore("session", () => {
  const me = ref<Me | null>(null);
  const checked = ref(false);
  /** Why the login page is shown (expired session, logged out), as an i18n key. */
  const reason = ref<string | null>(null);

  const isSupervisor = computed(() => me.value?.role === "supervisor" || me.value?.role === "admin");
  const isAdmin = computed(() => me.value?.role === "admin");
  const departmentIds = computed(() => me.value?.memberships.map((m) => m.department_id) ?? []);

  function start(agent: Me): void {
    me.value = agent;
    reason.value = null;
    if (agent.csrf_token) setCsrfToken(agent.csrf_token);
    realtime.connect();
  }

  function end(why: string | null): void {
    me.value = null;
    reason.value = why;
    setCsrfToken(null);
    realtime.disconnect();
  }

  /** On page load: is there a live session cookie? */
  async function restore(): Promise<void> {
    if (checked.value) return;
    try {
      const [agent, csrf] = await Promise.all([authApi.me(), authApi.csrf()]);
      start({ ...agent, csrf_token: csrf.csrf_token });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
    } finally {
      checked.value = true;
    }
  }

  async function login(email: string, password: string): Promise<void> {
    setCsrfToken((await authApi.csrf()).csrf_token);
    start(await authApi.login(email, password));
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
    }
    end("login.loggedOut");
  }

  setUnauthenticatedHandler(() => {
    if (me.value) end("login.expired");
  });

  return { me, checked, reason, isSupervisor, isAdmin, departmentIds, restore, login, logout };
});
