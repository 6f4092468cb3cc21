// One form's submit state: busy, the API's field errors (shown beside their fields), the message
// in words, and whether the failure was someone else's change (409: reload, then try again).
import { reactive } from "vue";

import { ApiError, errorText, type Problem } from "@/api/http";
import { translate } from "@/i18n";

export interface FormState {
  busy: boolean;
  message: string;
  conflict: boolean;
  fieldErrors: Record<string, string[]>;
  /** The last failure's problem details, for forms that read more than the field errors. */
  problem: Problem | null;
}

export function useFormState() {
  const state = reactive<FormState>({ busy: false, message: "", conflict: false, fieldErrors: {}, problem: null });

  function reset(): void {
    state.message = "";
    state.conflict = false;
    state.fieldErrors = {};
    state.problem = null;
  }

  /** The error text for a field path ("name", "settings.api_base_url"), or undefined. */
  function fieldError(path: string): string | undefined {
    const messages = state.fieldErrors[path];
    return messages?.length ? messages.join(" ") : undefined;
  }

  /** Client-side required check: every blank value gets "Required" beside its field. */
  function requireFields(values: Record<string, unknown>): boolean {
    reset();
    for (const [path, value] of Object.entries(values)) {
      const blank = value === null || value === undefined || (typeof value === "string" && !value.trim()) || (Array.isArray(value) && !value.length);
      if (blank) state.fieldErrors[path] = [translate("admin.form.required")];
    }
    if (Object.keys(state.fieldErrors).length) {
      state.message = translate("admin.form.fixFields");
      return false;
    }
    return true;
  }

  /** Runs the call; on failure fills the message, the field errors and the conflict flag. */
  async function submit<T>(call: () => Promise<T>): Promise<T | undefined> {
    reset();
    state.busy = true;
    try {
      return await call();
    } catch (error) {
      state.message = errorText(error);
      if (error instanceof ApiError) {
        state.fieldErrors = error.fieldErrors;
        state.conflict = error.status === 409;
        state.problem = error.problem;
      }
      return undefined;
    } finally {
      state.busy = false;
    }
  }

  return { state, reset, fieldError, requireFields, submit };
}

export type FormHandle = ReturnType<typeof useFormState>;
