/** Config sections for quality thresholds and retention, and every problem (file + environment) at once. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig, validateConfigDocument } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/fixtures.js';

describe('config: quality, retention, all problems at once', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it('defaults', () => {
    const c = loadConfig({ cwd: tmp.path, env: {} });
    expect(c.quality).toEqual({
      outlierMadThreshold: 10,
      outlierWindow: 1001,
      gapFactor: 20,
      minGapSeconds: 60,
      maxDuplicateShare: 0,
      maxCrossedShare: 0,
    });
    expect(c.retention).toEqual({ rawDays: 0, keepVersions: 3 });
    expect(c.quality).toEqual(DEFAULTS.quality);
  });

  it('a partial section keeps the other defaults', () => {
    writeFileSync(
      join(tmp.path, 'ticklake.yaml'),
      'quality:\n  outlierMadThreshold: 6\n  gapFactor: 5\nretention:\n  rawDays: 30\n',
    );
    const c = loadConfig({ cwd: tmp.path, env: {} });
    expect(c.quality).toEqual({ ...DEFAULTS.quality, outlierMadThreshold: 6, gapFactor: 5 });
    expect(c.retention).toEqual({ rawDays: 30, keepVersions: 3 });
  });

  it('names each bad quality/retention setting as path: message', () => {
    expect(
      validateConfigDocument({
        quality: {
          outlierMadThreshold: 0,
          outlierWindow: 2,
          gapFactor: 1,
          minGapSeconds: -1,
          maxDuplicateShare: 2,
          maxCrossedShare: 'x',
          mad: 3,
        },
        retention: { rawDays: -1, keepVersions: 0 },
      }).problems,
    ).toEqual([
      'quality.mad: unknown setting (known: outlierMadThreshold, outlierWindow, gapFactor, minGapSeconds, maxDuplicateShare, maxCrossedShare)',
      'quality.outlierMadThreshold: must be greater than 0',
      'quality.outlierWindow: must be an integer of at least 3',
      'quality.gapFactor: must be greater than 1',
      'quality.minGapSeconds: must be 0 or more',
      'quality.maxDuplicateShare: must be between 0 and 1',
      'quality.maxCrossedShare: must be a number',
      'retention.rawDays: must be a non-negative integer',
      'retention.keepVersions: must be a positive integer',
    ]);
    expect(validateConfigDocument({ quality: 3, retention: [] }).problems).toEqual([
      'quality: must be a mapping',
      'retention: must be a mapping',
    ]);
  });

  it('file and environment problems come in one error', () => {
    const f = join(tmp.path, 'ticklake.yaml');
    writeFileSync(f, 'concurrency: 0\nquality:\n  gapFactor: 0.5\n');
    let err: ConfigError | null = null;
    try {
      loadConfig({ cwd: tmp.path, env: { TICKLAKE_CONCURRENCY: 'many', TARDIS_DATASETS_URL: 'ftp://x' } });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = [
      'concurrency: must be a positive integer',
      'quality.gapFactor: must be greater than 1',
      'TICKLAKE_CONCURRENCY: must be a positive integer',
      'TARDIS_DATASETS_URL: must be an http(s) URL',
    ];
    expect(err!.details!.problems).toEqual(problems);
    expect(err!.message).toBe(`${f} and environment: 4 problem(s): ${problems.join('; ')}`);
    expect(err!.exitCode).toBe(2);
  });

  it('environment problems alone are named as such', () => {
    expect(() => loadConfig({ cwd: tmp.path, env: { TICKLAKE_CONCURRENCY: '-2' } })).toThrow(
      'environment: 1 problem(s): TICKLAKE_CONCURRENCY: must be a positive integer',
    );
  });
});
