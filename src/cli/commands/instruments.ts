/**
 * `ticklake instruments sync|ls|show` and `ticklake plan [ls|show]`: instrument definitions by day and
 * download targets (issue #3).
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { PlanSummary } from '../../instruments/plan.js';
import { formatMicros } from '../../util/time.js';
import { formatCount, formatSeconds, type Out, textTable, writeCsv, writeJsonLines } from '../output.js';
import { openLakeFor, parsePositiveInt, splitList } from './common.js';

const collect = (v: string, prev: string[] = []) => [...prev, ...splitList(v)];

const LS_COLUMNS = [
  'instrument_key',
  'vendor_symbol',
  'expiry',
  'strike',
  'tick_size',
  'lot_size',
  'contract_multiplier',
  'data_types',
] as const;

function cell(v: unknown, name: string): string {
  if (v === null || v === undefined) return '';
  if (['expiry', 'listing', 'available_from', 'available_to'].includes(name) && typeof v === 'number') {
    return formatMicros(v).slice(0, 16).replace('T', ' ');
  }
  if (typeof v === 'bigint') return formatMicros(Number(v)).slice(0, 16).replace('T', ' ');
  return String(v);
}

export function registerInstrumentsCommands(program: Command, o: Out, setExit: (c: number) => void): void {
  const cmd = program.command('instruments').description('instrument definitions by day (point in time)');

  cmd
    .command('sync')
    .description(
      'fetch instrument definitions and write instrument_availability/by_date/day=D/instruments.parquet',
    )
    .requiredOption('--exchange <id>', 'exchange id (repeatable or comma-separated), e.g. deribit', collect)
    .option('--source <name>', 'tardis (default) | binance | deribit (native exchange lists)')
    .requiredOption('--from <day>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nTardis: /v1/exchanges/{exchange} always; /v1/instruments/{exchange} when TARDIS_API_KEY is set.\n' +
        'An unchanged day is not rewritten.',
    )
    .action(
      async (
        flags: { exchange: string[]; source?: string; from: string; to?: string; json?: boolean },
        c: Command,
      ) => {
        const lake = await openLakeFor(c);
        try {
          const s = await lake.syncInstruments({
            exchanges: flags.exchange,
            source: flags.source,
            from: flags.from,
            to: flags.to ?? flags.from,
            onNotice: flags.json ? undefined : (line) => o.err(`notice: ${line}\n`),
          });
          if (flags.json) o.out(`${JSON.stringify(s)}\n`);
          else {
            o.out(
              `instruments sync (${s.source}: ${s.exchanges.join(', ')}): ${formatCount(s.definitions)} definitions` +
                (s.skipped ? `, ${s.skipped} vendor instruments without a key skipped` : '') +
                ` · ${s.days.length} day(s): ${s.written} written, ${s.unchanged} unchanged · ${formatSeconds(s.seconds)}\n`,
            );
            const shown = s.days.slice(0, 10);
            for (const d of shown) o.out(`  ${d.day}: ${formatCount(d.rows)} instruments (${d.status})\n`);
            if (s.days.length > shown.length) o.out(`  … ${s.days.length - shown.length} more day(s)\n`);
          }
          setExit(0);
        } finally {
          await lake.close();
        }
      },
    );

  cmd
    .command('ls')
    .description('instruments available on a day')
    .requiredOption('--date <day>', 'the UTC day (YYYY-MM-DD)')
    .option('--venue <list>', 'venues, e.g. DERIBIT')
    .option('--exchange <list>', 'vendor exchanges, e.g. binance-futures')
    .option('--type <list>', 'spot, perpetual, future, option (or key types)')
    .option('--base <list>', 'base assets, e.g. BTC,ETH')
    .option('--quote <list>', 'quote assets')
    .option('--expiring-within <duration>', 'only instruments expiring within e.g. 30d of the day')
    .option('--format <fmt>', 'table | csv | json (JSON lines)', 'table')
    .option('--limit <n>', 'table format: rows shown (default 50)')
    .action(
      async (
        flags: {
          date: string;
          venue?: string;
          exchange?: string;
          type?: string;
          base?: string;
          quote?: string;
          expiringWithin?: string;
          format: string;
          limit?: string;
        },
        c: Command,
      ) => {
        if (!['table', 'csv', 'json'].includes(flags.format)) {
          throw new UsageError(`--format ${flags.format} is not supported`, {
            hint: 'use table, csv or json',
          });
        }
        const limit = flags.limit ? parsePositiveInt(flags.limit, '--limit') : 50;
        const lake = await openLakeFor(c);
        try {
          const t = await lake.instruments({
            date: flags.date,
            venue: flags.venue,
            exchange: flags.exchange,
            type: flags.type,
            base: flags.base,
            quote: flags.quote,
            expiringWithin: flags.expiringWithin,
          });
          const write = (s: string) => o.out(s);
          if (flags.format === 'csv') writeCsv(t, write);
          else if (flags.format === 'json') writeJsonLines(t, write);
          else {
            const cols = LS_COLUMNS.map((n) => t.getChild(n)!);
            const rows: string[][] = [];
            for (let i = 0; i < Math.min(limit, t.numRows); i++) {
              rows.push(cols.map((col, j) => cell(col.get(i), LS_COLUMNS[j]!)));
            }
            o.out(`${textTable([...LS_COLUMNS], rows)}\n`);
            o.out(
              `${formatCount(t.numRows)} instrument(s) on ${flags.date}${t.numRows > limit ? ` (first ${limit} shown; --limit N or --format csv for all)` : ''}\n`,
            );
          }
          setExit(0);
        } finally {
          await lake.close();
        }
      },
    );

  cmd
    .command('show')
    .description("one instrument's attributes and their changes over the synced days")
    .argument('<key>', 'instrument key, e.g. DERIBIT:PERP:BTC-USD')
    .option('--json', 'print as JSON')
    .action(async (key: string, flags: { json?: boolean }, c: Command) => {
      const lake = await openLakeFor(c);
      try {
        const h = await lake.instrumentHistory(key);
        if (flags.json) {
          o.out(`${JSON.stringify(h)}\n`);
        } else {
          o.out(`${h.key}\n`);
          o.out(
            `  available on ${h.daysAvailable} of ${h.daysSynced} synced day(s): ${h.firstDay} … ${h.latestDay}\n`,
          );
          const rows = Object.entries(h.latest)
            .filter(([, v]) => v !== null && v !== '')
            .map(([k, v]) => [k, cell(v, k)]);
          o.out(`${textTable(['attribute', `value (${h.latestDay})`], rows)}\n`);
          if (h.changes.length === 0) o.out('  no attribute changes over the synced days\n');
          else {
            o.out('changes:\n');
            o.out(
              textTable(
                ['from day', 'attribute', 'before', 'after'],
                h.changes.map((ch) => [ch.day, ch.field, cell(ch.from, ch.field), cell(ch.to, ch.field)]),
              ),
            );
          }
        }
        setExit(0);
      } finally {
        await lake.close();
      }
    });
}

function printPlanSummary(o: Out, id: number, s: PlanSummary): void {
  o.out(
    `plan ${id}: ${formatCount(s.tasks)} task(s) (${s.groupedTasks} grouped) for ${formatCount(s.instruments)} instrument(s) ` +
      `over ${s.days} day(s) on ${s.exchanges.join(', ')}\n`,
  );
  for (const [dt, n] of Object.entries(s.byDataType)) o.out(`  ${dt}: ${formatCount(n)} task(s)\n`);
  o.out(`run it with: ticklake ingest --plan ${id}\n`);
}

export function registerPlanCommand(program: Command, o: Out, setExit: (c: number) => void): void {
  const plan = program
    .command('plan')
    .description('build and save the download tasks for a selection (run with: ticklake ingest --plan ID)')
    .option('--exchange <id>', 'exchange id (repeatable or comma-separated)', collect)
    .option('--types <list>', 'instrument types: spot, perpetual, future, option')
    .option('--base <list>', 'base assets, e.g. BTC,ETH')
    .option('--quote <list>', 'quote assets')
    .option('--data-types <list>', 'data types, e.g. trades,book_snapshot_5')
    .option('--from <day>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--symbols <list>', 'vendor symbols or instrument keys')
    .option('--expiring-within <duration>', 'only instruments expiring within e.g. 30d of each day')
    .option(
      '--group-min <n>',
      'smallest number of instruments a grouped file (OPTIONS, ...) replaces; 0 = never',
      '20',
    )
    .option('--json', 'print the plan id, summary and every task as JSON')
    .addHelpText(
      'after',
      '\nNeeds the days synced first: ticklake instruments sync --exchange X --from D --to D',
    )
    .action(
      async (
        flags: {
          exchange?: string[];
          types?: string;
          base?: string;
          quote?: string;
          dataTypes?: string;
          from?: string;
          to?: string;
          symbols?: string;
          expiringWithin?: string;
          groupMin: string;
          json?: boolean;
        },
        c: Command,
      ) => {
        if (!flags.exchange || !flags.dataTypes || !flags.from) {
          throw new UsageError('plan needs --exchange, --data-types and --from', {
            hint: 'e.g. ticklake plan --exchange deribit --data-types trades --from 2024-01-01',
          });
        }
        const groupMin = Number(flags.groupMin);
        if (!Number.isInteger(groupMin) || groupMin < 0) {
          throw new UsageError(`--group-min must be a non-negative integer, got "${flags.groupMin}"`);
        }
        const lake = await openLakeFor(c);
        try {
          const p = await lake.plan({
            exchanges: flags.exchange,
            types: flags.types ? splitList(flags.types) : undefined,
            bases: flags.base ? splitList(flags.base) : undefined,
            quotes: flags.quote ? splitList(flags.quote) : undefined,
            dataTypes: splitList(flags.dataTypes),
            from: flags.from,
            to: flags.to ?? flags.from,
            symbols: flags.symbols ? splitList(flags.symbols) : undefined,
            expiringWithin: flags.expiringWithin,
            groupMin,
          });
          for (const n of p.notices) o.err(`notice: ${n}\n`);
          if (flags.json) o.out(`${JSON.stringify({ id: p.id, summary: p.summary, tasks: p.tasks })}\n`);
          else printPlanSummary(o, p.id, p.summary);
          setExit(0);
        } finally {
          await lake.close();
        }
      },
    );

  plan
    .command('ls')
    .description('saved plans')
    .action(async (_f: unknown, c: Command) => {
      const lake = await openLakeFor(c);
      try {
        const plans = await lake.catalog.listPlans();
        o.out(
          textTable(
            ['id', 'created', 'tasks', 'selection'],
            plans.map((p) => [
              String(p.id),
              new Date(p.createdAt).toISOString().slice(0, 19).replace('T', ' '),
              String(p.summary.tasks ?? ''),
              JSON.stringify(p.params),
            ]),
          ),
        );
        setExit(0);
      } finally {
        await lake.close();
      }
    });

  plan
    .command('show')
    .description('one saved plan and its tasks')
    .argument('<id>', 'plan id')
    .option('--json', 'print as JSON')
    .action(async (idText: string, flags: { json?: boolean }, c: Command) => {
      const id = parsePositiveInt(idText, 'plan id');
      const lake = await openLakeFor(c);
      try {
        const p = await lake.catalog.getPlan(id);
        if (!p)
          throw new UsageError(`no plan ${id} in the catalog`, { hint: 'list plans with: ticklake plan ls' });
        const tasks = await lake.catalog.planTasks(id);
        if (flags.json) o.out(`${JSON.stringify({ ...p, tasks })}\n`);
        else {
          printPlanSummary(o, id, p.summary as unknown as PlanSummary);
          o.out(
            textTable(
              ['day', 'exchange', 'data type', 'symbol', 'instrument key'],
              tasks.map((t) => [t.day, t.exchange, t.dataType, t.symbol, t.instrumentKey ?? '(grouped)']),
            ),
          );
        }
        setExit(0);
      } finally {
        await lake.close();
      }
    });
}
