// Issue #6: size and write/read speed of each Parquet codec (zstd, snappy, gzip, none) on the real
// Tardis samples in ../shared/data/real/tardis, through lake.write / lake.readPartitioned, with DuckDB
// writing and reading the same rows with the same codec as the reference. Writes docs/CODECS.md.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { batchToArrow } from '../../dist/columns/arrow.js';
import { concatBatches } from '../../dist/columns/ops.js';
import { openLake } from '../../dist/index.js';
import { ParquetReader } from '../../dist/parquet/reader.js';
import { CANONICAL_SCHEMAS } from '../../dist/schema/datasets.js';
import { createTardisCsvParser } from '../../dist/sources/tardis/csv.js';
import { HERE, log, QUICK, TMP, time } from '../lib.mjs';

const REAL = join(HERE, '..', '..', 'shared', 'data', 'real', 'tardis');
const CODECS = ['zstd', 'snappy', 'gzip', 'none'];
const DUCK_CODEC = { zstd: 'zstd', snappy: 'snappy', gzip: 'gzip', none: 'uncompressed' };
const REPEAT = QUICK ? 10 : 50;
const SAMPLES = [
  { file: 'binance-futures_trades_BTCUSDT_2020-02-22.csv', dataType: 'trades', key: 'BINANCE:PERP:BTC-USDT' },
  { file: 'binance-futures_quotes_BTCUSDT_2020-02-22.csv', dataType: 'quotes', key: 'BINANCE:PERP:BTC-USDT' },
];

export const notes = [
  `Codecs: real Tardis samples (binance-futures BTCUSDT trades and quotes, 2020-02-22, 9,999 rows each) parsed by our CSV parser, repeated ${REPEAT}× (times shifted so the repeats continue in order) for the timings; ticklake = lake.write (validation, sort, Parquet, verify, catalog) and lake.readPartitioned; reference = DuckDB COPY … (COMPRESSION c) and read_parquet of the same rows. Full table: docs/CODECS.md.`,
];

async function parseReal(sample) {
  const path = join(REAL, sample.file);
  const batches = [];
  const parser = createTardisCsvParser({
    dataType: sample.dataType,
    source: path,
    resolveKey: () => sample.key,
    onBatch: (b) => {
      batches.push(b);
    },
  });
  await parser.push(readFileSync(path));
  await parser.end();
  return concatBatches(batches);
}

/** The batch with its times moved k spans later, so repeats continue the day in order (as a longer recording). */
function shifted(batch, k) {
  if (k === 0) return batch;
  const ts = batch.columns.timestamp.values;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of ts) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const d = k * (hi - lo + 1);
  const columns = { ...batch.columns };
  for (const name of ['timestamp', 'local_timestamp']) {
    const c = batch.columns[name];
    columns[name] = { ...c, values: c.values.map((v) => v + d) };
  }
  return { length: batch.length, columns };
}

export async function bench() {
  if (!existsSync(REAL)) {
    log(`real samples not found at ${REAL}: skipping the codec section`);
    return [];
  }
  const results = [];
  const table = [];
  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  const root = join(TMP, 'codecs');
  rmSync(root, { recursive: true, force: true });
  const lake = await openLake({ root });
  try {
    for (const sample of SAMPLES) {
      const batch = await parseReal(sample);
      const schema = CANONICAL_SCHEMAS[sample.dataType];
      const real = batchToArrow(batch, schema);
      const many = batchToArrow(
        concatBatches(Array.from({ length: REPEAT }, (_, k) => shifted(batch, k))),
        schema,
      );
      const tsv = join(TMP, `codecs-${sample.dataType}.parquet`);
      // Hand DuckDB the same rows: our uncompressed file of the repeated rows.
      const src = await lake.write({
        dataset: sample.dataType,
        table: many,
        compression: 'none',
        name: 'source',
        partition: [],
      });
      const srcPath = join(root, src.files[0].record.path);
      for (const codec of CODECS) {
        const ds = `${sample.dataType}_${codec}`; // file name inside the dataset folder
        const one = await lake.write({
          dataset: sample.dataType,
          table: real,
          compression: codec,
          name: `real_${codec}`,
          partition: [],
        });
        const bytes = one.bytes;
        const writeMs = await time(
          () =>
            lake.write({
              dataset: sample.dataType,
              table: many,
              compression: codec,
              name: ds,
              partition: [],
            }),
          5,
        );
        const fileRead = await time(async () => {
          const s = await lake.storage.openRead(`${sample.dataType}/${ds}.parquet`);
          try {
            await (await ParquetReader.open(s)).readArrow();
          } finally {
            await s.close();
          }
        }, 5);
        const duckWrite = await time(
          () =>
            duck.run(
              `COPY (SELECT * FROM read_parquet('${srcPath}')) TO '${tsv}' (FORMAT parquet, COMPRESSION ${DUCK_CODEC[codec]}, ROW_GROUP_SIZE 1048576)`,
            ),
          5,
        );
        const duckRead = await time(() => duck.runAndReadAll(`SELECT * FROM read_parquet('${tsv}')`), 5);
        await duck.run(
          `COPY (SELECT * FROM read_parquet('${join(root, one.files[0].record.path)}')) TO '${tsv}.real' (FORMAT parquet, COMPRESSION ${DUCK_CODEC[codec]})`,
        );
        const duckBytes = statSync(`${tsv}.real`).size;
        table.push({
          dataType: sample.dataType,
          codec,
          bytes,
          duckBytes,
          writeMs,
          readMs: fileRead,
          duckWrite,
          duckRead,
          rows: many.numRows,
        });
        results.push(
          {
            what: `${codec}: ${sample.dataType} file size (9,999 real rows)`,
            ours: bytes / 1000,
            ref: duckBytes / 1000,
            refName: 'DuckDB',
            goal: '≤ 1.2×',
            unit: 'KB',
          },
          {
            what: `${codec}: write ${many.numRows.toLocaleString()} ${sample.dataType} rows`,
            ours: writeMs,
            ref: duckWrite,
            refName: 'DuckDB COPY',
            goal: '≤ 2×',
          },
          {
            what: `${codec}: read ${many.numRows.toLocaleString()} ${sample.dataType} rows`,
            ours: fileRead,
            ref: duckRead,
            refName: 'DuckDB read_parquet',
            goal: '≤ 2×',
          },
        );
        log(
          `${sample.dataType} ${codec}: ${bytes} B (DuckDB ${duckBytes} B), write ${writeMs.toFixed(1)} ms, read ${fileRead.toFixed(1)} ms`,
        );
      }
    }
  } finally {
    await lake.close();
    duck.closeSync();
  }
  writeCodecsDoc(table);
  return results;
}

/** One line per data type naming the smallest, fastest-writing and fastest-reading codec of this run. */
function summary(rows) {
  const out = [];
  for (const dt of [...new Set(rows.map((r) => r.dataType))]) {
    const mine = rows.filter((r) => r.dataType === dt);
    const best = (k) => mine.reduce((a, b) => (b[k] < a[k] ? b : a)).codec;
    out.push(
      `- ${dt}: smallest ${best('bytes')}, fastest write ${best('writeMs')}, fastest read ${best('readMs')} (this run).`,
    );
  }
  return out;
}

function writeCodecsDoc(rows) {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
  const none = (dt) => rows.find((r) => r.dataType === dt && r.codec === 'none').bytes;
  const kb = (b) => `${(b / 1000).toFixed(1)} KB`;
  const ms = (v) => `${v.toFixed(1)} ms`;
  const lines = [
    '# Parquet codecs: size and speed on real data',
    '',
    'Measured by `bench/sections/20-codecs.mjs` (`npm run build && node bench/run.mjs --only codecs`) on the real',
    'Tardis samples in `../shared/data/real/tardis` (binance-futures BTCUSDT, 2020-02-22; 9,999 rows each),',
    "parsed by ticklake's CSV parser and written with `lake.write({ compression })`.",
    '',
    `- **size**: one file of the 9,999 real rows (footer metadata included); ratio = uncompressed size ÷ size.`,
    `- **write / read**: the rows repeated ${REPEAT}× (${rows[0]?.rows.toLocaleString()} rows, times shifted so the repeats continue in order) so timings are not noise; write = \`lake.write\``,
    '  (validation, Parquet encoding + compression, stage → verify → publish → catalog commit); read = the whole file',
    '  into Arrow with our reader. Median of 5 runs.',
    '- **DuckDB**: the same rows written with `COPY … (FORMAT parquet, COMPRESSION c)` and read with `read_parquet`.',
    '',
    `Machine: ${machine}. Measured ${new Date().toISOString().slice(0, 10)}, load average ${loadavg()[0].toFixed(1)} at the end`,
    '(a shared machine: compare codecs within a run, not across machines).',
    '',
    '| data | codec | size | ratio | write | read | DuckDB size | DuckDB write | DuckDB read |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.dataType} | ${r.codec} | ${kb(r.bytes)} | ${(none(r.dataType) / r.bytes).toFixed(2)}× | ${ms(r.writeMs)} | ${ms(r.readMs)} | ${kb(r.duckBytes)} | ${ms(r.duckWrite)} | ${ms(r.duckRead)} |`,
    ),
    '',
    ...summary(rows),
    '',
    'The default is zstd level 1 (`ingest.zstdLevel`; level 3 is ~14% smaller and slower to write). Choose per',
    'dataset with `lake.write({ compression })`, or for ingest with `ingest.compression` in `ticklake.yaml`.',
    '',
  ];
  writeFileSync(join(HERE, '..', 'docs', 'CODECS.md'), lines.join('\n'));
  log('wrote docs/CODECS.md');
}
