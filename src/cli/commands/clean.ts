/**
 * `ticklake clean --from D [--to D] [--keys K,...] [--data-types T,...] [--force] [--json]`: build the
 * cleaned layer (`cleaned/v{major}/...`) from the raw files of a range, incrementally, and print per
 * file how many rows each cleaning rule removed.
 */
import type { Command } from 'commander';
import { RULE_ORDER } from '../../cleaning/rules.js';
import { formatCount, type Out, textTable } from '../output.js';
import { openLakeFor, splitList } from './common.js';

export function registerCleanCommand(program: Command, o: Out, _setExit: (c: number) => void): void {
  program
    .command('clean')
    .description(
      'build the cleaned layer (dedupe, non-positive prices, crossed quotes, outliers) from raw files',
    )
    .requiredOption('--from <day>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--keys <list>', 'instrument keys (default: all)')
    .option('--data-types <list>', 'data types (default: every cleanable one)')
    .option('--force', 'rewrite files whose lineage already matches')
    .option('--json', 'print JSON')
    .action(
      async (
        flags: {
          from: string;
          to?: string;
          keys?: string;
          dataTypes?: string;
          force?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        const lake = await openLakeFor(cmd);
        try {
          const s = await lake.clean({
            from: flags.from,
            to: flags.to,
            keys: splitList(flags.keys),
            dataTypes: splitList(flags.dataTypes),
            force: flags.force ?? false,
          });
          if (flags.json) {
            o.out(`${JSON.stringify(s, null, 2)}\n`);
            return;
          }
          if (s.files.length === 0) {
            o.out('no raw files to clean in that range\n');
            return;
          }
          o.out(
            `${textTable(
              ['file', 'outcome', 'rows', 'kept', ...RULE_ORDER],
              s.files.map((f) => [
                f.cleanedPath,
                f.outcome,
                formatCount(f.rows),
                formatCount(f.kept),
                ...RULE_ORDER.map((r) => formatCount(f.removed[r])),
              ]),
            )}\n`,
          );
          o.out(
            `rules v${s.rulesVersion}: ${s.written} written, ${s.unchanged} unchanged · ${formatCount(s.rows)} rows, ${formatCount(s.rows - s.kept)} removed\n`,
          );
        } finally {
          await lake.close();
        }
      },
    );
}
