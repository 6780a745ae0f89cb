/**
 * `ticklake sql` as a user runs it (built CLI): table, CSV, JSON lines and Parquet output (Parquet read
 * back by DuckDB), and a forbidden statement's one-line error and exit code. `ticklake serve` starts,
 * answers, refuses a non-loopback bind without a token, and stops on SIGTERM.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import type { LakeEnv } from '../helpers/lake.js';
import { BTC, buildReadLake, ETH, GEN_DAYS, GEN_ROWS } from '../read/lake-fixture.js';

describe('ticklake sql / serve (CLI)', () => {
  let env: LakeEnv;
  beforeAll(async () => {
    env = await buildReadLake({ real: false });
    await env.lake.close();
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  const q = `SELECT instrument_key, count(*) AS n, min("timestamp") AS first FROM trades WHERE day = '${GEN_DAYS[0]}' GROUP BY 1 ORDER BY 1`;
  const first = `${GEN_DAYS[0]}T00:00:00.000000Z`;

  it('table (default), CSV and JSON lines', async () => {
    const table = await runCli(['--lake', env.lakeDir, 'sql', q]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^instrument_key\s+n\s+first$/);
    expect(lines[2]).toMatch(new RegExp(`^${BTC}\\s+${GEN_ROWS}\\s+${first}$`));
    expect(lines.at(-1)).toBe('(2 rows)');
    const csv = await runCli(['--lake', env.lakeDir, 'sql', q, '--format', 'csv']);
    expect(csv.stdout).toBe(
      `instrument_key,n,first\n${BTC},${GEN_ROWS},${first}\n${ETH},${GEN_ROWS},${first}\n`,
    );
    const json = await runCli(['--lake', env.lakeDir, 'sql', q, '--format', 'json']);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { instrument_key: BTC, n: GEN_ROWS, first },
      { instrument_key: ETH, n: GEN_ROWS, first },
    ]);
  });

  it('Parquet written by ticklake, read back by DuckDB', async () => {
    const out = join(env.root, 'out.parquet');
    const r = await runCli(['--lake', env.lakeDir, 'sql', q, '--format', 'parquet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('wrote 2 rows');
    const rows = await duckRows(
      `SELECT instrument_key, n, epoch_us(first) AS f FROM read_parquet(${sqlString(out)}) ORDER BY 1`,
    );
    const f = Date.parse(first) * 1000;
    expect(rows).toEqual([
      { instrument_key: BTC, n: GEN_ROWS, f },
      { instrument_key: ETH, n: GEN_ROWS, f },
    ]);
    const noOut = await runCli(['--lake', env.lakeDir, 'sql', q, '--format', 'parquet']);
    expect(noOut.code).toBe(2);
  });

  it('a forbidden statement: one line, exit 1, nothing written', async () => {
    const r = await runCli(['--lake', env.lakeDir, 'sql', `COPY (SELECT 1) TO '${join(env.root, 'x.csv')}'`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^ticklake: error: SQL refused: Permission Error: Cannot access file ".*x\.csv".* only read-only SELECT/,
    );
    expect(existsSync(join(env.root, 'x.csv'))).toBe(false);
  });

  it('serve: starts, answers, stops on SIGTERM; off loopback it needs a token', async () => {
    const child = spawnCli(['--lake', env.lakeDir, 'serve', '--port', '0']);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    const res = await fetch(
      `${url}/v1/ticks/trades?key=${encodeURIComponent(ETH)}&from=${GEN_DAYS[0]}&to=${GEN_DAYS[1]}&format=csv&columns=id`,
    );
    expect((await res.text()).trim().split('\n')).toHaveLength(GEN_ROWS + 1);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    const bad = await runCli(['--lake', env.lakeDir, 'serve', '--host', '0.0.0.0', '--port', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/serving on 0\.0\.0\.0 needs a bearer token/);
  });
});
