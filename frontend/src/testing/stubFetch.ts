// The API's edge in component tests: fetch replaced for one test, every request recorded with its
// parsed JSON body, and answered by the test's own table or function. Features keep thin helpers
// on top of this (their route syntax differs); the plumbing lives here once.
import { vi } from "vitest";

export interface FetchCall {
  method: string;
  /** as the app passed it, query included ("/api/v1/tickets?limit=25") */
  url: string;
  /** the path alone ("/api/v1/tickets") */
  path: string;
  body: unknown;
}

export interface FakeAnswer {
  status?: number;
  body?: unknown;
  contentType?: string;
}

/** Replace fetch until vi.unstubAllGlobals(); returns the list the requests are recorded in. */
export function stubFetch(answer: (call: FetchCall) => FakeAnswer): FetchCall[] {
  const calls: FetchCall[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const call: FetchCall = {
        method: init.method ?? "GET",
        url,
        path: new URL(url, "http://localhost").pathname,
        body: typeof init.body === "string" && init.body ? JSON.parse(init.body) : undefined,
      };
      calls.push(call);
      const { status = 200, body, contentType = "application/json" } = answer(call);
      const text = status === 204 || body === undefined ? null : JSON.stringify(body);
      return new Response(text, { status, headers: { "Content-Type": contentType } });
    }),
  );
  return calls;
}
