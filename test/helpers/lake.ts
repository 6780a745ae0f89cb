/** A lake + local Tardis server pair for end-to-end tests. */
import { join } from 'node:path';
import type { DeepPartial, TicklakeConfig } from '../../src/config.js';
import {
  startTardisServer,
  type TardisServer,
  type TardisServerOptions,
} from '../../src/dev/tardis-server.js';
import { type Lake, openLake } from '../../src/lake/lake.js';
import { tempDir } from './fixtures.js';

export const TEST_API_KEY = 'tl-test-key-3f9a1c';

export interface LakeEnv {
  root: string;
  vendorDir: string;
  lakeDir: string;
  server: TardisServer;
  lake: Lake;
  reopen(config?: DeepPartial<TicklakeConfig>): Promise<Lake>;
  close(): Promise<void>;
}

/** Temp vendor dir + server (+ API key), temp lake opened against it. `prepare` fills the vendor dir first. */
export async function lakeEnv(
  prepare: (vendorDir: string) => Promise<void>,
  opts: { server?: Partial<TardisServerOptions>; config?: DeepPartial<TicklakeConfig> } = {},
): Promise<LakeEnv> {
  const tmp = await tempDir();
  const vendorDir = join(tmp.path, 'vendor');
  const lakeDir = join(tmp.path, 'lake');
  await prepare(vendorDir);
  const server = await startTardisServer({
    dir: vendorDir,
    port: 0,
    apiKeys: [TEST_API_KEY],
    ...opts.server,
  });
  const configFor = (extra?: DeepPartial<TicklakeConfig>): DeepPartial<TicklakeConfig> => ({
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
  });
  const env: LakeEnv = {
    root: tmp.path,
    vendorDir,
    lakeDir,
    server,
    lake: await openLake({ root: lakeDir, config: configFor() }),
    async reopen(config) {
      await env.lake.close();
      env.lake = await openLake({ root: lakeDir, config: configFor(config) });
      return env.lake;
    },
    async close() {
      await env.lake.close().catch(() => {});
      await server.close();
      await tmp.cleanup();
    },
  };
  return env;
}
