/**
 * `ticklake query`: read ticks of one instrument (or candles, book snapshots, features at a timeframe)
 * from the lake in timestamp order, as CSV, JSON lines or Parquet.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import { isDerivedDataset } from '../../candles/read.js';
import { arrowToBatch } from '../../columns/arrow.js';
import type { Field } from '../../columns/types.js';
import { storageErrorFromFs, UsageError } from '../../errors.js';
import { CANONICAL_SCHEMAS, DATA_TYPES, type DataType, isDataType } from '../../schema/datasets.js';
import { addDays, parseDay } from '../../util/time.js';
import { type Out, writeCsv, writeJsonLines, writeParquetFile } from '../output.js';
import { openLakeFor, parsePositiveInt, splitList } from './common.js';

interface QueryFlags {
  key: string;
  timeframe?: string;
  set?: string;
  setVersion?: string;
  from: string;
  to?: string;
  columns?: string;
  format: string;
  out?: string;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** CLI bounds: a day in --to means "through the end of that day" (inclusive), like ingest. */
export function cliRange(from: string, to: string | undefined): { from: string; to: string } {
  const end = to ?? from;
  return { from, to: DAY_RE.test(end) ? addDays(parseDay(end, '--to'), 1) : end };
}

export function registerQueryCommand(program: Command, o: Out, setExit: (c: number) => void): void {
  program
    .command('query')
    .description('read ticks of one instrument from the lake, in timestamp order')
    .argument('<data_type>', `one of ${DATA_TYPES.join(', ')}, or candles, book_snapshots, features`)
    .requiredOption('--key <key>', 'instrument key, e.g. BINANCE:SPOT_PAIR:BTC-USDT')
    .requiredOption('--from <time>', 'start: a day (YYYY-MM-DD, UTC) or an ISO time')
    .option('--to <time>', 'end: a day (inclusive) or an ISO time (exclusive); default: the --from day')
    .option('--columns <list>', 'comma-separated columns (default: all)')
    .option('--timeframe <tf>', 'candles, book_snapshots, features: 15s, 1m, 5m, 15m, 1h, 4h or 24h')
    .option('--set <name>', 'features: the feature set')
    .option('--set-version <n>', 'features: the set version (default: the latest in the lake)')
    .option('--format <fmt>', 'csv | json (JSON lines) | parquet', 'csv')
    .option('--out <file>', 'write to a file instead of standard output (required for parquet)')
    .action(async (dataType: string, flags: QueryFlags, cmd: Command) => {
      if (!['csv', 'json', 'parquet'].includes(flags.format)) {
        throw new UsageError(`--format ${flags.format} is not supported`, {
          hint: 'use csv, json or parquet',
        });
      }
      if (flags.format === 'parquet' && !flags.out) throw new UsageError('--format parquet needs --out FILE');
      const derived = isDerivedDataset(dataType);
      if (derived && !flags.timeframe) {
        throw new UsageError(`query ${dataType} needs --timeframe`, { hint: 'e.g. --timeframe 1m' });
      }
      if (!derived && !isDataType(dataType))
        throw new UsageError(`unknown data type "${dataType}"`, {
          hint: `use one of ${DATA_TYPES.join(', ')}, candles, book_snapshots, features`,
        });
      const lake = await openLakeFor(cmd);
      try {
        const range = cliRange(flags.from, flags.to);
        const columns = flags.columns ? splitList(flags.columns) : undefined;
        const table = derived
          ? await lake.read({
              dataset: dataType,
              key: flags.key,
              timeframe: flags.timeframe!,
              set: flags.set,
              version:
                flags.setVersion !== undefined
                  ? parsePositiveInt(flags.setVersion, '--set-version')
                  : undefined,
              from: range.from,
              to: range.to,
              columns,
            })
          : await lake.read({
              dataset: dataType,
              key: flags.key,
              from: range.from,
              to: range.to,
              columns,
            });
        if (flags.format === 'parquet') {
          const schema = derived ? derivedSchema(table) : CANONICAL_SCHEMAS[dataType as DataType];
          const fields = schema.fields.filter((f) => table.getChild(f.name) !== null);
          const batch = arrowToBatch(table, { fields });
          await writeParquetFile(flags.out!, { fields }, batch);
        } else {
          const stream: WriteStream | null = flags.out ? createWriteStream(flags.out) : null;
          const write = stream ? (s: string) => void stream.write(s) : (s: string) => o.out(s);
          if (flags.format === 'csv') writeCsv(table, write);
          else writeJsonLines(table, write);
          if (stream) {
            await new Promise<void>((res, rej) => {
              stream.on('error', (e) => rej(storageErrorFromFs(flags.out!, e)));
              stream.end(() => res());
            });
          }
        }
        if (flags.out) o.err(`wrote ${table.numRows} rows to ${flags.out}\n`);
        setExit(0);
      } finally {
        await lake.close();
      }
    });
}

/** The column kinds of a derived (candles, book snapshots, features) table, for --format parquet. */
function derivedSchema(table: import('apache-arrow').Table): import('../../columns/types.js').Schema {
  const fields: Field[] = table.schema.fields.map((f) => {
    const t = String(f.type);
    const kind: Field['kind'] = t.startsWith('Timestamp')
      ? 'timestamp'
      : t === 'Int64'
        ? 'int64'
        : t === 'Int32'
          ? 'int32'
          : t === 'Bool'
            ? 'bool'
            : t === 'Utf8'
              ? 'utf8'
              : t.startsWith('Dictionary')
                ? 'dict'
                : 'float64';
    return { name: f.name, kind, nullable: f.nullable };
  });
  return { fields };
}
