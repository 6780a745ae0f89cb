/**
 * `ticklake check missing` and `ticklake check quality` (issue #4): what should be there, what is, and
 * what is wrong with it. `check missing` exits 3 when anything is missing or failed (for schedulers).
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { checkQuality } from '../../quality/check.js';
import {
  checkMissing,
  MISSING_STATUSES,
  type MissingReport,
  type MissingStatus,
  REPORT_SCHEMA,
  repairTasks,
  reportRows,
} from '../../quality/missing.js';
import { formatCount, type Out, textTable, writeParquetFile } from '../output.js';
import { openLakeFor, parsePositiveInt, splitList } from './common.js';

/** One character per status in the day × instrument grid, and its colour. */
const CELL: Record<MissingStatus, { ch: string; color: string }> = {
  present: { ch: '█', color: '32' },
  partial: { ch: '▒', color: '33' },
  missing: { ch: '·', color: '31' },
  failed: { ch: 'x', color: '31;1' },
  absent_at_vendor: { ch: '-', color: '90' },
  vendor_incident: { ch: '!', color: '35' },
};

function grid(o: Out, report: MissingReport, limit: number, color: boolean): void {
  const days = report.days.map((d) => d.day);
  // (key, data type) → day index → status
  const cells = new Map<string, MissingStatus[]>();
  report.days.forEach((d, di) => {
    for (const r of reportRows(d)) {
      const k = `${r.instrument_key} ${r.data_type}`;
      let row = cells.get(k);
      if (!row) cells.set(k, (row = new Array(days.length)));
      row[di] = r.status;
    }
  });
  const rows = report.completeness.slice(0, limit);
  const width = Math.max(12, ...rows.map((r) => r.instrumentKey.length + r.dataType.length + 1));
  o.out(`${''.padEnd(width)}  ${days.map((d) => d.slice(8)).join('')}   (day of month)\n`);
  for (const r of rows) {
    const name = `${r.instrumentKey} ${r.dataType}`;
    const line = (cells.get(name) ?? [])
      .map((s) => {
        if (!s) return ' ';
        const c = CELL[s];
        return color ? `\x1b[${c.color}m${c.ch}${c.ch}\x1b[0m` : `${c.ch}${c.ch}`;
      })
      .join('');
    o.out(`${name.padEnd(width)}  ${line}  ${(r.ratio * 100).toFixed(0)}%\n`);
  }
  if (report.completeness.length > rows.length) {
    o.out(
      `… ${report.completeness.length - rows.length} more (worst first; --limit N, --format json for all)\n`,
    );
  }
  o.out(`legend: ${MISSING_STATUSES.map((s) => `${CELL[s].ch} ${s}`).join('  ')}\n`);
}

export function registerCheckCommands(program: Command, o: Out, setExit: (c: number) => void): void {
  const check = program.command('check').description('missing data and data quality');

  check
    .command('missing')
    .description('expected (instrument definitions × vendor data types, or a plan) vs what the lake holds')
    .requiredOption('--from <day>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--exchange <list>', 'vendor exchanges')
    .option('--data-types <list>', 'data types')
    .option('--keys <list>', 'instrument keys')
    .option('--plan <id>', 'expect the tasks of a saved plan instead')
    .option('--format <fmt>', 'table | json | parquet', 'table')
    .option('--out <file>', 'with --format parquet: the file to write')
    .option('--deep', 'also verify against the storage listing and file checksums')
    .option('--repair', 'ingest what is missing or failed, then check again')
    .option('--limit <n>', 'table: instruments shown (default 40)')
    .addHelpText(
      'after',
      `\nStatuses: ${MISSING_STATUSES.join(', ')}.\nExit status: 0 when nothing is missing or failed, 3 otherwise.\n` +
        'Each run also writes missing_data_reports/by_date/day=D/report.parquet.',
    )
    .action(
      async (
        flags: {
          from: string;
          to?: string;
          exchange?: string;
          dataTypes?: string;
          keys?: string;
          plan?: string;
          format: string;
          out?: string;
          deep?: boolean;
          repair?: boolean;
          limit?: string;
        },
        c: Command,
      ) => {
        if (!['table', 'json', 'parquet'].includes(flags.format)) {
          throw new UsageError(`--format ${flags.format} is not supported`, {
            hint: 'use table, json or parquet',
          });
        }
        if (flags.format === 'parquet' && !flags.out)
          throw new UsageError('--format parquet needs --out FILE');
        const lake = await openLakeFor(c);
        try {
          const req = {
            from: flags.from,
            to: flags.to ?? flags.from,
            exchanges: flags.exchange ? splitList(flags.exchange) : undefined,
            dataTypes: flags.dataTypes ? splitList(flags.dataTypes) : undefined,
            keys: flags.keys ? splitList(flags.keys) : undefined,
            planId: flags.plan ? parsePositiveInt(flags.plan, '--plan') : undefined,
            deep: flags.deep,
          };
          let report = await checkMissing(lake, req);
          if (flags.repair) {
            const tasks = repairTasks(report);
            if (tasks.length > 0) {
              o.err(`repair: ingesting ${tasks.length} vendor file(s)…\n`);
              const s = await lake.ingest({ tasks, params: { repair: true } });
              o.err(`repair: ${s.done} done, ${s.absent} absent at vendor, ${s.failed} failed\n`);
              report = await checkMissing(lake, req);
            }
          }
          if (flags.format === 'json') {
            const rows: string[] = [];
            for (const d of report.days) for (const r of reportRows(d)) rows.push(JSON.stringify(r));
            o.out(`[${rows.join(',\n')}]\n`);
          } else if (flags.format === 'parquet') {
            await writeParquetFile(
              flags.out!,
              REPORT_SCHEMA,
              report.days.map((d) => d.batch),
            );
            o.err(
              `wrote ${formatCount(report.days.reduce((n, d) => n + d.batch.length, 0))} rows to ${flags.out}\n`,
            );
          } else {
            const limit = flags.limit ? parsePositiveInt(flags.limit, '--limit') : 40;
            grid(o, report, limit, o.isTTY && !process.env.NO_COLOR);
          }
          if (report.unsyncedDays.length > 0) {
            o.err(
              `notice: no instrument availability for ${report.unsyncedDays.length} day(s): ${report.unsyncedDays.join(', ')}\n`,
            );
          }
          const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
          o.err(
            `check missing: ${formatCount(total)} expected · ${MISSING_STATUSES.map((s) => `${formatCount(report.counts[s])} ${s}`).join(' · ')}\n`,
          );
          setExit(report.counts.missing > 0 || report.counts.failed > 0 ? 3 : 0);
        } finally {
          await lake.close();
        }
      },
    );

  check
    .command('quality')
    .description(
      'quality metrics of every ingested file in a range (computed at ingest, stored in the catalog)',
    )
    .requiredOption('--from <day>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--keys <list>', 'instrument keys')
    .option('--data-types <list>', 'data types')
    .option('--format <fmt>', 'table | json', 'table')
    .action(
      async (
        flags: { from: string; to?: string; keys?: string; dataTypes?: string; format: string },
        c: Command,
      ) => {
        if (!['table', 'json'].includes(flags.format)) {
          throw new UsageError(`--format ${flags.format} is not supported`, { hint: 'use table or json' });
        }
        const lake = await openLakeFor(c);
        try {
          const files = await checkQuality(lake, {
            from: flags.from,
            to: flags.to ?? flags.from,
            keys: flags.keys ? splitList(flags.keys) : undefined,
            dataTypes: flags.dataTypes ? splitList(flags.dataTypes) : undefined,
          });
          if (flags.format === 'json') o.out(`${JSON.stringify(files)}\n`);
          else {
            const num = (v: number | null | undefined, digits = 0) =>
              v === null || v === undefined ? '' : v.toFixed(digits);
            o.out(
              textTable(
                ['instrument', 'data type', 'day', 'rows', 'coverage', 'out of order', 'issues'],
                files.map((f) => [
                  f.instrumentKey,
                  f.dataType,
                  f.day,
                  formatCount(f.metrics.rows ?? 0),
                  `${num((f.metrics.coverage ?? 0) * 100, 1)}%`,
                  num(f.metrics.out_of_order),
                  f.issues.length ? f.issues.join('; ') : 'ok',
                ]),
              ),
            );
            const bad = files.filter((f) => f.issues.length > 0).length;
            o.out(`${files.length} file(s), ${bad} with issues\n`);
          }
          setExit(0);
        } finally {
          await lake.close();
        }
      },
    );
}
