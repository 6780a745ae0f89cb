import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { type Lake, openLake } from '../../lake/lake.js';

export interface Globals {
  lake?: string;
  catalog?: string;
  config?: string;
  verbose?: boolean;
}

export function globalsOf(cmd: Command): Globals {
  return cmd.optsWithGlobals() as Globals;
}

export function openLakeFor(cmd: Command, extra: { concurrency?: number } = {}): Promise<Lake> {
  const g = globalsOf(cmd);
  return openLake({
    root: g.lake,
    catalog: g.catalog,
    configFile: g.config,
    config: extra.concurrency !== undefined ? { concurrency: extra.concurrency } : undefined,
  });
}

export function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function parsePositiveInt(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${what} must be a positive integer, got "${v}"`);
  return n;
}
