import { describe, expect, it } from "vitest";

import { setLocale } from "@/i18n";

import { ApiError, buildUrl, flattenFieldErrors, problemCode } from "./http";

describe("problem details to words", () => {
  it("takes the code from the type URI, else the status", () => {
    expect(problemCode({ type: "https://service-hub.dev/problems/reply-collision" }, 409)).toBe("reply-collision");
    expect(problemCode(null, 502)).toBe("http-502");
  });

  it("drops webargs' location level from field errors", () => {
    expect(flattenFieldErrors({ json: { subject: ["Missing data."], customer: { phone: ["Not a phone."] } } })).toEqual({
      subject: ["Missing data."],
      "customer.phone": ["Not a phone."],
    });
  });

  it("says a known code in the chosen language, and an unknown one by the server's detail", () => {
    setLocale("zh-CN");
    const known = new ApiError(409, { type: "https://service-hub.dev/problems/reply-collision", detail: "Someone replied" });
    expect(known.message).toContain("同事已回复");
    setLocale("en");
    expect(new ApiError(409, { type: "https://service-hub.dev/problems/reply-collision" }).message).toContain("A colleague replied");
    const unknown = new ApiError(400, { type: "https://service-hub.dev/problems/odd-thing", detail: "The odd thing happened." });
    expect(unknown.message).toBe("The odd thing happened.");
  });

  it("appends field errors so a form knows what to fix", () => {
    setLocale("en");
    const error = new ApiError(422, { type: "https://service-hub.dev/problems/validation-failed", errors: { json: { subject: ["Missing data."] } } });
    expect(error.message).toBe("Some fields need attention. subject: Missing data.");
    expect(error.fieldErrors).toEqual({ subject: ["Missing data."] });
  });
});

describe("buildUrl", () => {
  it("skips empty values and repeats arrays", () => {
    expect(buildUrl("/tickets", { status: "open", q: "", tag: ["a", "b"], cursor: null })).toBe("/api/v1/tickets?status=open&tag=a&tag=b");
  });
});
