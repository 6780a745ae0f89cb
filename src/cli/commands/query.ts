import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import { arrowToBatch } from '../../columns/arrow.js';
import { storageErrorFromFs, UsageError } from '../../errors.js';
import { ParquetWriter } from '../../parquet/writer.js';
import { CANONICAL_SCHEMAS, DATA_TYPES, type DataType, isDataType } from '../../schema/datasets.js';
import { addDays, parseDay } from '../../util/time.js';
import { type Out, writeCsv, writeJsonLines } from '../output.js';
import { openLakeFor, splitList } from './common.js';

interface QueryFlags {
  key: string;
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
    .argument('<data_type>', `one of ${DATA_TYPES.join(', ')}`)
    .requiredOption('--key <key>', 'instrument key, e.g. BINANCE:SPOT_PAIR:BTC-USDT')
    .requiredOption('--from <time>', 'start: a day (YYYY-MM-DD, UTC) or an ISO time')
    .option('--to <time>', 'end: a day (inclusive) or an ISO time (exclusive); default: the --from day')
    .option('--columns <list>', 'comma-separated columns (default: all)')
    .option('--format <fmt>', 'csv | json (JSON lines) | parquet', 'csv')
    .option('--out <file>', 'write to a file instead of standard output (required for parquet)')
    .action(async (dataType: string, flags: QueryFlags, cmd: Command) => {
      if (!['csv', 'json', 'parquet'].includes(flags.format)) {
        throw new UsageError(`--format ${flags.format} is not supported`, {
          hint: 'use csv, json or parquet',
        });
      }
      if (flags.format === 'parquet' && !flags.out) throw new UsageError('--format parquet needs --out FILE');
      if (!isDataType(dataType))
        throw new UsageError(`unknown data type "${dataType}"`, {
          hint: `use one of ${DATA_TYPES.join(', ')}`,
        });
      const lake = await openLakeFor(cmd);
      try {
        const range = cliRange(flags.from, flags.to);
        const columns = flags.columns ? splitList(flags.columns) : undefined;
        const table = await lake.read({
          dataset: dataType,
          key: flags.key,
          from: range.from,
          to: range.to,
          columns,
        });
        if (flags.format === 'parquet') {
          const schema = CANONICAL_SCHEMAS[dataType as DataType];
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

async function writeParquetFile(
  path: string,
  schema: import('../../columns/types.js').Schema,
  batch: import('../../columns/types.js').ColumnBatch,
): Promise<void> {
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await open(path, 'w');
  } catch (err) {
    throw storageErrorFromFs(path, err);
  }
  try {
    let position = 0;
    const sink = {
      get position() {
        return position;
      },
      async write(chunk: Uint8Array) {
        await fh.write(chunk, 0, chunk.length, position);
        position += chunk.length;
      },
    };
    const w = new ParquetWriter(sink, { schema, codec: 'zstd' });
    await w.write(batch);
    await w.close();
  } catch (err) {
    throw storageErrorFromFs(path, err);
  } finally {
    await fh.close();
  }
}
