// The inbox's keyboard shortcuts, as a pure reader from key events to actions (the view acts).
// They never fire while the person types in a field, nor with Ctrl/Alt/Meta (browser shortcuts).

export type ShortcutAction =
  | { kind: "move"; by: 1 | -1 }
  | { kind: "open"; compose?: "reply" | "note" }
  | { kind: "assign" }
  | { kind: "search" }
  | { kind: "help" }
  | { kind: "goInbox" };

/** Shown in the help dialog, in this order: keys and the i18n key of what they do. */
export const SHORTCUT_HELP: Array<{ keys: string[]; action: string }> = [
  { keys: ["j", "↓"], action: "next" },
  { keys: ["k", "↑"], action: "previous" },
  { keys: ["o", "Enter"], action: "open" },
  { keys: ["r"], action: "reply" },
  { keys: ["n"], action: "note" },
  { keys: ["a"], action: "assign" },
  { keys: ["/"], action: "search" },
  { keys: ["g", "i"], action: "goInbox" },
  { keys: ["?"], action: "help" },
];

const SEQUENCE_MS = 1500;

export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).closest !== "function") return false;
  const element = target as HTMLElement;
  if (element.isContentEditable) return true;
  return element.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], [role='combobox'], [role='textbox']") !== null;
}

type KeyLike = Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "target" | "isComposing">;

export class ShortcutReader {
  private gAt: number | null = null;

  read(event: KeyLike, now: number = Date.now()): ShortcutAction | null {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing || isTypingTarget(event.target)) return null;
    const afterG = this.gAt !== null && now - this.gAt < SEQUENCE_MS;
    this.gAt = null;
    if (afterG && event.key === "i") return { kind: "goInbox" };
    switch (event.key) {
      case "j":
      case "ArrowDown":
        return { kind: "move", by: 1 };
      case "k":
      case "ArrowUp":
        return { kind: "move", by: -1 };
      case "Enter":
        // Enter on a button or link is that control's own; on the list it opens the selection.
        return (event.target as Element | null)?.closest?.("button, a, [role='button'], [role='tab']") ? null : { kind: "open" };
      case "o":
        return { kind: "open" };
      case "r":
        return { kind: "open", compose: "reply" };
      case "n":
        return { kind: "open", compose: "note" };
      case "a":
        return { kind: "assign" };
      case "/":
        return { kind: "search" };
      case "?":
        return { kind: "help" };
      case "g":
        this.gAt = now;
        return null;
      default:
        return null;
    }
  }
}
