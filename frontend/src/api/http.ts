// The one way the app talks to the API: same-origin JSON, the CSRF token on writes, and every
// failure turned into an ApiError whose message a person can read (RFC 9457 problem details).
import { translate } from "@/i18n";

export const API_BASE = "/api/v1";

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: Record<string, unknown>;
  request_id?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem | null;
  /** Field errors flattened to "field.path" -> messages, for forms to show beside their inputs. */
  readonly fieldErrors: Record<string, string[]>;

  constructor(status: number, problem: Problem | null) {
    const code = problemCode(problem, status);
    const fieldErrors = flattenFieldErrors(problem?.errors);
    super(problemMessage(code, problem, status, fieldErrors));
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.problem = problem;
    this.fieldErrors = fieldErrors;
  }
}

/** Thrown when the server cannot be reached at all (offline, server down). */
export class NetworkError extends Error {
  constructor() {
    super(translate("errors.network"));
    this.name = "NetworkError";
  }
}

/** The problem's code: the last segment of its type URI ("…/problems/reply-collision"). */
export function problemCode(problem: Problem | null, status: number): string {
  const type = problem?.type ?? "";
  const code = type.split("/").pop();
  return code && code !== "about:blank" ? code : `http-${status}`;
}

/** webargs nests field errors by location ("json", "query"); a person needs "subject: …". */
export function flattenFieldErrors(errors: unknown, path: string[] = []): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (Array.isArray(errors)) {
    out[path.join(".") || "request"] = errors.map(String);
  } else if (errors && typeof errors === "object") {
    for (const [key, value] of Object.entries(errors)) {
      const skip = path.length === 0 && ["json", "query", "form", "files", "path"].includes(key);
      Object.assign(out, flattenFieldErrors(value, skip ? path : [...path, key]));
    }
  }
  return out;
}

/**
 * What to tell the person: a translated sentence for the codes we know (so zh-CN users read
 * Chinese), else the server's own detail, then the field errors.
 */
export function problemMessage(code: string, problem: Problem | null, status: number, fieldErrors: Record<string, string[]>): string {
  const known = translate(`errors.codes.${code}`);
  const base = known !== `errors.codes.${code}` ? known : problem?.detail || translate("errors.status", { status });
  const fields = Object.entries(fieldErrors).map(([field, messages]) => `${field}: ${messages.join(" ")}`);
  return [base, ...fields].join(" ");
}

let csrfToken: string | null = null;
let onUnauthenticated: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** The session store registers this, so any 401 (expired session) sends the user to the login page. */
export function setUnauthenticatedHandler(handler: (() => void) | null): void {
  onUnauthenticated = handler;
}

export type Query = Record<string, string | number | boolean | null | undefined | Array<string | number>>;

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) value.forEach((item) => params.append(key, String(item)));
    else params.set(key, String(value));
  }
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ""}`;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** multipart uploads: sent as is, without a JSON content type */
  form?: FormData;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken ?? "";
  let body: BodyInit | undefined;
  if (options.form) body = options.form;
  else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), { method, headers, body, credentials: "same-origin", signal: options.signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new NetworkError();
  }
  const text = await response.text();
  const type = response.headers.get("Content-Type") ?? "";
  const data: unknown = text && type.includes("json") ? JSON.parse(text) : null;
  if (!response.ok) {
    if (response.status === 401 && onUnauthenticated && !path.startsWith("/auth/")) onUnauthenticated();
    throw new ApiError(response.status, (data as Problem | null) ?? null);
  }
  return data as T;
}

export const http = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>("GET", path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, { body }),
  put: <T>(path: string, body?: unknown) => request<T>("PUT", path, { body }),
  patch: <T>(path: string, body?: unknown, headers?: Record<string, string>) => request<T>("PATCH", path, { body, headers }),
  delete: <T>(path: string) => request<T>("DELETE", path),
  upload: <T>(path: string, form: FormData) => request<T>("POST", path, { form }),
};

/** A keyset page as the API returns it. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Any error as one sentence for a person. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError || error instanceof NetworkError) return error.message;
  return translate("errors.unexpected");
}
