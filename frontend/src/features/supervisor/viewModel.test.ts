import { describe, expect, it } from "vitest";

import { snapshot } from "./fixtures";
import { dashboard, hourlySeries, hoursToday, mergeSnapshot, reportRows, riskList } from "./viewModel";

describe("the dashboard's view of a snapshot", () => {
  it("puts the longest-waiting queue first and empty queues last", () => {
    const model = dashboard(snapshot());
    expect(model.queues.map((q) => [q.name, q.waiting, q.online])).toEqual([
      ["Accounts", 1, 1],
      ["Front line", 3, 2],
      ["Billing back office", 0, 0],
    ]);
    expect(model.totals.waiting).toBe(4);
  });

  it("lists online agents first, the busiest first, then away, then offline", () => {
    expect(dashboard(snapshot()).agents.map((a) => a.name)).toEqual(["Ada", "Bo", "Di", "Cy"]);
  });

  it("sorts the risk list by due time, then case number, and names each department", () => {
    const risks = dashboard(snapshot()).risks;
    expect(risks.map((r) => [r.number, r.departmentName])).toEqual([
      [1005, "Accounts"],
      [1006, "Front line"],
      [1007, "Front line"],
    ]);
  });

  it("keeps an unknown department's clock, with no name rather than a wrong one", () => {
    const risks = riskList([{ ticket_id: 1, number: 1, department_id: 99, clock: "resolution", due_at: "2026-05-01T09:00:00Z" }], []);
    expect(risks[0]!.departmentName).toBe("");
  });

  it("ignores a snapshot older than the one shown", () => {
    const newer = snapshot({ at: "2026-05-01T09:00:05+00:00", totals: { ...snapshot().totals, waiting: 9 } });
    const older = snapshot({ at: "2026-05-01T09:00:01+00:00" });
    expect(mergeSnapshot(newer, older).totals.waiting).toBe(9);
    expect(mergeSnapshot(older, newer).totals.waiting).toBe(9);
    expect(mergeSnapshot(undefined, older)).toBe(older);
  });
});

describe("the SLA report and the hourly chart", () => {
  const row = (id: number | null, tickets: number, breached: number, met: number | null) => ({
    id,
    name: `D${id}`,
    tickets,
    open: 0,
    breached,
    resolution_met_percent: met,
    avg_first_response_seconds: null,
    avg_resolution_seconds: null,
  });

  it("shows only the centre's departments, the worst met % first", () => {
    const rows = reportRows([row(2, 5, 1, 80), row(9, 3, 3, 0), row(3, 2, 0, null), row(4, 4, 2, 50), row(null, 1, 0, null)], new Set([2, 3, 4]));
    expect(rows.map((r) => r.id)).toEqual([4, 2, 3]);
  });

  it("sums each hour's tickets and breaches over the centre's departments", () => {
    const series = hourlySeries(
      [
        { hour: 1, rows: [row(2, 2, 1, null), row(9, 7, 7, null)] },
        { hour: 0, rows: [row(2, 1, 0, null), row(3, 4, 2, null)] },
      ],
      new Set([2, 3]),
    );
    expect(series).toEqual({ hours: ["00:00", "01:00"], created: [5, 2], breached: [2, 1] });
  });

  it("covers today from midnight to the current hour", () => {
    const hours = hoursToday(new Date(2026, 4, 1, 2, 30));
    expect(hours.map((h) => h.hour)).toEqual([0, 1, 2]);
    expect(hours[2]!.from).toEqual(new Date(2026, 4, 1, 2, 0));
    expect(hours[2]!.to).toEqual(new Date(2026, 4, 1, 3, 0));
  });
});
