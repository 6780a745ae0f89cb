import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { int64ToFloat64 } from '../../columns/arrow.js';
import { generateTardisDataset } from '../../dev/generate.js';
import { startTardisServer } from '../../dev/tardis-server.js';
import { openLake } from '../../lake/lake.js';
import type { DataType } from '../../schema/datasets.js';
import { formatMicros } from '../../util/time.js';
import { formatBytes, formatCount, type Out, textTable, writeCsv } from '../output.js';
import { globalsOf, parsePositiveInt } from './common.js';
import { groupFiles } from './ls.js';

interface DemoPlanItem {
  exchange: string;
  symbols: string[];
  dataTypes: DataType[];
}

/** Two exchanges, a few instrument-days: small enough to run in seconds, real enough to be useful. */
export const OFFLINE_DEMO: readonly DemoPlanItem[] = [
  { exchange: 'binance', symbols: ['BTCUSDT'], dataTypes: ['trades', 'book_ticker'] },
  { exchange: 'deribit', symbols: ['BTC-PERPETUAL'], dataTypes: ['trades', 'derivative_ticker'] },
];
export const OFFLINE_DEMO_DAYS = ['2024-08-01', '2024-08-02'] as const;

/** Tardis's free data: the first day of a month needs no API key. */
export const ONLINE_DEMO: readonly DemoPlanItem[] = [
  { exchange: 'deribit', symbols: ['BTC-PERPETUAL'], dataTypes: ['trades'] },
  { exchange: 'bitmex', symbols: ['XBTUSD'], dataTypes: ['trades'] },
];
export const ONLINE_DEMO_DAY = '2024-08-01';

export function registerDemoCommand(program: Command, o: Out, setExit: (c: number) => void): void {
  program
    .command('demo')
    .description(
      'ingest a few instrument-days from a local Tardis-compatible server over generated data (or --online: Tardis’s free days) and query them',
    )
    .option('--online', 'use the real Tardis.dev free first-of-month data instead of the local server')
    .option('--rows <n>', 'rows per generated file (offline)', '200000')
    .action(async (flags: { online?: boolean; rows: string }, cmd: Command) => {
      const g = globalsOf(cmd);
      const rows = parsePositiveInt(flags.rows, '--rows');
      let vendorDir: string | null = null;
      let server: Awaited<ReturnType<typeof startTardisServer>> | null = null;
      try {
        let datasetsUrl: string | undefined;
        let plan: readonly DemoPlanItem[];
        let days: readonly string[];
        if (flags.online) {
          plan = ONLINE_DEMO;
          days = [ONLINE_DEMO_DAY];
          o.out(
            `demo: downloading Tardis.dev free data for ${ONLINE_DEMO_DAY} (first day of the month, no API key needed)\n`,
          );
        } else {
          plan = OFFLINE_DEMO;
          days = OFFLINE_DEMO_DAYS;
          vendorDir = await mkdtemp(join(tmpdir(), 'ticklake-demo-'));
          o.out(
            `demo: generating ${formatCount(rows)} rows per file of realistic Tardis-format data (labelled generated) in ${vendorDir}\n`,
          );
          let seed = 1;
          for (const item of plan)
            for (const symbol of item.symbols)
              for (const dataType of item.dataTypes)
                for (const day of days)
                  await generateTardisDataset({
                    dir: vendorDir,
                    exchange: item.exchange,
                    dataType,
                    symbol,
                    day,
                    rows,
                    seed: seed++,
                  });
          server = await startTardisServer({ dir: vendorDir, port: 0 });
          datasetsUrl = server.url;
          o.out(`demo: local Tardis-compatible server at ${server.url}\n`);
        }
        const lake = await openLake({
          root: g.lake,
          catalog: g.catalog,
          configFile: g.config,
          config: datasetsUrl ? { tardis: { datasetsUrl } } : undefined,
        });
        try {
          let failed = 0;
          for (const item of plan) {
            const s = await lake.ingest({
              exchange: item.exchange,
              dataTypes: item.dataTypes,
              symbols: item.symbols,
              from: days[0]!,
              to: days[days.length - 1]!,
            });
            failed += s.failed;
            o.out(
              `ingest ${item.exchange}: ${s.done} stored, ${s.skipped} already there, ${s.absent} absent, ${s.failed} failed · ` +
                `${formatCount(s.rows)} rows · ${formatBytes(s.bytes)} · ${s.seconds.toFixed(1)} s\n`,
            );
            for (const r of s.reports)
              if (r.error) o.out(`  ${r.task.dataType} ${r.task.symbol} ${r.task.day}: ${r.error.message}\n`);
          }
          const groups = groupFiles(await lake.files({ dataset: 'raw_tick_data' }));
          o.out(`\nThe lake at ${lake.storage.location} now holds:\n`);
          o.out(
            `${textTable(
              ['data_type', 'instrument_key', 'days', 'rows', 'size'],
              groups.map((gr) => [
                gr.dataType,
                gr.key,
                String(gr.days.size),
                formatCount(gr.rows),
                formatBytes(gr.bytes),
              ]),
            )}\n`,
          );
          const key = flags.online ? 'DERIBIT:PERP:BTC-USD' : 'BINANCE:SPOT_PAIR:BTC-USDT';
          const from = days[0]!;
          const table = await lake.read({ dataset: 'trades', key, from, to: `${from}T00:10:00Z` });
          o.out(`\nSample query — ${key} trades in the first 10 minutes of ${from}:\n`);
          o.out(`  ticklake query trades --key ${key} --from ${from}T00:00:00Z --to ${from}T00:10:00Z\n\n`);
          writeCsv(table.slice(0, 5), (s) => o.out(s));
          if (table.numRows > 0) {
            const price = table.getChild('price')!.toArray() as Float64Array;
            const amount = table.getChild('amount')!.toArray() as Float64Array;
            let v = 0;
            let pv = 0;
            for (let i = 0; i < price.length; i++) {
              v += amount[i]!;
              pv += price[i]! * amount[i]!;
            }
            const ts = int64ToFloat64(table.getChild('timestamp')!.data[0]!.values as BigInt64Array);
            o.out(
              `… ${formatCount(table.numRows)} trades from ${formatMicros(ts[0]!)}, volume ${v.toFixed(4)}, VWAP ${(pv / v).toFixed(2)}\n`,
            );
          }
          o.out(`\nNext: \`npx ticklake ls\`, \`npx ticklake query trades --key ${key} --from ${from}\`\n`);
          setExit(failed > 0 ? 1 : 0);
        } finally {
          await lake.close();
        }
      } finally {
        await server?.close();
        if (vendorDir) await rm(vendorDir, { recursive: true, force: true });
      }
    });
}
