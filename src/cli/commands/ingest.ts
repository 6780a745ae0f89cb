import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { IngestEvent, IngestSummary } from '../../pipeline/ingest.js';
import { formatBytes, formatCount, formatSeconds, type Out, ProgressBar } from '../output.js';
import { openLakeFor, parsePositiveInt, splitList } from './common.js';

interface IngestFlags {
  exchange?: string;
  dataTypes?: string;
  symbols?: string;
  from?: string;
  plan?: string;
  to?: string;
  concurrency?: string;
  force?: boolean;
  json?: boolean;
}

function taskName(t: { exchange: string; dataType: string; symbol: string; day: string }): string {
  return `${t.exchange} ${t.dataType} ${t.symbol} ${t.day}`;
}

export function registerIngestCommand(program: Command, o: Out, setExit: (c: number) => void): void {
  program
    .command('ingest')
    .description('download Tardis.dev datasets and store them in the lake (idempotent, resumable)')
    .option('--exchange <id>', 'Tardis exchange id, e.g. binance, binance-futures, deribit')
    .option('--data-types <list>', 'comma-separated data types, e.g. trades,book_ticker')
    .option('--symbols <list>', 'comma-separated vendor symbols, e.g. BTCUSDT,ETHUSDT')
    .option('--from <day>', 'first day (YYYY-MM-DD, UTC)')
    .option(
      '--plan <id>',
      'run the tasks of a saved plan (ticklake plan) instead of --exchange/--symbols/...',
    )
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--concurrency <n>', 'parallel downloads (default 4 or config)')
    .option('--force', 're-download even when a task is already done (unchanged files are not rewritten)')
    .option('--json', 'print JSON lines (one per event, then the summary) instead of a progress bar')
    .addHelpText(
      'after',
      '\nExit status: 0 when every task is stored or confirmed absent at the vendor (404), 1 when any failed.\n' +
        'The API key comes from TARDIS_API_KEY or tardis.apiKey in ticklake.yaml; without one only the first day of each month works.',
    )
    .action(async (flags: IngestFlags, cmd: Command) => {
      const planId = flags.plan !== undefined ? parsePositiveInt(flags.plan, '--plan') : undefined;
      if (planId === undefined && (!flags.exchange || !flags.dataTypes || !flags.symbols || !flags.from)) {
        throw new UsageError('ingest needs --exchange, --data-types, --symbols and --from (or --plan ID)', {
          hint: 'e.g. ticklake ingest --exchange binance --data-types trades --symbols BTCUSDT --from 2024-03-01',
        });
      }
      const concurrency = flags.concurrency
        ? parsePositiveInt(flags.concurrency, '--concurrency')
        : undefined;
      const lake = await openLakeFor(cmd, { concurrency });
      try {
        const bar = !flags.json && o.isTTY ? new ProgressBar(o) : null;
        let finished = 0;
        let total = 0;
        let rows = 0;
        let bytes = 0;
        const controller = new AbortController();
        const onSignal = () => controller.abort();
        process.once('SIGINT', onSignal);
        const onEvent = (e: IngestEvent) => {
          if (flags.json) {
            o.out(`${JSON.stringify(e)}\n`);
            return;
          }
          if (e.type === 'plan') total = e.tasks;
          if (e.type === 'task-end') {
            finished++;
            rows += e.rows;
            bytes += e.bytes;
            if (e.outcome === 'failed' && e.error) {
              bar?.clear();
              o.err(`failed: ${taskName(e.task)}: ${e.error.message}\n`);
            }
            if (e.badRows > 0) {
              bar?.clear();
              o.err(
                `quarantined ${e.badRows} bad rows in ${taskName(e.task)}; first: ${e.examples?.[0] ?? ''}\n`,
              );
            }
          }
          bar?.render(
            finished,
            total,
            `tasks · ${formatCount(rows)} rows · ${formatBytes(bytes)}`,
            e.type === 'task-end',
          );
        };
        let summary: IngestSummary;
        try {
          const options = { force: flags.force, concurrency, signal: controller.signal, onEvent };
          summary =
            planId !== undefined
              ? await lake.ingestPlan(planId, options)
              : await lake.ingest({
                  ...options,
                  exchange: flags.exchange!,
                  dataTypes: splitList(flags.dataTypes),
                  symbols: splitList(flags.symbols),
                  from: flags.from!,
                  to: flags.to ?? flags.from!,
                });
        } finally {
          process.removeListener('SIGINT', onSignal);
          bar?.clear();
        }
        if (flags.json) {
          const { reports: _r, ...rest } = summary;
          o.out(`${JSON.stringify({ type: 'summary', ...rest })}\n`);
        } else {
          printSummary(o, summary);
        }
        setExit(summary.failed > 0 ? 1 : 0);
      } finally {
        await lake.close();
      }
    });
}

function printSummary(o: Out, s: IngestSummary): void {
  const parts = [
    `${s.done} done`,
    `${s.skipped} skipped (already stored)`,
    ...(s.unchanged ? [`${s.unchanged} unchanged at vendor`] : []),
    `${s.absent} absent at vendor`,
    `${s.failed} failed`,
  ];
  o.out(
    `ingest: ${s.tasks} tasks — ${parts.join(', ')} · ${formatCount(s.rows)} rows · ${formatBytes(s.bytes)} written · ` +
      `${formatBytes(s.downloaded)} downloaded · ${formatSeconds(s.seconds)}\n`,
  );
  for (const r of s.reports) {
    if (r.outcome === 'absent') o.out(`  absent at vendor: ${taskName(r.task)} (404)\n`);
  }
  for (const r of s.reports) {
    if (r.outcome === 'failed')
      o.out(`  failed: ${taskName(r.task)}: ${r.error?.message ?? 'unknown error'}\n`);
  }
}
