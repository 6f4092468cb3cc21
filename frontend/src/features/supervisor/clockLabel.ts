// A clock's name for people: "resolution" -> "Resolution"; a task's instance "task@t1" -> its base name.
import type { Composer } from "vue-i18n";

export function clockLabel(i18n: Pick<Composer, "t" | "te">, kind: string): string {
  const base = kind.split("@")[0] ?? kind;
  const key = `supervisor.clock.${base}`;
  return i18n.te(key) || i18n.te(key, "en") ? i18n.t(key) : base.replace(/_/g, " ");
}
