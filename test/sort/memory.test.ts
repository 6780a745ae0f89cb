/**
 * Peak RSS of the sorter must not grow with the input: 20 M rows within ~1.5× of 5 M rows (runRows
 * 1 M). Runs each size in a child `node --expose-gc` process on generated trades-like data.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
let work: string;

interface ChildReport {
  rows: number;
  outOfOrder: number;
  ms: number;
  peakRssMiB: number;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ticklake-sort-mem-'));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await run(process.execPath, [
    tsc,
    '--outDir',
    join(work, 'js'),
    '--rootDir',
    root,
    '--module',
    'NodeNext',
    '--moduleResolution',
    'NodeNext',
    '--target',
    'ES2022',
    '--strict',
    '--skipLibCheck',
    '--types',
    'node',
    join(root, 'test/sort/memory-child.ts'),
  ]);
}, 120_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

async function child(rows: number): Promise<ChildReport> {
  const tmp = join(work, `spill-${rows}`);
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', join(work, 'js/test/sort/memory-child.js'), String(rows), String(1_048_576), tmp],
    { maxBuffer: 1 << 20 },
  );
  expect(await readdir(tmp)).toEqual([]);
  return JSON.parse(stdout) as ChildReport;
}

it('peak RSS for 20 M rows stays close to that for 5 M rows', async () => {
  const small = await child(5_000_000);
  const large = await child(20_000_000);
  console.log(
    `sorter peak RSS: 5 M rows ${small.peakRssMiB} MiB (${small.ms} ms), 20 M rows ${large.peakRssMiB} MiB (${large.ms} ms)`,
  );
  expect(small).toMatchObject({ rows: 5_000_000, outOfOrder: 0 });
  expect(large).toMatchObject({ rows: 20_000_000, outOfOrder: 0 });
  expect(large.peakRssMiB / small.peakRssMiB).toBeLessThan(1.5);
}, 300_000);
