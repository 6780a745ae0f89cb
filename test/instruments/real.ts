/** Real vendor samples from ../shared/data/real, read in place; tests skip when ../shared is absent. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REAL = join(REPO_ROOT, '../shared/data/real');
export const HAVE_REAL = existsSync(REAL);
export const SKIP_REASON = '(skipped: ../shared/data/real is absent)';

export function readReal(rel: string): unknown {
  return JSON.parse(readFileSync(join(REAL, rel), 'utf8'));
}

/** A Tardis `/v1/instruments` sample object (each file holds one). */
export function tardisSample(
  name: 'combo' | 'future' | 'option' | 'perpetual' | 'spot',
): Record<string, unknown> {
  return readReal(`tardis/api/nautilus_instrument_${name}.json`) as Record<string, unknown>;
}
