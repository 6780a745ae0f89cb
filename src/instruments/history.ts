/** Point-in-time view of a definition with history (issue #3: instrument definitions by day). */
import type { DefinitionWithHistory, InstrumentDefinition } from './types.js';

/**
 * The attributes in force at `timeMs`: the latest state with every change whose `until` is after
 * `timeMs` applied, the earliest such change winning for the fields it names.
 */
export function definitionAt(d: DefinitionWithHistory, timeMs: number): InstrumentDefinition {
  const out: InstrumentDefinition = { ...d.definition };
  const applicable = d.history.filter((c) => c.until > timeMs).sort((a, b) => b.until - a.until);
  for (const c of applicable) Object.assign(out, c.changes);
  return out;
}
