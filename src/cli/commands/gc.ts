/**
 * `ticklake gc [--dry-run] [--orphans] [--json]` — retention and garbage collection (src/lake/gc.ts):
 * raw days past `retention.rawDays`, versions beyond `retention.keepVersions`, staging garbage, and
 * orphan files (reported; deleted with --orphans). Inputs of current files are always kept.
 */
import type { Command } from 'commander';
import type { GcReport } from '../../lake/gc.js';
import { formatBytes, type Out } from '../output.js';
import { openLakeFor } from './common.js';

function printReport(o: Out, r: GcReport): void {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  o.out(
    `gc${r.dryRun ? ' (dry run)' : ''}: ${verb} ${r.deleted.length} file(s), ${formatBytes(r.deleted.reduce((n, d) => n + d.bytes, 0))}` +
      ` · kept ${r.kept.length} needed file(s) · ${r.orphans.length} orphan(s) · ${r.staging} staging leftover(s)` +
      ` · raw retention: ${r.rawCutoffDay ? `days before ${r.rawCutoffDay}` : 'forever'} · keep ${r.keepVersions} version(s)\n`,
  );
  for (const d of r.deleted) o.out(`  ${verb}: ${d.path} (${d.reason}, ${formatBytes(d.bytes)})\n`);
  for (const k of r.kept) o.out(`  kept: ${k.path} (${k.reason}) needed by ${k.neededBy.join(', ')}\n`);
  for (const x of r.orphans)
    if (!r.deleted.some((d) => d.path === x.path))
      o.out(
        `  orphan: ${x.path} (${formatBytes(x.bytes)}; not in the catalog: delete with --orphans, or ticklake catalog rebuild)\n`,
      );
  for (const w of r.warnings) o.err(`warning: ${w}\n`);
}

export function registerGcCommand(program: Command, o: Out): void {
  program
    .command('gc')
    .description(
      'apply retention: delete raw days past retention.rawDays and versions beyond retention.keepVersions',
    )
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--orphans', 'also delete .parquet files the catalog does not know')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nA file that a current candles/features/... file lists in its footer lineage is never deleted (reported as "kept: needed by").',
    )
    .action(async (flags: { dryRun?: boolean; orphans?: boolean; json?: boolean }, cmd: Command) => {
      const lake = await openLakeFor(cmd);
      try {
        const r = await lake.gc({ dryRun: flags.dryRun, orphans: flags.orphans });
        if (flags.json) o.out(`${JSON.stringify(r)}\n`);
        else printReport(o, r);
      } finally {
        await lake.close();
      }
    });
}
