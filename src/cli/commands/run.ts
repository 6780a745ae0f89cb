/**
 * `ticklake run --from D --to D`: the whole daily pipeline (instrument sync → plan → ingest →
 * missing/quality check → candles → features) for a range, or one shard of it (`--shard i/N`, or the
 * index/count a scheduler sets: see src/pipeline/shard.ts). Resumable: re-run the same command.
 */
import type { Command } from 'commander';
import { parseTimeframes } from '../../candles/timeframes.js';
import { UsageError } from '../../errors.js';
import { parseStages, type RunEvent, runPipeline, STAGES } from '../../pipeline/run.js';
import { resolveShard } from '../../pipeline/shard.js';
import { formatSeconds, type Out } from '../output.js';
import { openLakeFor, parsePositiveInt, splitList } from './common.js';

const collect = (v: string, prev: string[] = []) => [...prev, ...splitList(v)];

interface RunFlags {
  exchange?: string[];
  source?: string;
  types?: string;
  base?: string;
  quote?: string;
  dataTypes?: string;
  from?: string;
  to?: string;
  symbols?: string;
  expiringWithin?: string;
  groupMin: string;
  shard?: string;
  shardCount?: string;
  stages?: string;
  timeframes?: string;
  featureSets?: string;
  concurrency?: string;
  ingestRounds?: string;
  recoverGrace?: string;
  force?: boolean;
  json?: boolean;
}

export function registerRunCommand(program: Command, o: Out, setExit: (c: number) => void): void {
  program
    .command('run')
    .description(
      'the daily pipeline for a range: instruments sync → plan → ingest → check → candles → features (resumable, shardable)',
    )
    .option('--exchange <id>', 'exchange id (repeatable or comma-separated)', collect)
    .option('--source <name>', 'instrument definitions: tardis (default) | binance | deribit')
    .option('--types <list>', 'instrument types: spot, perpetual, future, option')
    .option('--base <list>', 'base assets, e.g. BTC,ETH')
    .option('--quote <list>', 'quote assets')
    .option('--data-types <list>', 'data types, e.g. trades,book_ticker')
    .option('--from <day>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--symbols <list>', 'vendor symbols or instrument keys')
    .option('--expiring-within <duration>', 'only instruments expiring within e.g. 30d of each day')
    .option('--group-min <n>', 'smallest number of instruments a grouped file replaces; 0 = never', '20')
    .option('--shard <i/N>', 'run only shard i of N (days whose position in the range mod N is i)')
    .option('--shard-count <n>', 'number of shards when the index comes from JOB_COMPLETION_INDEX')
    .option('--stages <list>', `stages to run (default all): ${STAGES.join(',')}`)
    .option('--timeframes <list>', 'candle/feature timeframes (default all)')
    .option('--feature-sets <list>', 'feature sets to build (default every registered set)')
    .option('--concurrency <n>', 'parallel downloads (default 4 or config)')
    .option('--ingest-rounds <n>', 'ingest attempts for failed tasks (default 3)')
    .option(
      '--recover-grace <minutes>',
      'crash recovery leaves catalog intents younger than this to their live writers (default 30; 0 when nothing else writes)',
    )
    .option('--force', 're-download and rebuild even when up to date')
    .option('--json', 'print JSON lines (one per stage, then the summary)')
    .addHelpText(
      'after',
      '\nShard from the environment when --shard is absent: TICKLAKE_SHARD=i/N; Kubernetes Indexed Jobs\n' +
        'JOB_COMPLETION_INDEX + (--shard-count | TICKLAKE_SHARD_COUNT | JOB_COMPLETIONS); Cloud Run Jobs\n' +
        'CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT; GCP Batch BATCH_TASK_INDEX/BATCH_TASK_COUNT.\n' +
        'After a sharded run, `ticklake run --stages candles,features` (unsharded) settles candles whose\n' +
        'previous day was built by another shard. Exit status: 0 when every task is stored or absent at the\n' +
        'vendor, 1 when any task still failed after its rounds. See docs/DEPLOY.md.',
    )
    .action(async (flags: RunFlags, cmd: Command) => {
      if (!flags.exchange || !flags.dataTypes || !flags.from) {
        throw new UsageError('run needs --exchange, --data-types and --from', {
          hint: 'e.g. ticklake run --exchange binance-futures --data-types trades --from 2024-03-01 --to 2024-03-07',
        });
      }
      const groupMin = Number(flags.groupMin);
      if (!Number.isInteger(groupMin) || groupMin < 0) {
        throw new UsageError(`--group-min must be a non-negative integer, got "${flags.groupMin}"`);
      }
      const shard = resolveShard({ shard: flags.shard, shardCount: flags.shardCount });
      const stages = parseStages(flags.stages);
      const timeframes = flags.timeframes ? parseTimeframes(flags.timeframes) : undefined;
      const concurrency = flags.concurrency
        ? parsePositiveInt(flags.concurrency, '--concurrency')
        : undefined;
      const ingestRounds = flags.ingestRounds
        ? parsePositiveInt(flags.ingestRounds, '--ingest-rounds')
        : undefined;
      let recoverGraceMs: number | undefined;
      if (flags.recoverGrace !== undefined) {
        const m = Number(flags.recoverGrace);
        if (!Number.isFinite(m) || m < 0 || flags.recoverGrace.trim() === '') {
          throw new UsageError(
            `--recover-grace must be a number of minutes ≥ 0, got "${flags.recoverGrace}"`,
          );
        }
        recoverGraceMs = m * 60_000;
      }
      const lake = await openLakeFor(cmd, { concurrency });
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const onEvent = (e: RunEvent) => {
          if (flags.json) {
            o.out(`${JSON.stringify(e)}\n`);
            return;
          }
          if (e.type === 'shard') {
            o.err(`shard ${e.index}/${e.count} (${e.source}): ${e.days.length} day(s)\n`);
          } else if (e.type === 'stage-end') {
            o.err(`${e.stage}: ${compact(e.summary)} · ${formatSeconds(e.seconds)}\n`);
          } else if (e.type === 'notice') o.err(`notice: ${e.message}\n`);
        };
        const summary = await runPipeline(lake, {
          exchanges: flags.exchange,
          source: flags.source,
          types: flags.types ? splitList(flags.types) : undefined,
          bases: flags.base ? splitList(flags.base) : undefined,
          quotes: flags.quote ? splitList(flags.quote) : undefined,
          dataTypes: splitList(flags.dataTypes),
          from: flags.from,
          to: flags.to ?? flags.from,
          symbols: flags.symbols ? splitList(flags.symbols) : undefined,
          expiringWithin: flags.expiringWithin,
          groupMin,
          shard,
          stages,
          timeframes,
          featureSets: flags.featureSets ? splitList(flags.featureSets) : undefined,
          force: flags.force,
          concurrency,
          ingestRounds,
          recoverGraceMs,
          signal: controller.signal,
          onEvent,
        });
        if (flags.json) o.out(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
        else {
          o.out(
            `run ${summary.shard.index}/${summary.shard.count}: ${summary.days.length} day(s), ` +
              `${summary.tasks} task(s)${summary.planId !== null ? ` (plan ${summary.planId})` : ''}, ` +
              `${summary.failed.length} failed · ${formatSeconds(summary.seconds)}\n`,
          );
          for (const f of summary.failed) {
            o.out(
              `  failed: ${f.task.exchange} ${f.task.dataType} ${f.task.symbol} ${f.task.day}: ${f.error}\n`,
            );
          }
        }
        setExit(summary.failed.length > 0 ? 1 : 0);
      } finally {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        await lake.close();
      }
    });
}

function compact(s: Record<string, unknown>): string {
  return Object.entries(s)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
