/** Config keys for remote lakes (s3, gcs, remote): validated like every other key, env override. */
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfigDocument } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

describe('s3 / gcs / remote config', () => {
  it('accepts the documented keys', () => {
    const { config, problems } = validateConfigDocument({
      s3: {
        endpoint: 'http://127.0.0.1:9000/',
        region: 'eu-west-1',
        forcePathStyle: true,
        partSize: 8388608,
      },
      gcs: { endpoint: 'http://127.0.0.1:4443', projectId: 'p', resumableThreshold: 1024 },
      remote: { stagingDir: '/tmp/st', cacheDir: '/tmp/c', cacheMaxBytes: 1000000 },
    });
    expect(problems).toEqual([]);
    expect(config.s3).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      partSize: 8388608,
    });
    expect(config.gcs?.endpoint).toBe('http://127.0.0.1:4443');
    expect(config.remote?.cacheMaxBytes).toBe(1000000);
  });

  it('reports every bad key at once', () => {
    const { problems } = validateConfigDocument({
      s3: { endpoint: 'ftp://x', partSize: 1024, bogus: 1 },
      gcs: { endpoint: 'not a url' },
      remote: { cacheMaxBytes: -1 },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        's3.endpoint: must be an http(s) URL',
        expect.stringMatching(/^s3\.partSize: must be an integer of at least 5 MiB/),
        expect.stringMatching(/^s3\.bogus: unknown setting/),
        'gcs.endpoint: "not a url" is not a URL',
        'remote.cacheMaxBytes: must be a positive integer',
      ]),
    );
    expect(problems.length).toBe(5);
  });

  it('TICKLAKE_REMOTE_CACHE_BYTES sets the cache size and is validated', () => {
    const cwd = '/nonexistent-dir-for-config-test';
    expect(loadConfig({ env: { TICKLAKE_REMOTE_CACHE_BYTES: '12345' }, cwd }).remote?.cacheMaxBytes).toBe(
      12345,
    );
    expect(loadConfig({ env: {}, cwd }).remote?.cacheMaxBytes).toBeUndefined();
    expect(() => loadConfig({ env: { TICKLAKE_REMOTE_CACHE_BYTES: 'lots' }, cwd })).toThrow(ConfigError);
  });
});
