// Issue #4: `check missing` for 300,000 instruments × 30 days (9 M expected rows) against the catalog,
// with time and peak memory, against DuckDB computing the same anti-join over the same availability
// files and a table of the catalog's files. The instrument list is GENERATED.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { startTardisServer } from '../../dist/dev/tardis-server.js';
import { openLake } from '../../dist/index.js';
import { log, QUICK, TMP } from '../lib.mjs';

const N = QUICK ? 30_000 : 300_000;
const DAYS = 30;
const FROM = '2024-06-01';
const TO = '2024-06-30';
const PRESENT_EVERY = 30; // one instrument in thirty holds a file on each day

export const notes = [
  `check missing: ${N.toLocaleString()} generated instruments (all available, trades listed) × ${DAYS} days = ${(N * DAYS).toLocaleString()} expected rows; the catalog holds ${Math.ceil(N / PRESENT_EVERY).toLocaleString()} files per day. Timed without writing the 30 report files (a second figure includes them). DuckDB does the same anti-join (availability Parquet × catalog files table) in the same process.`,
];

function generate(dir) {
  mkdirSync(join(dir, '_api/exchanges'), { recursive: true });
  const symbols = [];
  for (let i = 0; i < N; i++) {
    symbols.push({
      id: `BTC-27DEC26-${1000 + i}-${i % 2 ? 'C' : 'P'}`,
      type: 'option',
      availableSince: '2024-01-01T00:00:00.000Z',
      dataTypes: ['trades'],
    });
  }
  writeFileSync(
    join(dir, '_api/exchanges/deribit.json'),
    JSON.stringify({ id: 'deribit', incidentReports: [], datasets: { symbols } }),
  );
}

export async function bench() {
  const dir = join(TMP, 'missing-api');
  const lakeDir = join(TMP, 'lake-missing');
  rmSync(lakeDir, { recursive: true, force: true });
  generate(dir);
  const server = await startTardisServer({ dir });
  const lake = await openLake({ root: lakeDir, config: { tardis: { apiUrl: server.apiUrl } } });
  const results = [];
  try {
    log(`  syncing ${DAYS} days of ${N.toLocaleString()} instruments (setup, not timed)…`);
    await lake.syncInstruments({ exchanges: ['deribit'], from: FROM, to: TO });
    const keys = (await lake.instruments({ date: FROM })).getChild('instrument_key').toArray();
    log('  writing catalog records (setup, not timed)…');
    const records = [];
    for (let d = 1; d <= DAYS; d++) {
      const day = `2024-06-${String(d).padStart(2, '0')}`;
      for (let i = d % PRESENT_EVERY; i < keys.length; i += PRESENT_EVERY) {
        records.push({
          path: `raw_tick_data/by_date/day=${day}/data_type=trades/${keys[i]}.parquet`,
          dataset: 'raw_tick_data',
          dataType: 'trades',
          instrumentKey: keys[i],
          day,
          rows: 1000,
          bytes: 10_000,
          minTs: Date.parse(`${day}T00:00:00Z`) * 1000,
          maxTs: Date.parse(`${day}T23:59:00Z`) * 1000,
          checksum: 'generated',
          schemaVersion: 1,
          codec: 'zstd',
          vendor: 'tardis',
          vendorExchange: 'deribit',
          vendorSymbol: 'X',
          sourceUrl: null,
          sourceChecksum: null,
          sourceBytes: null,
          generated: true,
          codeVersion: 'bench',
          createdAt: 0,
        });
      }
    }
    await lake.catalog.putFiles(records);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const t0 = performance.now();
    const report = await lake.checkMissing({
      from: FROM,
      to: TO,
      dataTypes: ['trades'],
      writeReports: false,
    });
    const ms = performance.now() - t0;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    log(`  counts: ${JSON.stringify(report.counts)}; peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`);
    const t1 = performance.now();
    await lake.checkMissing({ from: FROM, to: TO, dataTypes: ['trades'] });
    const withReports = performance.now() - t1;

    // DuckDB: the same anti-join over the same availability files and a table of catalog files.
    const instance = await DuckDBInstance.create(':memory:');
    const duck = await instance.connect();
    const csv = join(TMP, 'missing-files.csv');
    writeFileSync(
      csv,
      `instrument_key,day\n${records.map((r) => `${r.instrumentKey},${r.day}`).join('\n')}\n`,
    );
    await duck.run(
      `CREATE TABLE files AS SELECT * FROM read_csv('${csv}', header = true, columns = {'instrument_key': 'VARCHAR', 'day': 'VARCHAR'})`,
    );
    const td = performance.now();
    const res = await duck.runAndReadAll(`
      SELECT count(*) FILTER (WHERE f.instrument_key IS NULL) AS missing, count(*) AS expected
      FROM read_parquet('${join(lakeDir, 'instrument_availability/by_date/day=*/instruments.parquet')}', hive_partitioning = true) a
      LEFT JOIN files f ON f.instrument_key = a.instrument_key AND f.day = CAST(a.day AS VARCHAR)
      WHERE list_contains(string_split(a.data_types, ','), 'trades')`);
    const duckMs = performance.now() - td;
    log(`  duckdb: ${JSON.stringify(res.getRows()[0].map(Number))}`);
    duck.closeSync();
    results.push({
      what: `check missing: ${N.toLocaleString()} instruments × ${DAYS} days against the catalog (peak RSS ${((peak - rssBefore) / 2 ** 20).toFixed(0)} MB above baseline)`,
      ours: ms,
      ref: duckMs,
      refName: 'DuckDB anti-join, same inputs',
      goal: 'seconds, not minutes',
    });
    results.push({
      what: '… including the 30 report.parquet files',
      ours: withReports,
      ref: ms,
      refName: 'without reports',
      goal: '—',
    });
  } finally {
    await lake.close();
    await server.close();
    if (!process.env.KEEP_BENCH_LAKE) rmSync(lakeDir, { recursive: true, force: true });
  }
  return results;
}
