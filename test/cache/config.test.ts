/** `cache.maxBytes` in ticklake.yaml: default, override, validation (every problem as path: message). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig, validateConfigDocument } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { openLake } from '../../src/lake/lake.js';
import { tempDir } from '../helpers/fixtures.js';

describe('cache.maxBytes', () => {
  it('defaults to 1 GiB and is read from ticklake.yaml', async () => {
    expect(DEFAULTS.cache.maxBytes).toBe(1024 ** 3);
    const tmp = await tempDir();
    try {
      await writeFile(join(tmp.path, 'ticklake.yaml'), 'cache:\n  maxBytes: 123456\n');
      expect(loadConfig({ cwd: tmp.path, env: {} }).cache.maxBytes).toBe(123456);
      const lake = await openLake({
        root: join(tmp.path, 'lake'),
        configFile: join(tmp.path, 'ticklake.yaml'),
      });
      expect(lake.cache.stats().maxBytes).toBe(123456);
      await lake.close();
      const over = await openLake({ root: join(tmp.path, 'lake'), config: { cache: { maxBytes: 0 } } });
      expect(over.cache.stats().maxBytes).toBe(0);
      await over.close();
    } finally {
      await tmp.cleanup();
    }
  });

  it('rejects negative, fractional and non-numeric budgets and unknown keys', async () => {
    expect(validateConfigDocument({ cache: { maxBytes: -1 } }).problems).toEqual([
      'cache.maxBytes: must be a non-negative integer',
    ]);
    expect(validateConfigDocument({ cache: { maxBytes: 1.5 } }).problems).toEqual([
      'cache.maxBytes: must be a non-negative integer',
    ]);
    expect(validateConfigDocument({ cache: { maxBytes: 'big' } }).problems[0]).toMatch(/^cache\.maxBytes: /);
    expect(validateConfigDocument({ cache: { size: 1 } }).problems[0]).toMatch(
      /^cache\.size: unknown setting/,
    );
    expect(validateConfigDocument({ cache: 5 }).problems).toEqual(['cache: must be a mapping']);
    const tmp = await tempDir();
    try {
      await writeFile(join(tmp.path, 'ticklake.yaml'), 'cache:\n  maxBytes: -5\n');
      expect(() => loadConfig({ cwd: tmp.path, env: {} })).toThrow(ConfigError);
    } finally {
      await tmp.cleanup();
    }
  });
});
