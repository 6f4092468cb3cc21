// A workflow action's form, built from the names of its required fields (the definitions name
// them: department, extension_until, reason, reply_text, disputed_amount…).
export type FieldKind = "department" | "agent" | "datetime" | "number" | "longtext" | "text";

export interface FieldSpec {
  name: string;
  kind: FieldKind;
}

export function fieldKind(name: string): FieldKind {
  if (name === "department" || name.endsWith("_department") || name === "department_id") return "department";
  if (name === "agent" || name === "assignee" || name.endsWith("_agent") || name === "assignee_id") return "agent";
  if (/(_until|_at|_date|^until|^date|^due)$/.test(name) || name === "until" || name === "date") return "datetime";
  if (/(_amount|_hours|_days|_minutes|^amount|^hours|^satisfaction|_count)$/.test(name)) return "number";
  if (/(reason|text|note|summary|result|report|opinion|question|diagnosis|comment|address|requested)$/.test(name)) return "longtext";
  return "text";
}

export function fieldSpecs(requiredFields: string[]): FieldSpec[] {
  return requiredFields.map((name) => ({ name, kind: fieldKind(name) }));
}

export type FieldValue = string | number | null | undefined;

/** The names of required fields left empty, to say before anything is sent. */
export function missingFields(specs: FieldSpec[], values: Record<string, FieldValue>): string[] {
  return specs.filter((spec) => values[spec.name] === null || values[spec.name] === undefined || String(values[spec.name]).trim() === "").map((s) => s.name);
}

/** The inputs the API takes: dates as ISO 8601 with their zone, numbers as numbers, text trimmed. */
export function buildInputs(specs: FieldSpec[], values: Record<string, FieldValue>): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const spec of specs) {
    const value = values[spec.name];
    if (value === null || value === undefined || value === "") continue;
    if (spec.kind === "datetime") inputs[spec.name] = new Date(typeof value === "number" ? value : Date.parse(value)).toISOString();
    else if (spec.kind === "number" || spec.kind === "department" || spec.kind === "agent") inputs[spec.name] = Number(value);
    else inputs[spec.name] = String(value).trim();
  }
  return inputs;
}

/** "extension_until" -> "Extension until": the fallback label when no translation exists. */
export function humanise(name: string): string {
  const words = name.replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
