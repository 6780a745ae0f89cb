/**
 * `ticklake sql "SELECT ..."`: one read-only query over the lake views through the embedded, confined
 * DuckDB; printed as an aligned table (default), CSV, JSON lines, or written as Parquet (`--out`, by
 * ticklake's own writer, so DuckDB itself never writes a file).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import { storageErrorFromFs, UsageError } from '../../errors.js';
import { SqlEngine } from '../../sql/engine.js';
import { type Out, textTable, writeCsv, writeJsonLines, writeParquetFile } from '../output.js';
import { openLakeFor, parsePositiveInt } from './common.js';

interface SqlFlags {
  format: string;
  out?: string;
  timeout?: string;
  maxRows?: string;
}

const FORMATS = ['table', 'csv', 'json', 'parquet'];

export function registerSqlCommand(program: Command, o: Out, setExit: (c: number) => void): void {
  program
    .command('sql')
    .description(
      'run one read-only SQL query over the lake (views: trades, quotes, candles_1m, instruments, ...)',
    )
    .argument('<query>', 'a SELECT statement, e.g. "SELECT count(*) FROM trades WHERE day = \'2024-08-01\'"')
    .option('--format <fmt>', 'table | csv | json (JSON lines) | parquet', 'table')
    .option('--out <file>', 'write to a file instead of standard output (required for parquet)')
    .option('--timeout <ms>', 'interrupt the query after this many milliseconds', '30000')
    .option('--max-rows <n>', 'refuse results with more rows than this')
    .action(async (query: string, flags: SqlFlags, cmd: Command) => {
      if (!FORMATS.includes(flags.format)) {
        throw new UsageError(`--format ${flags.format} is not supported`, {
          hint: `use ${FORMATS.join(', ')}`,
        });
      }
      if (flags.format === 'parquet' && !flags.out) throw new UsageError('--format parquet needs --out FILE');
      const timeoutMs = parsePositiveInt(flags.timeout ?? '30000', '--timeout');
      const maxRows = flags.maxRows === undefined ? undefined : parsePositiveInt(flags.maxRows, '--max-rows');
      const lake = await openLakeFor(cmd);
      const engine = new SqlEngine(lake);
      try {
        const r = await engine.run(query, { timeoutMs, ...(maxRows !== undefined ? { maxRows } : {}) });
        if (flags.format === 'parquet') {
          await writeParquetFile(flags.out!, r.schema, r.batch);
        } else {
          const stream: WriteStream | null = flags.out ? createWriteStream(flags.out) : null;
          const write = stream ? (s: string) => void stream.write(s) : (s: string) => o.out(s);
          if (flags.format === 'csv') writeCsv(r.table, write);
          else if (flags.format === 'json') writeJsonLines(r.table, write);
          else {
            const names = r.table.schema.fields.map((f) => f.name);
            const rows: string[][] = [];
            let csv = '';
            writeCsv(r.table, (s) => {
              csv += s;
            });
            const lines = csv.split('\n').slice(1, -1);
            for (const line of lines) rows.push(splitCsvLine(line));
            write(`${textTable(names, rows)}\n(${r.table.numRows} row${r.table.numRows === 1 ? '' : 's'})\n`);
          }
          if (stream) {
            await new Promise<void>((res, rej) => {
              stream.on('error', (e) => rej(storageErrorFromFs(flags.out!, e)));
              stream.end(() => res());
            });
          }
        }
        if (flags.out) o.err(`wrote ${r.table.numRows} rows to ${flags.out}\n`);
        setExit(0);
      } finally {
        await engine.close();
        await lake.close();
      }
    });
}

/** One CSV line (as written by writeCsv) back to cells. */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
