/**
 * `lakeEnvOn(backend, ...)`: the same lake + local Tardis server pair as test/helpers/lake.ts
 * `lakeEnv`, with the lake on the local filesystem, on S3 (s3rver) or on GCS (the stand-in), so
 * existing lake tests can run over every backend without being copied. Remote lakes are opened
 * the way `openLake` opens them (s3:// or gs:// root, read cache in front), with the SQLite catalog
 * in a temp folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeepPartial, TicklakeConfig } from '../../src/config.js';
import {
  startTardisServer,
  type TardisServer,
  type TardisServerOptions,
} from '../../src/dev/tardis-server.js';
import { openLake } from '../../src/lake/lake.js';
import { type LakeEnv, lakeEnv, TEST_API_KEY } from '../helpers/lake.js';
import { type BackendName, type Backends, backends } from './servers.js';

let shared: { servers: Backends; users: number } | null = null;
let counter = 0;

/** Start (once per test file) the object-store servers; released when the last env closes. */
async function acquire(): Promise<Backends> {
  if (!shared) shared = { servers: await backends(), users: 0 };
  shared.users++;
  return shared.servers;
}

async function release(): Promise<void> {
  if (!shared) return;
  shared.users--;
  if (shared.users === 0) {
    const s = shared.servers;
    shared = null;
    await s.close();
  }
}

export async function lakeEnvOn(
  backend: BackendName,
  prepare: (vendorDir: string) => Promise<void>,
  opts: {
    server?: Partial<TardisServerOptions>;
    config?: DeepPartial<TicklakeConfig>;
    /** Share one Tardis server (and its vendor dir) between lakes; it is not closed with the env. */
    tardis?: { server: TardisServer; vendorDir: string };
  } = {},
): Promise<LakeEnv> {
  if (backend === 'local' && !opts.tardis) return lakeEnv(prepare, opts);
  const servers = backend === 'local' ? null : await acquire();
  const root = await mkdtemp(join(tmpdir(), 'ticklake-remote-lake-'));
  const vendorDir = opts.tardis?.vendorDir ?? join(root, 'vendor');
  if (!opts.tardis) await prepare(vendorDir);
  const server =
    opts.tardis?.server ??
    (await startTardisServer({ dir: vendorDir, port: 0, apiKeys: [TEST_API_KEY], ...opts.server }));
  const prefix = `lake-${process.pid}-${++counter}`;
  const lakeUrl = servers ? servers.url(backend, prefix) : join(root, 'lake');
  const catalog = servers ? join(root, 'catalog.sqlite') : undefined;
  const open = (extra?: DeepPartial<TicklakeConfig>) =>
    openLake({
      root: lakeUrl,
      ...(catalog ? { catalog } : {}),
      ...(servers
        ? { storage: servers.storage(backend, prefix, { cache: { dir: join(root, 'cache') } }) }
        : {}),
      config: {
        ...opts.config,
        ...extra,
        tardis: {
          datasetsUrl: server.url,
          apiKey: TEST_API_KEY,
          retryBaseDelayMs: 5,
          retryMaxDelayMs: 50,
          ...opts.config?.tardis,
          ...extra?.tardis,
        },
      },
    });
  const env: LakeEnv = {
    root,
    vendorDir,
    lakeDir: lakeUrl,
    server,
    lake: await open(),
    async reopen(config) {
      await env.lake.close();
      env.lake = await open(config);
      return env.lake;
    },
    async close() {
      await env.lake.close().catch(() => {});
      if (!opts.tardis) await server.close();
      await rm(root, { recursive: true, force: true });
      if (servers) await release();
    },
  };
  return env;
}
