/**
 * The built CLI (spawned from dist/) builds candles and features, queries them back, lists feature
 * sets, and reports bad flags on one line with exit code 2.
 */

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import type { LakeEnv } from '../helpers/lake.js';
import { GEN_KEY, generatedLake } from './env.js';

describe('ticklake candles / features / query candles', () => {
  let env: LakeEnv;
  const lake = () => ['--lake', env.lakeDir];

  beforeAll(async () => {
    env = await generatedLake(['2024-08-01'], 2000);
    await env.lake.close();
  }, 60_000);

  afterAll(async () => {
    await env?.close();
  });

  it('builds candles, then finds nothing to do the second time', async () => {
    const r = await runCli([...lake(), 'candles', 'build', '--from', '2024-08-01', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ built: 1, files: 7 });
    const again = await runCli([...lake(), 'candles', 'build', '--from', '2024-08-01', '--to', '2024-08-01']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/built\s+up to date[\s\S]*\n0\s+1\s/);
  });

  it('queries candles as CSV', async () => {
    const r = await runCli([
      ...lake(),
      'query',
      'candles',
      '--key',
      GEN_KEY,
      '--timeframe',
      '1h',
      '--from',
      '2024-08-01',
      '--columns',
      'timestamp,close,trade_count',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('timestamp,close,trade_count');
    expect(lines.length).toBeGreaterThan(2);
    const counts = lines.slice(1).map((l) => Number(l.split(',')[2]));
    const day = await runCli([
      ...lake(),
      'query',
      'candles',
      '--key',
      GEN_KEY,
      '--timeframe',
      '24h',
      '--from',
      '2024-08-01',
      '--format',
      'json',
    ]);
    expect(JSON.parse(day.stdout.trim()).trade_count).toBe(counts.reduce((a, b) => a + b, 0));
  });

  it('writes candles to a Parquet file that DuckDB reads', async () => {
    const out = join(env.root, 'candles-1m.parquet');
    const r = await runCli([
      ...lake(),
      'query',
      'candles',
      '--key',
      GEN_KEY,
      '--timeframe',
      '1m',
      '--from',
      '2024-08-01',
      '--format',
      'parquet',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const rows = await duckRows(
      `SELECT count(*) AS n, sum(trade_count) AS trades, count(vwap) AS with_vwap FROM read_parquet(${sqlString(out)})`,
    );
    const l = await env.reopen();
    const t = await l.read({
      dataset: 'candles',
      key: GEN_KEY,
      timeframe: '1m',
      from: '2024-08-01',
      to: '2024-08-02',
    });
    const day = await l.read({
      dataset: 'candles',
      key: GEN_KEY,
      timeframe: '24h',
      from: '2024-08-01',
      to: '2024-08-02',
    });
    await l.close();
    expect(rows[0]!.n).toBe(t.numRows);
    expect(rows[0]!.trades).toBe(Number(day.getChild('trade_count')!.get(0)));
    expect(rows[0]!.with_vwap).toBeGreaterThan(0);
  });

  it('builds and lists a feature set, and queries it', async () => {
    const b = await runCli([
      ...lake(),
      'features',
      'build',
      '--set',
      'volatility',
      '--from',
      '2024-08-01',
      '--timeframes',
      '1m,1h',
      '--json',
    ]);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ set: 'volatility', version: 1, built: 2 });
    const ls = await runCli([...lake(), 'features', 'ls']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/volatility\s+v1\s+yes/);
    expect(ls.stdout).toMatch(/momentum\s+v1\s+no/);
    const q = await runCli([
      ...lake(),
      'query',
      'features',
      '--set',
      'volatility',
      '--key',
      GEN_KEY,
      '--timeframe',
      '1m',
      '--from',
      '2024-08-01',
      '--columns',
      'timestamp,rv_30',
    ]);
    expect(q.code).toBe(0);
    expect(q.stdout.split('\n')[0]).toBe('timestamp,rv_30');
  });

  it('bad flags are one line and exit 2', async () => {
    const noTf = await runCli([...lake(), 'query', 'candles', '--key', GEN_KEY, '--from', '2024-08-01']);
    expect(noTf.code).toBe(2);
    expect(noTf.stderr).toMatch(/^ticklake: error: query candles needs --timeframe/);
    const badTf = await runCli([...lake(), 'candles', 'build', '--from', '2024-08-01', '--timeframes', '2m']);
    expect(badTf.code).toBe(2);
    expect(badTf.stderr).toMatch(/unknown timeframe "2m"/);
    const badSet = await runCli([...lake(), 'features', 'build', '--set', 'nope', '--from', '2024-08-01']);
    expect(badSet.code).toBe(2);
    expect(badSet.stderr).toMatch(/unknown feature set "nope"/);
    const badDay = await runCli([...lake(), 'candles', 'build', '--from', '2024-13-01']);
    expect(badDay.code).toBe(2);
  });
});
