import { describe, expect, it } from "vitest";

import { EventLedger } from "./ledger";

describe("EventLedger", () => {
  it("applies each seq once whatever the order, and remembers the highest", () => {
    const ledger = new EventLedger();
    // a live event (12) arrives before the catch-up (10, 11, 12)
    expect([12, 10, 11, 12].map((seq) => ledger.accept(seq))).toEqual([true, true, true, false]);
    expect(ledger.lastSeq).toBe(12);
  });

  it("a fresh session starts at the server's head", () => {
    const ledger = new EventLedger();
    ledger.startAt(40);
    expect(ledger.lastSeq).toBe(40);
    ledger.startAt(30);
    expect(ledger.lastSeq).toBe(40);
  });

  it("keeps memory bounded and still refuses what fell out of it", () => {
    const ledger = new EventLedger(3);
    [1, 2, 3, 4, 5].forEach((seq) => ledger.accept(seq));
    expect(ledger.accept(1)).toBe(false);
    expect(ledger.accept(6)).toBe(true);
  });
});
