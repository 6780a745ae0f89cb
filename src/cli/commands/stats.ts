/**
 * `ticklake stats [--by dataset,venue,month] [--dataset D] [--no-ratio] [--json]`: bytes, rows,
 * files and compression ratio of the lake, grouped.
 */
import type { Command } from 'commander';
import { parseStatsGroups, storageStats } from '../../lake/stats.js';
import { formatBytes, formatCount, type Out, textTable } from '../output.js';
import { openLakeFor } from './common.js';

export function registerStatsCommand(program: Command, o: Out, _setExit: (c: number) => void): void {
  program
    .command('stats')
    .description('storage statistics: files, rows, bytes and compression ratio per dataset, venue or month')
    .option('--by <groups>', 'dataset, venue and/or month, comma-separated', 'dataset')
    .option('--dataset <name>', 'only this top-level dataset (e.g. raw_tick_data)')
    .option('--no-ratio', 'skip the compression ratio (it reads each file footer)')
    .option('--json', 'print JSON')
    .action(async (flags: { by: string; dataset?: string; ratio: boolean; json?: boolean }, cmd: Command) => {
      const by = parseStatsGroups(flags.by);
      const lake = await openLakeFor(cmd);
      try {
        const rows = await storageStats(lake, { by, ratio: flags.ratio, dataset: flags.dataset });
        if (flags.json) {
          o.out(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          o.out(`the lake at ${lake.storage.location} holds no files yet\n`);
          return;
        }
        o.out(
          `${textTable(
            [...by, 'files', 'rows', 'size', 'uncompressed', 'ratio'],
            rows.map((r) => [
              ...by.map((g) => r[g] ?? ''),
              formatCount(r.files),
              formatCount(r.rows),
              formatBytes(r.bytes),
              r.uncompressedBytes === null ? '' : formatBytes(r.uncompressedBytes),
              r.compressionRatio === null ? '' : `${r.compressionRatio.toFixed(2)}×`,
            ]),
          )}\n`,
        );
        const files = rows.reduce((s, r) => s + r.files, 0);
        const total = rows.reduce((s, r) => s + r.bytes, 0);
        const count = rows.reduce((s, r) => s + r.rows, 0);
        o.out(
          `${formatCount(files)} files · ${formatCount(count)} rows · ${formatBytes(total)} in ${lake.storage.location}\n`,
        );
      } finally {
        await lake.close();
      }
    });
}
