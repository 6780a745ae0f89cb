/** Config: file < environment < flags, and every problem reported at once as `path: message`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig, validateConfigDocument } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/fixtures.js';

describe('config', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it('defaults without a file', () => {
    const c = loadConfig({ cwd: tmp.path, env: {} });
    expect(c.lake).toBe('./lake');
    expect(c.tardis.datasetsUrl).toBe(DEFAULTS.tardis.datasetsUrl);
    expect(c.tardis.apiKey).toBeUndefined();
    expect(c.configFile).toBeUndefined();
  });

  it('reads ticklake.yaml; environment overrides it; flags override both', () => {
    writeFileSync(
      join(tmp.path, 'ticklake.yaml'),
      'lake: /data/lake\nconcurrency: 8\ntardis:\n  apiKey: from-file-key\n  datasetsUrl: http://file.example/v1\ningest:\n  compression: snappy\n',
    );
    const fileOnly = loadConfig({ cwd: tmp.path, env: {} });
    expect(fileOnly).toMatchObject({
      lake: '/data/lake',
      concurrency: 8,
      tardis: { apiKey: 'from-file-key', datasetsUrl: 'http://file.example/v1' },
    });
    expect(fileOnly.ingest.compression).toBe('snappy');
    const withEnv = loadConfig({
      cwd: tmp.path,
      env: {
        TICKLAKE_LAKE: '/env/lake',
        TARDIS_API_KEY: 'env-key',
        TARDIS_DATASETS_URL: 'http://env.example/v1/',
        TICKLAKE_CONCURRENCY: '2',
      },
    });
    expect(withEnv).toMatchObject({
      lake: '/env/lake',
      concurrency: 2,
      tardis: { apiKey: 'env-key', datasetsUrl: 'http://env.example/v1' },
    });
    const withFlags = loadConfig({
      cwd: tmp.path,
      env: { TICKLAKE_LAKE: '/env/lake' },
      overrides: { lake: '/flag/lake', concurrency: 3 },
    });
    expect(withFlags).toMatchObject({ lake: '/flag/lake', concurrency: 3 });
  });

  it('the API key comes from TARDIS_API_KEY when the file has none', () => {
    expect(loadConfig({ cwd: tmp.path, env: { TARDIS_API_KEY: 'env-key' } }).tardis.apiKey).toBe('env-key');
  });

  it('reports every problem at once as path: message', () => {
    const f = join(tmp.path, 'bad.yaml');
    writeFileSync(
      f,
      'lakes: x\nconcurrency: -1\ntardis:\n  datasetsUrl: notaurl\n  maxRetries: 1.5\ningest:\n  compression: lz4\n  maxBadRowShare: 2\n',
    );
    let err: ConfigError | null = null;
    try {
      loadConfig({ cwd: tmp.path, env: {}, file: f });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = err!.details!.problems as string[];
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^lakes: unknown setting/),
        'concurrency: must be a positive integer',
        'tardis.datasetsUrl: "notaurl" is not a URL',
        'tardis.maxRetries: must be a non-negative integer',
        'ingest.compression: must be one of zstd, snappy, gzip, none',
        'ingest.maxBadRowShare: must be between 0 and 1',
      ]),
    );
    expect(problems).toHaveLength(6);
    expect(err!.exitCode).toBe(2);
  });

  it('names a missing --config file and invalid YAML', () => {
    expect(() => loadConfig({ cwd: tmp.path, env: {}, file: 'nope.yaml' })).toThrow(
      /nope.yaml does not exist/,
    );
    writeFileSync(join(tmp.path, 'ticklake.yaml'), 'a: [1, 2\n');
    expect(() => loadConfig({ cwd: tmp.path, env: {} })).toThrow(/not valid YAML/);
  });

  it('ingest.decodeInWorker: true by default, a boolean from the file, anything else a problem', () => {
    expect(loadConfig({ cwd: tmp.path, env: {} }).ingest.decodeInWorker).toBe(true);
    expect(DEFAULTS.ingest.decodeInWorker).toBe(true);
    writeFileSync(join(tmp.path, 'ticklake.yaml'), 'ingest:\n  decodeInWorker: false\n');
    expect(loadConfig({ cwd: tmp.path, env: {} }).ingest.decodeInWorker).toBe(false);
    expect(validateConfigDocument({ ingest: { decodeInWorker: 'no' } }).problems).toEqual([
      'ingest.decodeInWorker: must be true or false',
    ]);
  });
});
