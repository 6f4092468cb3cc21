// vue-i18n with zh-CN (the operator's staff) and English. Each feature keeps its own messages
// (features/<name>/messages.ts) and is listed once in FEATURE_MESSAGES, so screens can be
// built side by side without editing one shared catalogue.
import { createI18n } from "vue-i18n";

import { coreMessages } from "./core";
import { customerMessages } from "@/features/customer/messages";
import { notificationsMessages } from "@/features/notifications/messages";
import { inboxMessages } from "@/features/inbox/messages";
import { caseMessages } from "@/features/case/messages";
import { boardMessages } from "@/features/board/messages";
import { supervisorMessages } from "@/features/supervisor/messages";
import { adminMessages } from "@/features/admin/messages";
import type { MessageTree } from "./types";

export type Locale = "zh-CN" | "en";
export const LOCALES: Locale[] = ["zh-CN", "en"];
const STORAGE_KEY = "service-hub.locale";

// Feature catalogues: one line per feature, { en: {...}, "zh-CN": {...} } under its own namespace.
const FEATURE_MESSAGES: Array<Record<Locale, MessageTree>> = [
  coreMessages,
  customerMessages,
  notificationsMessages,
  inboxMessages,
  caseMessages,
  boardMessages,
  supervisorMessages,
  adminMessages,
];

export function registerMessages(messages: Record<Locale, MessageTree>): void {
  for (const locale of LOCALES) i18n.global.mergeLocaleMessage(locale, messages[locale]);
}

function initialLocale(): Locale {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem(STORAGE_KEY) : null;
  if (saved === "en" || saved === "zh-CN") return saved;
  const browser = typeof navigator !== "undefined" ? navigator.language : "zh-CN";
  return browser.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

function merged(locale: Locale): MessageTree {
  const out: MessageTree = {};
  for (const feature of FEATURE_MESSAGES) Object.assign(out, feature[locale]);
  return out;
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: "en",
  messages: { en: merged("en"), "zh-CN": merged("zh-CN") },
  missingWarn: false,
  fallbackWarn: false,
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  localStorage.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
}

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale;
}

/** For code outside components (the API client): returns the key itself when it is unknown. */
export function translate(key: string, values?: Record<string, unknown>): string {
  return values ? i18n.global.t(key, values) : i18n.global.t(key);
}
