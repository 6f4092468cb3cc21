// @mention completion in internal notes. The stored syntax is collab.mentions': `@[Name](agent:12)`
// or `@[Dept](department:7)`; the name is only a label, so brackets and line breaks are dropped.
import type { Mention } from "./api";

export interface MentionQuery {
  /** Where the "@" is. */
  start: number;
  /** What was typed after it, up to the caret. */
  query: string;
}

/** The mention being typed at the caret: an "@" at the start or after a space, then no space or bracket. */
export function mentionQueryAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([^\s@[\]()]{0,40})$/.exec(before);
  if (!match) return null;
  return { start: caret - match[2].length - 1, query: match[2] };
}

export function mentionToken(target: Mention): string {
  const label = target.name.replace(/[[\]\r\n]/g, " ").trim().slice(0, 200) || String(target.id);
  return `@[${label}](${target.kind}:${target.id})`;
}

/** Replace "@query" at the caret by the target's token and a space; the new text and caret. */
export function insertMention(text: string, at: MentionQuery, caret: number, target: Mention): { text: string; caret: number } {
  const token = `${mentionToken(target)} `;
  const next = text.slice(0, at.start) + token + text.slice(caret);
  return { text: next, caret: at.start + token.length };
}

export type NoteSegment = { kind: "text"; text: string } | { kind: "mention"; mention: Mention };

const TOKEN = /@\[([^[\]\r\n]{1,200})\]\((agent|department):([1-9]\d{0,17})\)/g;

/** A note's text cut into plain text and mention chips, for rendering without any HTML. */
export function noteSegments(text: string): NoteSegment[] {
  const out: NoteSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    if (index > last) out.push({ kind: "text", text: text.slice(last, index) });
    out.push({ kind: "mention", mention: { name: match[1].trim(), kind: match[2] as Mention["kind"], id: Number(match[3]) } });
    last = index + match[0].length;
  }
  if (last < text.length) out.push({ kind: "text", text: text.slice(last) });
  return out;
}

interface DepartmentLike {
  id: number;
  name: string;
  parent_id: number | null;
  is_active: boolean;
}

interface AgentLike {
  id: number;
  name: string;
  role: string;
  is_active: boolean;
  department_ids: number[];
}

/**
 * Departments that see the case (collab.mentions): the ticket's department and those above it,
 * and departments with a standing invitation.
 */
export function departmentsOnCase(departments: DepartmentLike[], ticketDepartmentId: number, invitedIds: number[]): Set<number> {
  const parents = new Map(departments.map((d) => [d.id, d.parent_id]));
  const out = new Set<number>(invitedIds);
  let current: number | null | undefined = ticketDepartmentId;
  while (current != null && !out.has(current)) {
    out.add(current);
    current = parents.get(current);
  }
  out.add(ticketDepartmentId);
  return out;
}

/** Whom the completion offers: active agents in a department on the case (admins see all), then departments. */
export function mentionCandidates(
  query: string,
  agents: AgentLike[],
  departments: DepartmentLike[],
  onCase: Set<number>,
  myId: number | undefined,
  max = 8,
): Mention[] {
  const q = query.trim().toLowerCase();
  const matches = (name: string) => !q || name.toLowerCase().includes(q);
  const people = agents
    .filter((a) => a.is_active && a.id !== myId && matches(a.name) && (a.role === "admin" || a.department_ids.some((d) => onCase.has(d))))
    .map((a): Mention => ({ kind: "agent", id: a.id, name: a.name }));
  const teams = departments
    .filter((d) => d.is_active && onCase.has(d.id) && matches(d.name))
    .map((d): Mention => ({ kind: "department", id: d.id, name: d.name }));
  return [...people, ...teams].slice(0, max);
}
