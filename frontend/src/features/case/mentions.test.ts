import { describe, expect, it } from "vitest";

import { departmentsOnCase, insertMention, mentionCandidates, mentionQueryAt, mentionToken, noteSegments } from "./mentions";

describe("mention completion", () => {
  it("opens on an @ at a word start and reads the query up to the caret", () => {
    expect(mentionQueryAt("Ask @Bo", 7)).toEqual({ start: 4, query: "Bo" });
    expect(mentionQueryAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQueryAt("mail me at ada@example.test", 27)).toBeNull(); // an email address is not a mention
    expect(mentionQueryAt("Ask @Bo now", 11)).toBeNull(); // the caret has left the word
  });

  it("inserts the stored syntax with a trailing space and puts the caret after it", () => {
    const text = "Ask @bo about it";
    const at = mentionQueryAt(text, 7)!;
    const result = insertMention(text, at, 7, { kind: "agent", id: 12, name: "Bo Colleague" });
    expect(result.text).toBe("Ask @[Bo Colleague](agent:12)  about it");
    expect(result.caret).toBe("Ask @[Bo Colleague](agent:12) ".length);
    expect(mentionToken({ kind: "department", id: 7, name: "账务部 [Billing]" })).toBe("@[账务部  Billing](department:7)");
  });

  it("cuts a note into text and chips, and leaves look-alikes as text", () => {
    expect(noteSegments("Hi @[Bo Colleague](agent:12), see @[Billing](department:7).")).toEqual([
      { kind: "text", text: "Hi " },
      { kind: "mention", mention: { kind: "agent", id: 12, name: "Bo Colleague" } },
      { kind: "text", text: ", see " },
      { kind: "mention", mention: { kind: "department", id: 7, name: "Billing" } },
      { kind: "text", text: "." },
    ]);
    expect(noteSegments("@[x](agent:0) <b>")).toEqual([{ kind: "text", text: "@[x](agent:0) <b>" }]);
  });

  it("offers only agents and departments that see the case", () => {
    const departments = [
      { id: 1, name: "Centre", parent_id: null, is_active: true },
      { id: 2, name: "Front line", parent_id: 1, is_active: true },
      { id: 3, name: "Billing back office", parent_id: 1, is_active: true },
      { id: 4, name: "Front group", parent_id: 2, is_active: true },
    ];
    const onCase = departmentsOnCase(departments, 2, []);
    expect([...onCase].sort()).toEqual([1, 2]);
    const agents = [
      { id: 10, name: "Ada Agent", role: "agent", is_active: true, department_ids: [2] },
      { id: 11, name: "Bo Colleague", role: "agent", is_active: true, department_ids: [2] },
      { id: 12, name: "Cy Backoffice", role: "back_office", is_active: true, department_ids: [3] },
      { id: 13, name: "Bob Groupie", role: "agent", is_active: true, department_ids: [4] },
      { id: 14, name: "Bonnie Gone", role: "agent", is_active: false, department_ids: [2] },
    ];
    expect(mentionCandidates("bo", agents, departments, onCase, 10).map((m) => `${m.kind}:${m.id}`)).toEqual(["agent:11"]);
    expect(mentionCandidates("", agents, departments, onCase, 10).map((m) => m.name)).toEqual(["Bo Colleague", "Centre", "Front line"]);
    // An invitation brings Billing and its members in.
    const invited = departmentsOnCase(departments, 2, [3]);
    expect(mentionCandidates("b", agents, departments, invited, 10).map((m) => m.name)).toEqual(["Bo Colleague", "Cy Backoffice", "Billing back office"]);
  });
});
