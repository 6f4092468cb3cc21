// What each kind of channel account needs (channels/*/adapter credential_fields and setting_fields),
// and the request body a channel form sends.
import type { ChannelAccountInput } from "./api";

export interface ChannelKind {
  kind: string;
  credentials: string[];
  settings: string[];
}

export const CHANNEL_KINDS: ChannelKind[] = [
  { kind: "sms.twilio", credentials: ["account_sid", "auth_token"], settings: ["from_number", "messaging_service_sid", "api_base_url", "webhook_base_url"] },
  {
    kind: "email.mailbox",
    credentials: ["imap_password", "smtp_password"],
    settings: [
      "address",
      "display_name",
      "message_id_domain",
      "imap_host",
      "imap_port",
      "imap_user",
      "imap_folder",
      "imap_security",
      "imap_processed_folder",
      "smtp_host",
      "smtp_port",
      "smtp_user",
      "smtp_security",
      "max_bytes",
      "max_attachment_bytes",
    ],
  },
  { kind: "phone.twilio", credentials: ["account_sid", "auth_token"], settings: ["ivr_departments", "workflow_sid", "webhook_base_url"] },
  { kind: "phone.cti", credentials: ["signing_secret"], settings: ["replay_window_seconds", "webhook_base_url"] },
  { kind: "social.wechat", credentials: ["app_secret", "token", "encoding_aes_key"], settings: ["app_id", "api_base_url", "webhook_base_url"] },
  { kind: "social.whatsapp", credentials: ["app_secret", "access_token", "verify_token"], settings: ["phone_number_id", "graph_version", "api_base_url", "webhook_base_url"] },
  { kind: "social.messenger", credentials: ["app_secret", "access_token", "verify_token"], settings: ["page_id", "graph_version", "api_base_url", "webhook_base_url"] },
];

export function kindSpec(kind: string): ChannelKind {
  return CHANNEL_KINDS.find((k) => k.kind === kind) ?? { kind, credentials: [], settings: [] };
}

/** The i18n key of a kind's name ("sms.twilio" -> admin.channels.kinds.sms_twilio: a dot would be a path). */
export function kindKey(kind: string): string {
  return `admin.channels.kinds.${kind.replace(/\./g, "_")}`;
}

/** The kinds whose accounts can send a message (a test message goes out through them). */
export function canSendTest(kind: string): boolean {
  return !kind.startsWith("phone.");
}

export interface ChannelDraft {
  kind: string;
  name: string;
  default_department_id: number | null;
  credentials: Record<string, string>;
  settings: Record<string, string>;
  is_active: boolean;
}

/**
 * The body for POST (create) or PATCH (edit). Credentials are write-only: a blank one is left out,
 * so editing keeps the stored secret; settings of the kind are sent whole (the API replaces them).
 */
export function channelBody(draft: ChannelDraft, editing: boolean): ChannelAccountInput {
  const spec = kindSpec(draft.kind);
  const pick = (names: string[], values: Record<string, string>) =>
    Object.fromEntries(names.map((name) => [name, (values[name] ?? "").trim()]).filter(([, value]) => value !== ""));
  const body: ChannelAccountInput = {
    name: draft.name.trim(),
    default_department_id: draft.default_department_id ?? 0,
    credentials: pick(spec.credentials, draft.credentials),
    settings: pick(spec.settings, draft.settings),
    is_active: draft.is_active,
  };
  return editing ? body : { kind: draft.kind, ...body };
}

/** The values a form must have, by field path (every credential of the kind when creating). */
export function requiredValues(draft: ChannelDraft, editing: boolean): Record<string, unknown> {
  const values: Record<string, unknown> = { name: draft.name, default_department_id: draft.default_department_id };
  if (!editing) for (const name of kindSpec(draft.kind).credentials) values[`credentials.${name}`] = draft.credentials[name] ?? "";
  return values;
}
