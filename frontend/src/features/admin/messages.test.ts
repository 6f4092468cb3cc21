// Every admin string the screens ask for exists in both languages (a missing one would show its key).
import { describe, expect, it } from "vitest";

import { CHANNEL_KINDS, kindKey } from "./channelKinds";
import { adminMessages } from "./messages";

const files = import.meta.glob<string>(["./*.vue", "./*.ts", "!./*.test.ts", "!./messages.ts"], { query: "?raw", import: "default", eager: true });

function lookup(tree: unknown, key: string): unknown {
  return key.split(".").reduce<unknown>((node, part) => (node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined), tree);
}

describe("admin messages", () => {
  const sources = Object.values(files).join("\n");
  const keys = [...new Set([...sources.matchAll(/["'`](admin\.[a-zA-Z0-9_.]*[a-zA-Z0-9_])["'`]/g)].map((m) => m[1]!))];

  it("has every literal key in English and Chinese", () => {
    expect(keys.length).toBeGreaterThan(100);
    const missing = (["en", "zh-CN"] as const).flatMap((locale) => keys.filter((key) => typeof lookup(adminMessages[locale], key) !== "string").map((key) => `${locale}:${key}`));
    expect(missing).toEqual([]);
  });

  it("names every channel kind in both languages", () => {
    for (const locale of ["en", "zh-CN"] as const) for (const { kind } of CHANNEL_KINDS) expect(lookup(adminMessages[locale], kindKey(kind)), kind).toEqual(expect.any(String));
  });
});
