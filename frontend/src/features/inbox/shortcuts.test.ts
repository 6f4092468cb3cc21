import { describe, expect, it } from "vitest";

import { isTypingTarget, ShortcutReader } from "./shortcuts";

function key(k: string, target: EventTarget | null = document.body, extra: Partial<KeyboardEvent> = {}) {
  return { key: k, ctrlKey: false, metaKey: false, altKey: false, isComposing: false, target, ...extra };
}

describe("ShortcutReader", () => {
  it("maps keys to actions", () => {
    const reader = new ShortcutReader();
    expect(reader.read(key("j"))).toEqual({ kind: "move", by: 1 });
    expect(reader.read(key("ArrowUp"))).toEqual({ kind: "move", by: -1 });
    expect(reader.read(key("o"))).toEqual({ kind: "open" });
    expect(reader.read(key("Enter"))).toEqual({ kind: "open" });
    expect(reader.read(key("r"))).toEqual({ kind: "open", compose: "reply" });
    expect(reader.read(key("n"))).toEqual({ kind: "open", compose: "note" });
    expect(reader.read(key("a"))).toEqual({ kind: "assign" });
    expect(reader.read(key("/"))).toEqual({ kind: "search" });
    expect(reader.read(key("?"))).toEqual({ kind: "help" });
    expect(reader.read(key("x"))).toBeNull();
  });

  it("reads g then i as 'go to inbox', only within a moment", () => {
    const reader = new ShortcutReader();
    expect(reader.read(key("g"), 1000)).toBeNull();
    expect(reader.read(key("i"), 1500)).toEqual({ kind: "goInbox" });
    reader.read(key("g"), 1000);
    expect(reader.read(key("i"), 5000)).toBeNull();
    reader.read(key("g"), 1000);
    expect(reader.read(key("j"), 1100)).toEqual({ kind: "move", by: 1 }); // another key cancels the sequence
    expect(reader.read(key("i"), 1200)).toBeNull();
  });

  it("never fires while typing, with modifiers, or on Enter on a button", () => {
    const reader = new ShortcutReader();
    const input = document.createElement("input");
    const area = document.createElement("textarea");
    const button = document.createElement("button");
    document.body.append(input, area, button);
    expect(reader.read(key("j", input))).toBeNull();
    expect(reader.read(key("/", area))).toBeNull();
    expect(reader.read(key("j", document.body, { ctrlKey: true }))).toBeNull();
    expect(reader.read(key("Enter", button))).toBeNull();
    expect(reader.read(key("o", button))).toEqual({ kind: "open" });
    expect(isTypingTarget(input)).toBe(true);
    expect(isTypingTarget(document.body)).toBe(false);
  });
});
