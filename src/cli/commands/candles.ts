/** `ticklake candles build`: candles (and book snapshots) for a day range, incremental. */
import type { Command } from 'commander';
import { buildCandles } from '../../candles/build.js';
import { parseTimeframes } from '../../candles/timeframes.js';
import { parseDay } from '../../util/time.js';
import { type Out, textTable } from '../output.js';
import { openLakeFor, splitList } from './common.js';

interface CandlesBuildFlags {
  from: string;
  to?: string;
  keys?: string;
  exchange?: string;
  timeframes?: string;
  force?: boolean;
  books: boolean;
  json?: boolean;
}

export function registerCandlesCommands(program: Command, o: Out, setExit: (c: number) => void): void {
  const candles = program
    .command('candles')
    .description('candles from trades (15s … 24h) with order-flow and quote features');
  candles
    .command('build')
    .description(
      'build candles and book snapshots for every instrument/day with data; skips days whose inputs did not change',
    )
    .requiredOption('--from <day>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--keys <list>', 'only these instrument keys (comma-separated)')
    .option('--exchange <id>', 'only instruments of this vendor exchange, e.g. binance-futures')
    .option('--timeframes <list>', 'comma-separated timeframes or all (default all: 15s,1m,5m,15m,1h,4h,24h)')
    .option('--force', 'rebuild even when the inputs did not change')
    .option('--no-books', 'do not build book snapshots')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: CandlesBuildFlags, cmd: Command) => {
      const from = parseDay(flags.from, '--from');
      const to = parseDay(flags.to ?? flags.from, '--to');
      const timeframes = parseTimeframes(flags.timeframes);
      const lake = await openLakeFor(cmd);
      try {
        const summary = await buildCandles(lake, {
          from,
          to,
          keys: flags.keys ? splitList(flags.keys) : undefined,
          exchange: flags.exchange,
          timeframes,
          force: flags.force,
          books: flags.books,
          onProgress: flags.json
            ? undefined
            : (e) => o.err(`${e.key} ${e.day}: ${e.status}${e.files > 0 ? ` (${e.files} files)` : ''}\n`),
        });
        if (flags.json) o.out(`${JSON.stringify(summary)}\n`);
        else {
          o.out(
            textTable(
              ['built', 'up to date', 'no trades', 'candle files', 'book snapshot files', 'crossed books'],
              [
                [
                  summary.built,
                  summary.skipped,
                  summary.empty,
                  summary.files,
                  summary.bookFiles,
                  summary.crossed,
                ].map(String),
              ],
            ) + '\n',
          );
        }
        setExit(0);
      } finally {
        await lake.close();
      }
    });
}
