// Which outbox events this browser has applied. Events carry one global, increasing `seq`; after
// a reconnect the server replays what we missed while live events may already be arriving, so the
// same seq can come twice and in either order: apply each seq once, remember the highest.
export class EventLedger {
  private seen = new Set<number>();
  private order: number[] = [];
  lastSeq: number | null = null;

  constructor(private readonly capacity = 5000) {}

  /** True the first time a seq is offered; false for a repeat. */
  accept(seq: number): boolean {
    if (this.seen.has(seq)) return false;
    // Older than anything we still remember and below what we have: already applied before.
    if (this.lastSeq !== null && this.order.length >= this.capacity && seq <= this.order[0]) return false;
    this.seen.add(seq);
    this.order.push(seq);
    if (this.order.length > this.capacity) this.seen.delete(this.order.shift() as number);
    if (this.lastSeq === null || seq > this.lastSeq) this.lastSeq = seq;
    return true;
  }

  /** A fresh session: the server says where "now" is, and nothing before it will be replayed. */
  startAt(head: number): void {
    if (this.lastSeq === null || head > this.lastSeq) this.lastSeq = head;
  }

  reset(): void {
    this.seen.clear();
    this.order = [];
    this.lastSeq = null;
  }
}
