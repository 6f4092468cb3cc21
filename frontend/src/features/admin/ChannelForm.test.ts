import { flushPromises } from "@vue/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";

import ChannelForm from "./ChannelForm.vue";
import { channelBody } from "./channelKinds";
import { departments, fakeApi, mountAdmin } from "./testing";

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.innerHTML = "";
});

const labels = (wrapper: Awaited<ReturnType<typeof mountAdmin>>) => wrapper.findAll("label").map((l) => l.text().replace(/\s*\*$/, ""));

describe("ChannelForm", () => {
  it("shows the credential and setting fields of the chosen kind", async () => {
    fakeApi({});
    const wrapper = await mountAdmin(ChannelForm, { account: null, departments });
    expect(labels(wrapper)).toEqual(expect.arrayContaining(["Account SID", "Auth token", "From number", "Provider API base URL"]));
    expect(labels(wrapper)).not.toContain("IMAP password");
    await wrapper.get("#channel-kind").setValue("email.mailbox");
    expect(labels(wrapper)).toEqual(expect.arrayContaining(["IMAP password", "SMTP password", "IMAP host", "SMTP port"]));
    expect(labels(wrapper)).not.toContain("Account SID");
    await wrapper.get("#channel-kind").setValue("social.wechat");
    expect(labels(wrapper)).toEqual(expect.arrayContaining(["App secret", "Token", "EncodingAESKey", "App ID"]));
    // Every label points at its input.
    for (const label of wrapper.findAll("label[for]")) expect(wrapper.find(`#${label.attributes("for")}`).exists()).toBe(true);
  });

  it("checks required fields, then posts only the kind's fields and shows the API's field errors beside them", async () => {
    const calls = fakeApi({
      "POST /channel-accounts": () => [
        422,
        { type: "https://service-hub.dev/problems/validation-failed", errors: { json: { settings: { api_base_url: ["Must be an http(s) URL."] } } } },
      ],
    });
    const wrapper = await mountAdmin(ChannelForm, { account: null, departments });
    await wrapper.get("form").trigger("submit");
    expect(calls).toHaveLength(0);
    expect(wrapper.text()).toContain("Fill in the required fields.");
    expect(wrapper.text()).toContain("Required.");

    await wrapper.get("#channel-name").setValue("Hotline");
    await wrapper.get("#channel-department").setValue("2");
    await wrapper.get("#channel-cred-account_sid").setValue("AC1");
    await wrapper.get("#channel-cred-auth_token").setValue("secret");
    await wrapper.get("#channel-set-api_base_url").setValue("ftp://x");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(calls).toEqual([
      {
        method: "POST",
        path: "/channel-accounts",
        body: { kind: "sms.twilio", name: "Hotline", default_department_id: 2, credentials: { account_sid: "AC1", auth_token: "secret" }, settings: { api_base_url: "ftp://x" }, is_active: true },
      },
    ]);
    const field = wrapper.get("#channel-set-api_base_url").element.closest(".n-form-item")!;
    expect(field.textContent).toContain("Must be an http(s) URL.");
  });

  it("keeps stored credentials on edit: blanks are left out and the kind is not sent", () => {
    const body = channelBody(
      { kind: "sms.twilio", name: " SMS ", default_department_id: 2, credentials: { account_sid: "", auth_token: "new" }, settings: { from_number: "+1", imap_host: "x" }, is_active: false },
      true,
    );
    expect(body).toEqual({ name: "SMS", default_department_id: 2, credentials: { auth_token: "new" }, settings: { from_number: "+1" }, is_active: false });
  });
});
