/**
 * `ticklake snapshots [KEY] [--data-types T,...] [--from D] [--to D] [--all] [--json]`: the versions
 * of raw files (earlier snapshots, then the current content), with their validity, checksum and the
 * vendor file's checksum. By default only files that have earlier versions are listed.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { parseInstrumentKey } from '../../keys/key.js';
import { parseDay } from '../../util/time.js';
import { formatCount, type Out, textTable } from '../output.js';
import { openLakeFor, splitList } from './common.js';

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

export function registerSnapshotsCommand(program: Command, o: Out, _setExit: (c: number) => void): void {
  program
    .command('snapshots')
    .description(
      'versions of raw files: earlier snapshots kept when a file was replaced, and the current one',
    )
    .argument('[key]', 'instrument key (default: all)')
    .option('--data-types <list>', 'data types')
    .option('--from <day>', 'first day (YYYY-MM-DD)')
    .option('--to <day>', 'last day, inclusive (default: --from when given)')
    .option('--all', 'also list files that have a single version')
    .option('--json', 'print JSON')
    .action(
      async (
        key: string | undefined,
        flags: { dataTypes?: string; from?: string; to?: string; all?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        if (key !== undefined) parseInstrumentKey(key);
        const fromDay = flags.from === undefined ? undefined : parseDay(flags.from, '--from');
        const toDay = flags.to === undefined ? fromDay : parseDay(flags.to, '--to');
        if (fromDay === undefined && toDay !== undefined) throw new UsageError('--to needs --from');
        const dataTypes = splitList(flags.dataTypes);
        const lake = await openLakeFor(cmd);
        try {
          const all = await lake.snapshots({ instrumentKey: key, fromDay, toDay });
          const listed = all.filter(
            (x) =>
              (dataTypes.length === 0 || dataTypes.includes(x.file.dataType ?? '')) &&
              (flags.all || x.versions.length > 1),
          );
          if (flags.json) {
            o.out(
              `${JSON.stringify(
                listed.map((x) => ({ path: x.file.path, versions: x.versions })),
                null,
                2,
              )}\n`,
            );
            return;
          }
          if (listed.length === 0) {
            o.out(
              flags.all
                ? 'no raw files match\n'
                : 'no raw file has earlier versions (use --all to list every file)\n',
            );
            return;
          }
          const rows: string[][] = [];
          for (const x of listed) {
            for (const v of x.versions) {
              rows.push([
                x.file.path,
                v.snapshotId,
                v.current ? 'current' : 'snapshot',
                iso(v.validFrom),
                iso(v.validTo),
                formatCount(v.rows),
                v.checksum.slice(0, 12),
                (v.sourceChecksum ?? '').slice(0, 12),
              ]);
            }
          }
          o.out(
            `${textTable(['file', 'snapshot', 'state', 'valid from', 'valid to', 'rows', 'sha256', 'vendor sha256'], rows)}\n`,
          );
        } finally {
          await lake.close();
        }
      },
    );
}
