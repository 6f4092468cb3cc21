// The "call.ringing" outbox event sent to room agent:<id> (service_hub/inbound/voice.py _screen_pop).
export interface CallCard {
  id: number;
  name: string;
  tier: string;
  identities: Array<{ kind: string; value: string }>;
  open_tickets: Array<{ id: number; number: number; subject: string; status: string }>;
  last_contacts: Array<{ at: string; channel: string; direction: string; ticket_id: number; ticket_number: number; excerpt: string }>;
}

export interface CallRinging {
  call_id: string;
  from: string | null;
  ivr_path: string[];
  queue: string | null;
  customer: CallCard | null;
}

/** At most this many cards at once: the newest call first, a repeated call replaces its card. */
export const MAX_CARDS = 3;

export function addPop(pops: CallRinging[], pop: CallRinging): CallRinging[] {
  return [pop, ...pops.filter((p) => p.call_id !== pop.call_id)].slice(0, MAX_CARDS);
}
