/**
 * `ticklake jobs create|start|status|list|cancel|resume|cleanup` — managed ingestion jobs
 * (src/jobs/jobs.ts). `start` runs in the foreground (Ctrl-C cancels) or, with `--detach`, in a
 * background `ticklake jobs start` process. Exit status of start/resume: 0 done, 1 failed, 3 cancelled.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { type JobStatus, parseDuration } from '../../jobs/jobs.js';
import type { IngestEvent } from '../../pipeline/ingest.js';
import { formatBytes, formatCount, type Out, ProgressBar, textTable } from '../output.js';
import { globalsOf, openLakeFor, parsePositiveInt, splitList } from './common.js';

interface CreateFlags {
  exchange?: string;
  dataTypes?: string;
  symbols?: string;
  from?: string;
  to?: string;
  plan?: string;
  concurrency?: string;
  force?: boolean;
  json?: boolean;
}

const exitOf = (s: JobStatus) => (s.status === 'done' ? 0 : s.status === 'cancelled' ? 3 : 1);

function stateOf(s: JobStatus): string {
  return s.stale ? `${s.status} (process gone: resume it)` : s.status;
}

function progressLine(s: JobStatus): string {
  const p = s.progress;
  const parts = [`${p.tasksFinished}/${p.tasksTotal} tasks`];
  const outcomes = (['done', 'skipped', 'unchanged', 'absent', 'failed'] as const)
    .filter((k) => p[k] > 0)
    .map((k) => `${p[k]} ${k}`);
  if (outcomes.length) parts.push(outcomes.join(', '));
  parts.push(`${formatCount(p.rows)} rows`, formatBytes(p.bytes));
  return parts.join(' · ');
}

function describe(s: JobStatus): string {
  const spec = s.spec;
  if (spec.plan !== undefined) return `plan ${spec.plan}`;
  if (spec.tasks !== undefined) return `${spec.tasks.length} explicit tasks`;
  const days = spec.to && spec.to !== spec.from ? `${spec.from}..${spec.to}` : `${spec.from}`;
  return `${spec.exchange} ${(spec.dataTypes ?? []).join(',')} ${(spec.symbols ?? []).join(',')} ${days}`;
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function printStatus(o: Out, s: JobStatus): void {
  const lines = [
    `job ${s.id}: ${stateOf(s)}${s.cancelRequested && s.status !== 'cancelled' ? ' (cancel requested)' : ''}`,
    `  what:     ${describe(s)}${s.spec.force ? ' (force)' : ''}`,
    `  progress: ${progressLine(s)}`,
    `  created:  ${iso(s.createdAt)}  started: ${iso(s.startedAt)}  finished: ${iso(s.finishedAt)}`,
  ];
  if (s.owner) lines.push(`  process:  ${s.owner.pid} on ${s.owner.host} (heartbeat ${iso(s.heartbeatAt)})`);
  const failures = (s.summary?.failures ?? []) as {
    task: { dataType: string; symbol: string; day: string };
    error?: { message: string };
  }[];
  for (const f of failures)
    lines.push(`  failed:   ${f.task.dataType} ${f.task.symbol} ${f.task.day}: ${f.error?.message ?? ''}`);
  if (s.summary?.error) lines.push(`  error:    ${(s.summary.error as { message: string }).message}`);
  o.out(`${lines.join('\n')}\n`);
}

function parseId(v: string): number {
  return parsePositiveInt(v, 'job id');
}

/** Run start/resume in the foreground with a progress bar; Ctrl-C cancels the job. */
async function runForeground(
  o: Out,
  json: boolean | undefined,
  run: (opts: { signal: AbortSignal; onEvent: (e: IngestEvent) => void }) => Promise<JobStatus>,
): Promise<JobStatus> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = !json && o.isTTY ? new ProgressBar(o) : null;
  let total = 0;
  let finished = 0;
  try {
    return await run({
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'plan') total = e.tasks;
        if (e.type === 'task-end') finished++;
        bar?.render(finished, total, 'tasks', e.type === 'task-end');
      },
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    bar?.clear();
  }
}

export function registerJobsCommands(program: Command, o: Out, setExit: (c: number) => void): void {
  const jobs = program
    .command('jobs')
    .description('managed ingestion jobs: create, start, watch, cancel, resume after a crash, clean up');

  jobs
    .command('create')
    .description('save an ingestion job (same selection flags as ingest, or --plan ID); prints its id')
    .option('--exchange <id>', 'Tardis exchange id, e.g. binance')
    .option('--data-types <list>', 'comma-separated data types, e.g. trades,book_ticker')
    .option('--symbols <list>', 'comma-separated vendor symbols, e.g. BTCUSDT,ETHUSDT')
    .option('--from <day>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--plan <id>', 'the tasks of a saved plan (ticklake plan)')
    .option('--concurrency <n>', 'parallel downloads when the job runs')
    .option('--force', 're-download tasks already done')
    .option('--json', 'print {"id": N}')
    .action(async (flags: CreateFlags, cmd: Command) => {
      const plan = flags.plan !== undefined ? parsePositiveInt(flags.plan, '--plan') : undefined;
      if (plan === undefined && (!flags.exchange || !flags.dataTypes || !flags.symbols || !flags.from))
        throw new UsageError(
          'jobs create needs --exchange, --data-types, --symbols and --from (or --plan ID)',
          {
            hint: 'e.g. ticklake jobs create --exchange binance --data-types trades --symbols BTCUSDT --from 2024-03-01',
          },
        );
      const concurrency = flags.concurrency
        ? parsePositiveInt(flags.concurrency, '--concurrency')
        : undefined;
      const lake = await openLakeFor(cmd);
      try {
        const id = await lake.jobs.create({
          ...(plan !== undefined
            ? { plan }
            : {
                exchange: flags.exchange!,
                dataTypes: splitList(flags.dataTypes),
                symbols: splitList(flags.symbols),
                from: flags.from!,
                to: flags.to ?? flags.from!,
              }),
          ...(flags.force ? { force: true } : {}),
          ...(concurrency !== undefined ? { concurrency } : {}),
        });
        if (flags.json) o.out(`${JSON.stringify({ id })}\n`);
        else o.out(`created job ${id} (run it with: ticklake jobs start ${id})\n`);
      } finally {
        await lake.close();
      }
    });

  jobs
    .command('start <id>')
    .description('run a created job (foreground; Ctrl-C cancels it), or in the background with --detach')
    .option('--detach', 'run it in a background process and return at once')
    .option('--json', 'print the final status as JSON')
    .action(async (idArg: string, flags: { detach?: boolean; json?: boolean }, cmd: Command) => {
      const id = parseId(idArg);
      if (flags.detach) {
        const lake = await openLakeFor(cmd);
        try {
          const s = await lake.jobs.status(id);
          if (s.status !== 'created') await lake.jobs.start(id); // throws the JobStateError
        } finally {
          await lake.close();
        }
        const g = globalsOf(cmd);
        const globals = [
          ...(g.lake ? ['--lake', g.lake] : []),
          ...(g.catalog ? ['--catalog', g.catalog] : []),
          ...(g.config ? ['--config', g.config] : []),
        ];
        const child = spawn(process.execPath, [process.argv[1]!, ...globals, 'jobs', 'start', String(id)], {
          detached: true,
          stdio: 'ignore',
        });
        child.unref();
        if (flags.json) o.out(`${JSON.stringify({ id, pid: child.pid })}\n`);
        else
          o.out(
            `job ${id} started in the background (pid ${child.pid}); watch it with: ticklake jobs status ${id}\n`,
          );
        return;
      }
      const lake = await openLakeFor(cmd);
      try {
        const s = await runForeground(o, flags.json, (opts) => lake.jobs.start(id, opts));
        if (flags.json) o.out(`${JSON.stringify(s)}\n`);
        else printStatus(o, s);
        setExit(exitOf(s));
      } finally {
        await lake.close();
      }
    });

  jobs
    .command('resume <id>')
    .description(
      'finish a job whose process is gone (crash, kill), or re-run the unfinished tasks of a failed/cancelled one',
    )
    .option('--json', 'print the final status as JSON')
    .action(async (idArg: string, flags: { json?: boolean }, cmd: Command) => {
      const id = parseId(idArg);
      const lake = await openLakeFor(cmd);
      try {
        const s = await runForeground(o, flags.json, (opts) => lake.jobs.resume(id, opts));
        if (flags.json) o.out(`${JSON.stringify(s)}\n`);
        else printStatus(o, s);
        setExit(exitOf(s));
      } finally {
        await lake.close();
      }
    });

  jobs
    .command('status <id>')
    .description('status and progress of a job')
    .option('--json', 'print JSON')
    .action(async (idArg: string, flags: { json?: boolean }, cmd: Command) => {
      const id = parseId(idArg);
      const lake = await openLakeFor(cmd);
      try {
        const s = await lake.jobs.status(id);
        if (flags.json) o.out(`${JSON.stringify(s)}\n`);
        else printStatus(o, s);
      } finally {
        await lake.close();
      }
    });

  jobs
    .command('list')
    .description('jobs, newest first')
    .option('--all', 'also the per-run ingest records (and plain `ticklake ingest` runs)')
    .option('--json', 'print JSON lines, one job per line')
    .action(async (flags: { all?: boolean; json?: boolean }, cmd: Command) => {
      const lake = await openLakeFor(cmd);
      try {
        const list = await lake.jobs.list({ all: flags.all });
        if (flags.json) {
          for (const s of list) o.out(`${JSON.stringify(s)}\n`);
          return;
        }
        if (list.length === 0) {
          o.out('no jobs (create one with: ticklake jobs create ...)\n');
          return;
        }
        o.out(
          `${textTable(
            ['id', 'kind', 'status', 'progress', 'created', 'what'],
            list.map((s) => [
              String(s.id),
              s.kind,
              stateOf(s),
              s.kind === 'ingest-job' ? `${s.progress.tasksFinished}/${s.progress.tasksTotal}` : '-',
              iso(s.createdAt),
              s.kind === 'ingest-job' ? describe(s) : JSON.stringify(s.spec),
            ]),
          )}\n`,
        );
      } finally {
        await lake.close();
      }
    });

  jobs
    .command('cancel <id>')
    .description('cancel a job (from any process); waits until its process has stopped')
    .option('--no-wait', 'return once the cancel is requested')
    .option('--json', 'print the status as JSON')
    .action(async (idArg: string, flags: { wait?: boolean; json?: boolean }, cmd: Command) => {
      const id = parseId(idArg);
      const lake = await openLakeFor(cmd);
      try {
        const s = await lake.jobs.cancel(id, { wait: flags.wait !== false });
        if (flags.json) o.out(`${JSON.stringify(s)}\n`);
        else if (s.status === 'cancelled') o.out(`job ${id} cancelled (${progressLine(s)})\n`);
        else if (s.status === 'cancelling') o.out(`job ${id}: cancel requested; its process is stopping\n`);
        else o.out(`job ${id} is ${s.status}: nothing to cancel\n`);
      } finally {
        await lake.close();
      }
    });

  jobs
    .command('cleanup')
    .description('delete ended jobs older than a duration (ingest task records are kept: they back files)')
    .requiredOption('--older-than <duration>', 'e.g. 30d, 12h, 45m')
    .option('--dry-run', 'list what would be deleted')
    .option('--json', 'print JSON')
    .action(async (flags: { olderThan: string; dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const olderThanMs = parseDuration(flags.olderThan);
      const lake = await openLakeFor(cmd);
      try {
        const r = await lake.jobs.cleanup({ olderThanMs, dryRun: flags.dryRun });
        if (flags.json) o.out(`${JSON.stringify({ dryRun: flags.dryRun ?? false, ...r })}\n`);
        else
          o.out(
            `${flags.dryRun ? 'would delete' : 'deleted'} ${r.deleted.length} job(s)${r.deleted.length ? `: ${r.deleted.join(', ')}` : ''}\n`,
          );
      } finally {
        await lake.close();
      }
    });
}
