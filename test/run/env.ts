/**
 * The world of the `ticklake run` tests: GENERATED vendor files (src/dev/generate, labelled generated
 * by their sidecars) for N perpetuals × D days of binance-futures trades, served by the local Tardis
 * server with hand-written exchange details (`_api/exchanges/binance-futures.json`, the documented
 * shape, so `instruments sync` works); s3rver for the lakes; PostgreSQL for the catalogs.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { openCatalog } from '../../src/catalog/open.js';
import type { Catalog } from '../../src/catalog/types.js';
import { generateTardisDataset } from '../../src/dev/generate/index.js';
import { startTardisServer, type TardisServer } from '../../src/dev/tardis-server.js';
import { S3Storage } from '../../src/lake/s3-storage.js';
import { daysInclusive } from '../../src/util/time.js';
import { BUCKET, S3_CREDENTIALS, type S3Server, startS3rver } from '../storage/servers.js';

export const EXCHANGE = 'binance-futures';

/** 25 bases → `{BASE}USDT` perpetuals. */
export const BASES = [
  'BTC',
  'ETH',
  'SOL',
  'XRP',
  'ADA',
  'DOGE',
  'DOT',
  'LTC',
  'LINK',
  'AVAX',
  'ATOM',
  'UNI',
  'ETC',
  'XLM',
  'BCH',
  'FIL',
  'TRX',
  'NEAR',
  'APT',
  'ARB',
  'OP',
  'INJ',
  'SUI',
  'AAVE',
  'MKR',
] as const;

export interface RunWorld {
  tmp: string;
  vendorDir: string;
  server: TardisServer;
  s3: S3Server;
  symbols: string[];
  days: string[];
  /** Environment for a `ticklake` child process whose lake is `s3://BUCKET/<prefix>` and catalog `catalogUrl`. */
  cliEnv(prefix: string, catalogUrl: string): NodeJS.ProcessEnv;
  storage(prefix: string): S3Storage;
  /**
   * Put `<prefix>/_staging/.keep`. s3rver (not S3) stores objects as files and removes a folder left
   * empty by a DELETE; a PUT into that folder at the same moment then crashes it (ENOENT). Workers
   * write and delete a probe object under `_staging/` at start-up, concurrently: the keep object stops
   * the folder from ever being empty. Real S3 has no folders, so this is test-harness only.
   */
  prepareLake(prefix: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * GENERATED vendor files: `symbols` perpetuals × the days of trades, `rows` each, plus hand-written
 * exchange details (`_api/exchanges/binance-futures.json`).
 */
export async function generateVendor(
  vendorDir: string,
  o: { symbols: number; from: string; to: string; rows: number },
): Promise<{ symbols: string[]; days: string[] }> {
  const symbols = BASES.slice(0, o.symbols).map((b) => `${b}USDT`);
  const days = daysInclusive(o.from, o.to);
  let seed = 1;
  const jobs: (() => Promise<unknown>)[] = [];
  for (const day of days) {
    for (const symbol of symbols) {
      const s = seed++;
      jobs.push(() =>
        generateTardisDataset({
          dir: vendorDir,
          exchange: EXCHANGE,
          dataType: 'trades',
          symbol,
          day,
          rows: o.rows,
          seed: s,
        }),
      );
    }
  }
  for (let i = 0; i < jobs.length; i += 16) await Promise.all(jobs.slice(i, i + 16).map((j) => j()));
  await mkdir(join(vendorDir, '_api', 'exchanges'), { recursive: true });
  // HAND-WRITTEN exchange details in the documented shape (docs/VENDOR_FORMATS.md).
  await writeFile(
    join(vendorDir, '_api', 'exchanges', `${EXCHANGE}.json`),
    JSON.stringify({
      id: EXCHANGE,
      name: 'Binance USDT Futures',
      enabled: true,
      availableSince: '2019-11-17T00:00:00.000Z',
      incidentReports: [],
      datasets: {
        formats: ['csv'],
        symbols: symbols.map((id) => ({
          id,
          type: 'perpetual',
          availableSince: '2020-01-01T00:00:00.000Z',
          dataTypes: ['trades'],
        })),
      },
    }),
  );
  return { symbols, days };
}

export async function startRunWorld(o: {
  symbols: number;
  from: string;
  to: string;
  rows: number;
}): Promise<RunWorld> {
  const tmp = await mkdtemp(join(tmpdir(), 'ticklake-run-'));
  const vendorDir = join(tmp, 'vendor');
  const { symbols, days } = await generateVendor(vendorDir, o);
  await mkdir(join(tmp, 'child-tmp'), { recursive: true });
  const [server, s3] = await Promise.all([
    startTardisServer({ dir: vendorDir, port: 0 }),
    startS3rver([BUCKET]),
  ]);
  const storage = (prefix: string) =>
    new S3Storage(`s3://${BUCKET}/${prefix}`, {
      endpoint: s3.endpoint,
      credentials: S3_CREDENTIALS,
      stagingDir: join(tmp, 'staging'),
      env: {},
    });
  return {
    tmp,
    vendorDir,
    server,
    s3,
    symbols,
    days,
    storage,
    async prepareLake(prefix) {
      const client = new S3Client({
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: S3_CREDENTIALS,
      });
      try {
        await client.send(
          new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/_staging/.keep`, Body: '' }),
        );
      } finally {
        client.destroy();
      }
    },
    cliEnv(prefix, catalogUrl) {
      return {
        TICKLAKE_LAKE: `s3://${BUCKET}/${prefix}`,
        TICKLAKE_CATALOG: catalogUrl,
        TICKLAKE_CONFIG: '',
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
        TARDIS_DATASETS_URL: server.url,
        TARDIS_API_URL: server.apiUrl,
        TARDIS_API_KEY: '',
        // Staging files, remote read cache and spill files of the children stay in this test's folder.
        TMPDIR: join(tmp, 'child-tmp'),
        XDG_CACHE_HOME: join(tmp, 'child-cache'),
        XDG_DATA_HOME: join(tmp, 'child-data'),
        JOB_COMPLETION_INDEX: '',
        CLOUD_RUN_TASK_INDEX: '',
        BATCH_TASK_INDEX: '',
        TICKLAKE_SHARD: '',
      };
    },
    async close() {
      await Promise.all([server.close(), s3.close()]);
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** The catalog at `url` (PostgreSQL), opened in this process for assertions. */
export function catalogAt(url: string): Promise<Catalog> {
  return openCatalog(url);
}
