import { afterEach, describe, expect, it } from "vitest";

import type { Identity } from "./api";
import IdentityList from "./IdentityList.vue";
import { cleanup, mountWith } from "./testing";

const identity = (id: number, kind: Identity["kind"], value: string, extra: Partial<Identity> = {}): Identity => ({
  id,
  kind,
  value,
  account: "",
  display_value: null,
  verified: false,
  created_at: "2026-01-01T00:00:00+00:00",
  ...extra,
});

afterEach(cleanup);

describe("IdentityList", () => {
  it("lists each identity with its channel, value as shown to people and verified flag", async () => {
    const { wrapper } = await mountWith(IdentityList, {
      identities: [
        identity(1, "phone", "+8613700137000", { display_value: "137 0013 7000", verified: true }),
        identity(2, "email", "li.na@example.test"),
        identity(3, "wechat", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", { account: "wx1234" }),
      ],
    });
    const rows = wrapper.findAll("li").map((li) => li.text());
    expect(rows[0]).toMatch(/Phone\s*137 0013 7000\s*Verified/);
    expect(rows[1]).toMatch(/Email\s*li\.na@example\.test\s*Not verified/);
    expect(rows[2]).toContain("WeChat");
    expect(rows[2]).toContain("account wx1234");
  });

  it("says so when there is none, in Chinese too", async () => {
    const { wrapper } = await mountWith(IdentityList, { identities: [] }, "zh-CN");
    expect(wrapper.text()).toContain("暂无联系方式。");
  });
});
