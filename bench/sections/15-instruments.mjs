// Issue #3: a Deribit-sized instrument list (300,000 symbols, GENERATED) → definitions and one day's
// availability file, against the floor of JSON.parse on the same responses; and the warm lookup of one
// date's instrument list.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTardisServer } from '../../dist/dev/tardis-server.js';
import { openLake } from '../../dist/index.js';
import { log, median, QUICK, TMP, time } from '../lib.mjs';

const SYMBOLS = QUICK ? 60_000 : 300_000;
const DAY = '2024-03-15';
const KEY = 'bench-key';

export const notes = [
  `The instrument list is generated (${SYMBOLS.toLocaleString()} Deribit-style options and futures, mostly expired, as on Deribit): /v1/exchanges/deribit and /v1/instruments/deribit served by the local Tardis-compatible server. "sync" includes both HTTP GETs, JSON.parse, canonical definitions with keys, the day's selection and the zstd Parquet write + catalog commit; the floor is JSON.parse alone on the same two bodies.`,
];

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

function generate(dir) {
  const marker = join(dir, `_api/instruments/deribit.${SYMBOLS}.ok`);
  if (existsSync(marker)) return;
  log(
    `generating a ${SYMBOLS.toLocaleString()}-symbol Deribit instrument list (generated data, cached in bench/tmp)…`,
  );
  mkdirSync(join(dir, '_api/instruments'), { recursive: true });
  mkdirSync(join(dir, '_api/exchanges'), { recursive: true });
  const instruments = [];
  const symbols = [];
  const start = Date.UTC(2019, 3, 5, 8);
  let n = 0;
  for (let w = 0; n < SYMBOLS; w++) {
    const expiry = new Date(start + w * 7 * 86_400_000);
    const tag = `${expiry.getUTCDate()}${MONTHS[expiry.getUTCMonth()]}${String(expiry.getUTCFullYear()).slice(2)}`;
    const since = new Date(expiry.getTime() - 60 * 86_400_000 - 8 * 3_600_000).toISOString();
    for (const base of ['BTC', 'ETH']) {
      const baseStrike = base === 'BTC' ? 5000 : 200;
      const futureId = `${base}-${tag}`;
      const common = {
        exchange: 'deribit',
        baseCurrency: base,
        active: false,
        availableSince: since,
        availableTo: expiry.toISOString(),
        expiry: expiry.toISOString(),
        makerFee: 0.0003,
        takerFee: 0.0003,
        inverse: true,
        contractMultiplier: 1,
      };
      instruments.push({
        ...common,
        id: futureId,
        datasetId: futureId,
        quoteCurrency: 'USD',
        type: 'future',
        priceIncrement: 2.5,
        amountIncrement: 10,
        minTradeAmount: 10,
      });
      symbols.push({
        id: futureId,
        type: 'future',
        availableSince: since,
        availableTo: expiry.toISOString(),
        dataTypes: ['trades', 'quotes', 'book_snapshot_5'],
      });
      n++;
      for (let k = 0; k < 74 && n < SYMBOLS; k++) {
        for (const right of ['C', 'P']) {
          const strike = baseStrike * (1 + k * 0.05);
          const id = `${base}-${tag}-${Math.round(strike)}-${right}`;
          instruments.push({
            ...common,
            id,
            datasetId: id,
            quoteCurrency: base,
            type: 'option',
            priceIncrement: 0.0005,
            amountIncrement: 0.1,
            minTradeAmount: 0.1,
            strikePrice: Math.round(strike),
            optionType: right === 'C' ? 'call' : 'put',
          });
          symbols.push({
            id,
            type: 'option',
            availableSince: since,
            availableTo: expiry.toISOString(),
            dataTypes: ['trades', 'quotes'],
          });
          n++;
        }
      }
    }
  }
  writeFileSync(join(dir, '_api/instruments/deribit.json'), JSON.stringify(instruments));
  writeFileSync(
    join(dir, '_api/exchanges/deribit.json'),
    JSON.stringify({
      id: 'deribit',
      name: 'Deribit',
      enabled: true,
      incidentReports: [],
      datasets: { formats: ['csv'], symbols },
    }),
  );
  writeFileSync(marker, 'generated');
}

export async function bench() {
  const dir = join(TMP, 'instruments-api');
  generate(dir);
  const bodies = ['_api/exchanges/deribit.json', '_api/instruments/deribit.json'].map((p) =>
    readFileSync(join(dir, p), 'utf8'),
  );
  const parseMs = await time(async () => {
    for (const b of bodies) JSON.parse(b);
  }, 5);
  const server = await startTardisServer({ dir, apiKeys: [KEY] });
  const lakeDir = join(TMP, 'lake-instruments');
  const results = [];
  try {
    const syncTimes = [];
    let summary;
    for (let i = 0; i < 3; i++) {
      rmSync(lakeDir, { recursive: true, force: true });
      const lake = await openLake({
        root: lakeDir,
        config: { tardis: { apiUrl: server.apiUrl, apiKey: KEY } },
      });
      const t0 = performance.now();
      summary = await lake.syncInstruments({ exchanges: ['deribit'], from: DAY, to: DAY });
      syncTimes.push(performance.now() - t0);
      await lake.close();
    }
    log(
      `  ${summary.definitions.toLocaleString()} definitions; ${summary.days[0].rows.toLocaleString()} available on ${DAY}`,
    );
    results.push({
      what: `instruments sync: ${SYMBOLS.toLocaleString()}-symbol Deribit list → definitions + ${DAY} availability file`,
      ours: median(syncTimes),
      ref: parseMs,
      refName: 'JSON.parse of the same two responses',
      goal: '< 1 s absolute',
    });
    // 30 days in one sync: fetch and build once, select per day.
    rmSync(lakeDir, { recursive: true, force: true });
    const lake30 = await openLake({
      root: lakeDir,
      config: { tardis: { apiUrl: server.apiUrl, apiKey: KEY } },
    });
    const t30 = performance.now();
    await lake30.syncInstruments({ exchanges: ['deribit'], from: '2024-03-01', to: '2024-03-30' });
    const ms30 = performance.now() - t30;
    results.push({
      what: 'instruments sync of 30 days at once (same list)',
      ours: ms30,
      ref: median(syncTimes),
      refName: 'one-day sync',
      goal: '≪ 30',
    });
    // Warm lookups of one date (the seed's budget: 1 ms).
    await lake30.instruments({ date: DAY });
    const filter = { date: DAY, type: 'option', base: 'BTC', expiringWithin: '30d' };
    await lake30.instruments(filter);
    const N = 2000;
    const tAll = performance.now();
    for (let i = 0; i < N; i++) await lake30.instruments({ date: DAY });
    const allMs = (performance.now() - tAll) / N;
    const tF = performance.now();
    for (let i = 0; i < N; i++) await lake30.instruments(filter);
    const filterMs = (performance.now() - tF) / N;
    results.push({
      what: `warm lookup: one date's instrument list (${(await lake30.instruments({ date: DAY })).numRows.toLocaleString()} rows), mean of ${N}`,
      ours: allMs,
      ref: 1,
      refName: 'seed budget 1 ms',
      goal: '≤ 0.1 (0.1 ms)',
    });
    results.push({
      what: 'warm lookup with filters (option, BTC, expiring within 30d)',
      ours: filterMs,
      ref: 1,
      refName: 'seed budget 1 ms',
      goal: '≤ 0.1 (0.1 ms)',
    });
    await lake30.close();
  } finally {
    await server.close();
    rmSync(lakeDir, { recursive: true, force: true });
  }
  return results;
}
