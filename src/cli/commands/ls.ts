import type { Command } from 'commander';
import type { FileRecord } from '../../catalog/types.js';
import { formatBytes, formatCount, type Out, textTable } from '../output.js';
import { openLakeFor } from './common.js';

interface Group {
  dataset: string;
  dataType: string;
  key: string;
  days: Set<string>;
  first: string;
  last: string;
  rows: number;
  bytes: number;
  files: number;
  generated: boolean;
}

export function groupFiles(files: readonly FileRecord[]): Group[] {
  const groups = new Map<string, Group>();
  for (const f of files) {
    const id = `${f.dataset}\u0000${f.dataType}\u0000${f.instrumentKey}`;
    let g = groups.get(id);
    if (!g) {
      g = {
        dataset: f.dataset,
        dataType: f.dataType ?? '',
        key: f.instrumentKey ?? '',
        days: new Set(),
        first: f.day ?? '',
        last: f.day ?? '',
        rows: 0,
        bytes: 0,
        files: 0,
        generated: false,
      };
      groups.set(id, g);
    }
    if (f.day) {
      g.days.add(f.day);
      if (f.day < g.first || g.first === '') g.first = f.day;
      if (f.day > g.last) g.last = f.day;
    }
    g.rows += f.rows;
    g.bytes += f.bytes;
    g.files++;
    g.generated ||= f.generated;
  }
  return [...groups.values()];
}

export function registerLsCommand(program: Command, o: Out, _setExit: (c: number) => void): void {
  program
    .command('ls')
    .description('show what the lake holds: per data type and instrument, the days, rows and bytes')
    .option('--dataset <name>', 'raw_tick_data (default) or quarantine', 'raw_tick_data')
    .option('--data-type <type>', 'only this data type')
    .option('--key <key>', 'only this instrument key')
    .option('--files', 'list every file instead of a summary per instrument')
    .option('--json', 'print JSON')
    .action(
      async (
        flags: { dataset: string; dataType?: string; key?: string; files?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const lake = await openLakeFor(cmd);
        try {
          const files = await lake.files({
            dataset: flags.dataset,
            dataType: flags.dataType,
            instrumentKey: flags.key,
          });
          if (flags.files) {
            if (flags.json) o.out(`${JSON.stringify(files, null, 2)}\n`);
            else
              o.out(
                `${textTable(
                  ['path', 'rows', 'bytes', 'checksum'],
                  files.map((f) => [
                    f.path,
                    formatCount(f.rows),
                    formatBytes(f.bytes),
                    f.checksum.slice(0, 12),
                  ]),
                )}\n`,
              );
            return;
          }
          const groups = groupFiles(files);
          if (flags.json) {
            o.out(
              `${JSON.stringify(
                groups.map((g) => ({ ...g, days: g.days.size })),
                null,
                2,
              )}\n`,
            );
            return;
          }
          if (groups.length === 0) {
            o.out(
              `the lake at ${lake.storage.location} holds no ${flags.dataset} files yet (try \`ticklake demo\` or \`ticklake ingest\`)\n`,
            );
            return;
          }
          o.out(
            `${textTable(
              ['data_type', 'instrument_key', 'days', 'first', 'last', 'rows', 'size'],
              groups.map((g) => [
                g.dataType,
                g.key + (g.generated ? ' (generated)' : ''),
                String(g.days.size),
                g.first,
                g.last,
                formatCount(g.rows),
                formatBytes(g.bytes),
              ]),
            )}\n`,
          );
          const rows = groups.reduce((s, g) => s + g.rows, 0);
          const bytes = groups.reduce((s, g) => s + g.bytes, 0);
          o.out(
            `${files.length} files · ${formatCount(rows)} rows · ${formatBytes(bytes)} in ${lake.storage.location}\n`,
          );
        } finally {
          await lake.close();
        }
      },
    );
}
