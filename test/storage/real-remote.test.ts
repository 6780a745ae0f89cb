/**
 * Real vendor recordings (../shared/data/real/tardis) ingested into s3:// and gs:// lakes give the
 * same Parquet bytes and catalog as a local lake; and the CLI works on an object-store lake from the
 * environment alone (AWS_ENDPOINT_URL_S3 + credentials, STORAGE_EMULATOR_HOST), with the remote
 * lake's default catalog under XDG_DATA_HOME and a ticklake.yaml `remote:` section.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileRecord } from '../../src/catalog/types.js';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { defaultRemoteCatalogPath } from '../../src/lake/open-storage.js';
import { runCli } from '../helpers/cli.js';
import { realDataMissing, realTardisFiles, stageRealTardis, tempDir } from '../helpers/fixtures.js';
import { type LakeEnv, TEST_API_KEY } from '../helpers/lake.js';
import { lakeEnvOn } from './lake-env.js';
import { BUCKET, backends, S3_CREDENTIALS } from './servers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const comparable = (files: FileRecord[]) =>
  files.map(({ createdAt: _c, ...rest }) => rest).sort((a, b) => (a.path < b.path ? -1 : 1));

describe.skipIf(realDataMissing !== null)('real Tardis samples → s3:// and gs:// lakes', () => {
  const files = realTardisFiles();
  const envs: Partial<Record<'local' | 's3' | 'gcs', LakeEnv>> = {};
  let tardis: { server: TardisServer; vendorDir: string };
  let tmp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    tmp = await tempDir();
    const vendorDir = join(tmp.path, 'vendor');
    await stageRealTardis(vendorDir);
    tardis = {
      server: await startTardisServer({ dir: vendorDir, port: 0, apiKeys: [TEST_API_KEY] }),
      vendorDir,
    };
    for (const b of ['local', 's3', 'gcs'] as const) {
      const env = await lakeEnvOn(b, async () => {}, { tardis });
      envs[b] = env;
      for (const f of files) {
        const s = await env.lake.ingest({
          exchange: f.exchange,
          dataTypes: [f.dataType],
          symbols: [f.symbol],
          from: f.day,
          to: f.day,
        });
        expect(s.failed, JSON.stringify(s.reports.map((r) => r.error))).toBe(0);
      }
    }
  }, 120_000);
  afterAll(async () => {
    for (const e of Object.values(envs)) await e?.close();
    await tardis?.server.close();
    await tmp?.cleanup();
  });

  it('every file is byte-identical to the local lake’s and recorded the same', async () => {
    const localFiles = await envs.local!.lake.files();
    expect(localFiles.length).toBeGreaterThanOrEqual(files.length);
    for (const b of ['s3', 'gcs'] as const) {
      const lake = envs[b]!.lake;
      expect(comparable(await lake.files())).toEqual(comparable(localFiles));
      for (const f of localFiles) {
        const local = await readFile(join(envs.local!.lakeDir, ...f.path.split('/')));
        expect(sha(await lake.storage.readAll(f.path)), `${b} ${f.path}`).toBe(sha(local));
      }
    }
  });
});

describe.skipIf(realDataMissing !== null)('the CLI on s3:// and gs:// lakes (environment only)', () => {
  let servers: Awaited<ReturnType<typeof backends>>;
  let tardis: TardisServer;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const file = realTardisFiles().find((f) => f.dataType === 'trades') ?? realTardisFiles()[0]!;

  beforeAll(async () => {
    servers = await backends();
    tmp = await tempDir();
    const vendorDir = join(tmp.path, 'vendor');
    await stageRealTardis(vendorDir);
    tardis = await startTardisServer({ dir: vendorDir, port: 0, apiKeys: [TEST_API_KEY] });
    await writeFile(
      join(tmp.path, 'ticklake.yaml'),
      `remote:\n  stagingDir: ${join(tmp.path, 'staging')}\n  cacheDir: ${join(tmp.path, 'cache')}\n`,
    );
  });
  afterAll(async () => {
    await tardis?.close();
    await servers?.close();
    await tmp?.cleanup();
  });

  it.each(['s3', 'gs'] as const)('%s: ingest and ls through the CLI', async (scheme) => {
    const env = {
      TARDIS_DATASETS_URL: tardis.url,
      TARDIS_API_KEY: TEST_API_KEY,
      AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_S3: servers.s3.endpoint,
      STORAGE_EMULATOR_HOST: servers.gcs.url,
      XDG_DATA_HOME: join(tmp.path, 'xdg'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const lake = `${scheme}://${BUCKET}/cli-${scheme}`;
    const config = join(tmp.path, 'ticklake.yaml');
    const ingest = await runCli(
      [
        '--lake',
        lake,
        '--config',
        config,
        'ingest',
        '--exchange',
        file.exchange,
        '--data-types',
        file.dataType,
        '--symbols',
        file.symbol,
        '--from',
        file.day,
        '--to',
        file.day,
      ],
      env,
      tmp.path,
    );
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(`${ingest.stdout}${ingest.stderr}`).toMatch(/1 done/);
    expect(existsSync(defaultRemoteCatalogPath(lake, env))).toBe(true);
    const ls = await runCli(['--lake', lake, '--config', config, 'ls'], env, tmp.path);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain(`in ${lake}`);
    expect(ls.stdout).toContain(file.dataType);
    // Staging is empty and the published file went into the read cache.
    expect(
      (await readdir(join(tmp.path, 'staging')).catch(() => [])).filter((n) => n.endsWith('.parquet')),
    ).toEqual([]);
    expect((await readdir(join(tmp.path, 'cache'))).length).toBeGreaterThanOrEqual(1);
  });
});
