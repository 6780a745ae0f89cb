/**
 * `check missing` over eight days of one instrument (GENERATED trades, labelled generated, served by the
 * local Tardis server) with one fault per day: present ×3, a day never ingested, a vendor 404, a
 * truncated (partial) day, a failed download, a vendor incident. Then `--deep` against a deleted and a
 * modified file, `--repair`, the CLI exit code, JSON and the report Parquet read back by DuckDB.
 */
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTardisDataset } from '../../src/dev/generate.js';
import { type MissingReport, reportRows } from '../../src/quality/missing.js';
import { runCli } from '../helpers/cli.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { type LakeEnv, lakeEnv, TEST_API_KEY } from '../helpers/lake.js';
import { bitmexExchangeDetails } from '../instruments/api-fixtures.js';
import { HAVE_REAL, SKIP_REASON, tardisSample } from '../instruments/real.js';

const KEY = 'BITMEX:PERP:BTC-USD';
const DAYS = [
  '2024-05-01',
  '2024-05-02',
  '2024-05-03',
  '2024-05-04',
  '2024-05-05',
  '2024-05-06',
  '2024-05-07',
  '2024-05-08',
];

function statuses(r: MissingReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of r.days)
    for (const row of reportRows(d)) if (row.data_type === 'trades') out[row.day] = row.status;
  return out;
}

function detailOf(r: MissingReport, day: string): string | null {
  for (const d of r.days)
    for (const row of reportRows(d)) if (row.day === day && row.data_type === 'trades') return row.detail;
  return null;
}

describe.skipIf(!HAVE_REAL)(`check missing ${HAVE_REAL ? '' : SKIP_REASON}`, () => {
  let env: LakeEnv;
  let failDay7 = true;

  beforeAll(async () => {
    env = await lakeEnv(
      async (dir) => {
        await mkdir(join(dir, '_api', 'exchanges'), { recursive: true });
        const details = bitmexExchangeDetails() as { incidentReports: unknown[] };
        details.incidentReports = [
          {
            from: '2024-05-08T03:00:00.000Z',
            to: '2024-05-08T09:00:00.000Z',
            status: 'resolved',
            details: 'BitMEX feed outage',
          },
        ];
        await writeFile(join(dir, '_api', 'exchanges', 'bitmex.json'), JSON.stringify(details));
        await mkdir(join(dir, '_api', 'instruments'), { recursive: true });
        await writeFile(
          join(dir, '_api', 'instruments', 'bitmex.json'),
          JSON.stringify([tardisSample('perpetual')]),
        );
        // Day 5 does not exist at the vendor (404); day 6 holds a fifth of the rows in its first hours.
        for (const [i, day] of DAYS.entries()) {
          if (day === '2024-05-05' || day === '2024-05-08') continue;
          const rows = day === '2024-05-06' ? 300 : 2000;
          await generateTardisDataset({
            dir,
            exchange: 'bitmex',
            dataType: 'trades',
            symbol: 'XBTUSD',
            day,
            rows,
            seed: i + 1,
          });
        }
      },
      {
        server: {
          faults: (r) => (failDay7 && r.path.includes('/2024/05/07/') ? { status: 500 } : undefined),
        },
        config: { tardis: { maxRetries: 0 } },
      },
    );
    await env.reopen({ tardis: { apiUrl: env.server.apiUrl, maxRetries: 0 } });
    await env.lake.syncInstruments({ exchanges: ['bitmex'], from: DAYS[0]!, to: DAYS[7]! });
    for (const day of DAYS) {
      if (day === '2024-05-04' || day === '2024-05-08') continue; // never ingested
      await env.lake.ingest({ exchange: 'bitmex', dataTypes: ['trades'], symbols: ['XBTUSD'], from: day });
    }
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  it('gives every (instrument, data type, day) exactly one status', async () => {
    const r = await env.lake.checkMissing({ from: DAYS[0]!, to: DAYS[7]!, dataTypes: ['trades'] });
    expect(statuses(r)).toEqual({
      '2024-05-01': 'present',
      '2024-05-02': 'present',
      '2024-05-03': 'present',
      '2024-05-04': 'missing',
      '2024-05-05': 'absent_at_vendor',
      '2024-05-06': 'partial',
      '2024-05-07': 'failed',
      '2024-05-08': 'vendor_incident',
    });
    expect(detailOf(r, '2024-05-06')).toMatch(/with 300 rows; other days median .* 2000 rows/);
    expect(detailOf(r, '2024-05-07')).toMatch(/^VENDOR_SERVER: .*HTTP 500/);
    expect(detailOf(r, '2024-05-08')).toBe('resolved: BitMEX feed outage');
    expect(r.counts).toEqual({
      present: 3,
      missing: 1,
      partial: 1,
      failed: 1,
      absent_at_vendor: 1,
      vendor_incident: 1,
    });
    // Completeness per (key, data type): 3 present of 7 expected (absent at vendor not expected).
    expect(r.completeness[0]).toMatchObject({
      instrumentKey: KEY,
      dataType: 'trades',
      present: 3,
      expected: 7,
    });
    // A data-type filter keeps only that type; without one, every type the vendor lists is expected.
    const other = r.days.flatMap((d) => [...reportRows(d)]).filter((x) => x.data_type !== 'trades');
    expect(new Set(other.map((x) => x.data_type))).toEqual(new Set());
    const everything = await env.lake.checkMissing({ from: DAYS[0]!, to: DAYS[0]! });
    expect([...reportRows(everything.days[0]!)].map((x) => `${x.data_type}:${x.status}`).sort()).toEqual([
      'derivative_ticker:missing',
      'incremental_book_L2:missing',
      'quotes:missing',
      'trades:present',
    ]);
  });

  it('writes missing_data_reports/by_date/day=D/report.parquet, read back by DuckDB', async () => {
    await env.lake.checkMissing({ from: DAYS[0]!, to: DAYS[7]!, dataTypes: ['trades'] });
    const rows = await duckRows(
      `SELECT day, status, detail FROM read_parquet(${sqlString(join(env.lakeDir, 'missing_data_reports/by_date/day=*/report.parquet'))}) ORDER BY day`,
    );
    expect(rows.map((x) => `${x.day} ${x.status}`)).toEqual([
      '2024-05-01 present',
      '2024-05-02 present',
      '2024-05-03 present',
      '2024-05-04 missing',
      '2024-05-05 absent_at_vendor',
      '2024-05-06 partial',
      '2024-05-07 failed',
      '2024-05-08 vendor_incident',
    ]);
  });

  it('--deep finds a file deleted behind the catalog and one whose bytes changed', async () => {
    const [f1] = await env.lake.files({ dataType: 'trades', fromDay: '2024-05-01', toDay: '2024-05-01' });
    const [f2] = await env.lake.files({ dataType: 'trades', fromDay: '2024-05-02', toDay: '2024-05-02' });
    const p1 = join(env.lakeDir, f1!.path);
    const saved = join(env.root, 'saved-day1.parquet');
    await writeFile(saved, await (await import('node:fs/promises')).readFile(p1));
    await rm(p1);
    await appendFile(join(env.lakeDir, f2!.path), Buffer.from([0]));
    const shallow = await env.lake.checkMissing({
      from: '2024-05-01',
      to: '2024-05-02',
      dataTypes: ['trades'],
    });
    expect(statuses(shallow)).toEqual({ '2024-05-01': 'present', '2024-05-02': 'present' });
    const deep = await env.lake.checkMissing({
      from: '2024-05-01',
      to: '2024-05-02',
      dataTypes: ['trades'],
      deep: true,
    });
    expect(statuses(deep)).toEqual({ '2024-05-01': 'missing', '2024-05-02': 'failed' });
    expect(detailOf(deep, '2024-05-01')).toMatch(/is in the catalog but not in storage/);
    expect(detailOf(deep, '2024-05-02')).toMatch(/differs from the catalog \(size \d+ ≠ \d+\)/);
    // Put them back for the other tests.
    await writeFile(p1, await (await import('node:fs/promises')).readFile(saved));
    const { truncate } = await import('node:fs/promises');
    await truncate(join(env.lakeDir, f2!.path), f2!.bytes);
  });

  it('CLI: exit 3 when something is missing, JSON rows; --repair ingests and re-checks', async () => {
    const run = (args: string[]) =>
      runCli(['--lake', env.lakeDir, ...args], {
        TARDIS_API_KEY: TEST_API_KEY,
        TARDIS_DATASETS_URL: env.server.url,
        TARDIS_API_URL: env.server.apiUrl,
      });
    const json = await run([
      'check',
      'missing',
      '--from',
      DAYS[0]!,
      '--to',
      DAYS[7]!,
      '--data-types',
      'trades',
      '--format',
      'json',
    ]);
    expect(json.code).toBe(3);
    const rows = JSON.parse(json.stdout) as {
      instrument_key: string;
      day: string;
      status: string;
      detail: string | null;
    }[];
    expect(rows).toHaveLength(8);
    expect(rows[3]).toEqual({
      instrument_key: KEY,
      data_type: 'trades',
      day: '2024-05-04',
      status: 'missing',
      detail: null,
    });
    expect(json.stderr).toMatch(
      /8 expected · 3 present · 1 missing · 1 partial · 1 failed · 1 absent_at_vendor · 1 vendor_incident/,
    );

    const table = await run([
      'check',
      'missing',
      '--from',
      DAYS[0]!,
      '--to',
      DAYS[7]!,
      '--data-types',
      'trades',
    ]);
    expect(table.stdout).toContain(`${KEY} trades`);
    expect(table.stdout).toMatch(/██████··--▒▒xx!! {2}43%/); // 3 present of 7 expected (the 404 is not expected)

    failDay7 = false; // the vendor recovers
    const repaired = await run([
      'check',
      'missing',
      '--from',
      DAYS[0]!,
      '--to',
      DAYS[7]!,
      '--data-types',
      'trades',
      '--repair',
    ]);
    expect(repaired.stderr).toMatch(/repair: ingesting 2 vendor file\(s\)/);
    expect(repaired.stderr).toMatch(
      /5 present · 0 missing · 1 partial · 0 failed · 1 absent_at_vendor · 1 vendor_incident/,
    );
    expect(repaired.code).toBe(0);
  });

  it('a day range without synced availability is a clear error', async () => {
    await expect(env.lake.checkMissing({ from: '2023-01-01', to: '2023-01-02' })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('no instrument availability synced'),
    });
  });
});
