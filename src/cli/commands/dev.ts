import type { Command } from 'commander';
import { generateTardisDataset } from '../../dev/generate.js';
import { runTardisServerCommand } from '../../dev/tardis-server.js';
import { UsageError } from '../../errors.js';
import { assertTardisExchange } from '../../keys/venues.js';
import { DATA_TYPES, isDataType } from '../../schema/datasets.js';
import { daysInclusive, parseDay } from '../../util/time.js';
import { formatCount, type Out } from '../output.js';
import { parsePositiveInt, splitList } from './common.js';

export function registerDevCommands(program: Command, o: Out, setExit: (c: number) => void): void {
  const dev = program
    .command('dev')
    .description('local vendor server and data generator for tests and demos');
  dev
    .command('tardis-server')
    .description(
      'serve a directory laid out as {exchange}/{data_type}/{YYYY}/{MM}/{DD}/{SYMBOL}.csv.gz under Tardis’s URL scheme',
    )
    .requiredOption('--dir <dir>', 'directory to serve')
    .option('--port <port>', 'port (default: a free one)', '0')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--api-key <key...>', 'require one of these keys for non-first-of-month days (like Tardis)')
    .action(async (flags: { dir: string; port: string; host: string; apiKey?: string[] }) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port ${flags.port} is not a port number`);
      await runTardisServerCommand({
        dir: flags.dir,
        port,
        host: flags.host,
        apiKeys: flags.apiKey,
        print: (s: string) => o.out(`${s}\n`),
      });
      setExit(0);
    });
  dev
    .command('generate')
    .description('write realistic generated Tardis CSV.gz files (labelled as generated) for tests and demos')
    .requiredOption('--dir <dir>', 'output directory (server layout)')
    .requiredOption('--exchange <id>', 'Tardis exchange id')
    .requiredOption('--data-types <list>', `comma-separated: ${DATA_TYPES.join(', ')}`)
    .requiredOption('--symbols <list>', 'comma-separated vendor symbols')
    .requiredOption('--from <day>', 'first day (YYYY-MM-DD)')
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--rows <n>', 'rows per file', '100000')
    .option('--seed <n>', 'random seed', '1')
    .action(
      async (flags: {
        dir: string;
        exchange: string;
        dataTypes: string;
        symbols: string;
        from: string;
        to?: string;
        rows: string;
        seed: string;
      }) => {
        assertTardisExchange(flags.exchange);
        const dataTypes = splitList(flags.dataTypes);
        for (const dt of dataTypes)
          if (!isDataType(dt))
            throw new UsageError(`unknown data type "${dt}"`, { hint: `use ${DATA_TYPES.join(', ')}` });
        const rows = parsePositiveInt(flags.rows, '--rows');
        const seed = Number(flags.seed);
        const days = daysInclusive(parseDay(flags.from, '--from'), parseDay(flags.to ?? flags.from, '--to'));
        let n = 0;
        for (const day of days) {
          for (const dataType of dataTypes) {
            for (const symbol of splitList(flags.symbols)) {
              const r = await generateTardisDataset({
                dir: flags.dir,
                exchange: flags.exchange,
                dataType: dataType as (typeof DATA_TYPES)[number],
                symbol,
                day,
                rows,
                seed: seed + n,
              });
              o.out(`generated ${formatCount(rows)} rows: ${r.path}\n`);
              n++;
            }
          }
        }
        setExit(0);
      },
    );
}
