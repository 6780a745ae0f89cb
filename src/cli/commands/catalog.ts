import type { Command } from 'commander';
import { type Out, textTable } from '../output.js';
import { openLakeFor } from './common.js';

export function registerCatalogCommands(program: Command, o: Out, setExit: (c: number) => void): void {
  const catalog = program.command('catalog').description('inspect and maintain the catalog');
  catalog
    .command('rebuild')
    .description('recreate the catalog from the Parquet footers in the lake')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const lake = await openLakeFor(cmd);
      try {
        const s = await lake.rebuildCatalog();
        if (flags.json) o.out(`${JSON.stringify(s)}\n`);
        else {
          o.out(
            `catalog rebuilt from ${s.files} files (${s.tasks} ingestion tasks) at ${lake.catalog.location}\n`,
          );
          for (const k of s.skipped) o.out(`  skipped ${k.path}: ${k.reason}\n`);
        }
        setExit(0);
      } finally {
        await lake.close();
      }
    });
  catalog
    .command('tasks')
    .description('list ingestion tasks and their status')
    .option('--status <status>', 'pending | running | done | absent | failed')
    .option('--json', 'print JSON')
    .action(
      async (
        flags: { status?: 'pending' | 'running' | 'done' | 'absent' | 'failed'; json?: boolean },
        cmd: Command,
      ) => {
        const lake = await openLakeFor(cmd);
        try {
          const tasks = await lake.tasks(flags.status ? { status: flags.status } : {});
          if (flags.json) o.out(`${JSON.stringify(tasks, null, 2)}\n`);
          else
            o.out(
              `${textTable(
                ['day', 'exchange', 'data_type', 'symbol', 'status', 'attempts', 'rows', 'error'],
                tasks.map((t) => [
                  t.day,
                  t.exchange,
                  t.dataType,
                  t.symbol,
                  t.status,
                  String(t.attempts),
                  t.rows === null ? '' : String(t.rows),
                  t.error ?? '',
                ]),
              )}\n`,
            );
          setExit(0);
        } finally {
          await lake.close();
        }
      },
    );
}
