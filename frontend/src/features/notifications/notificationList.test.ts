import { describe, expect, it } from "vitest";

import type { Notification } from "./api";
import { markRead, merge, ordered } from "./notificationList";

const n = (id: number, read = false): Notification => ({
  id,
  kind: "mention",
  ticket: { id: 100 + id, number: 1000 + id },
  message_id: null,
  department: null,
  actor: { id: 2, name: "Bo" },
  created_at: "2026-01-01T00:00:00+00:00",
  read_at: read ? "2026-01-02T00:00:00+00:00" : null,
});

describe("the notification list", () => {
  it("puts unread first, each group newest first", () => {
    expect(ordered([n(1), n(5, true), n(3), n(4, true)]).map((x) => x.id)).toEqual([3, 1, 5, 4]);
  });

  it("merges a live page without duplicates, the fresh copy winning", () => {
    const merged = merge([n(2), n(1, true)], [n(3), n(2, true)]);
    expect(merged.map((x) => [x.id, x.read_at !== null])).toEqual([
      [3, false],
      [2, true],
      [1, true],
    ]);
  });

  it("applies read marks by ids or up to an id, leaving others unread", () => {
    const items = [n(1), n(2), n(3), n(4)];
    expect(markRead(items, { ids: [2, 4] }, "now").filter((x) => x.read_at === null).map((x) => x.id)).toEqual([3, 1]);
    expect(markRead(items, { up_to_id: 3 }, "now").filter((x) => x.read_at === null).map((x) => x.id)).toEqual([4]);
  });
});
