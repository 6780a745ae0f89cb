/**
 * Which cleaned-layer files a read uses (`lake.read({ layer: 'cleaned', version? })`): the files of
 * one instrument and data type under `cleaned/v{major}/`, the requested major or, by default, the
 * highest major the lake holds for that instrument. Kept apart from clean.ts so the read path does
 * not load the cleaning code.
 */
import type { Catalog, FileRecord } from '../catalog/types.js';
import { UsageError } from '../errors.js';
import { CLEANED } from '../lake/layout.js';
import { addDays, dayOfMicros } from '../util/time.js';

/** The major of a cleaned-layer version given as `1`, `'1'`, `'v1'` or a semver `'1.0.0'`. */
export function cleanedMajor(version: string | number): number {
  const m = /^v?(\d+)(?:\.\d+\.\d+)?$/.exec(String(version).trim());
  if (!m) {
    throw new UsageError(`cleaned layer version "${version}" is not a version`, {
      hint: "use a major (1, 'v1') or the rules' semver ('1.0.0')",
    });
  }
  return Number(m[1]);
}

/** Major of a cleaned path (`cleaned/v1/...` → 1), null for other paths. */
export function majorOfPath(path: string): number | null {
  const m = /^cleaned\/v(\d+)\//.exec(path);
  return m ? Number(m[1]) : null;
}

export async function cleanedFiles(
  ctx: { catalog: Catalog },
  dataType: string,
  key: string,
  fromUs: number,
  toUs: number,
  req: { version?: string | number; asOf?: unknown; snapshot?: unknown },
): Promise<FileRecord[]> {
  if (req.asOf !== undefined || req.snapshot !== undefined) {
    throw new UsageError('asOf and snapshot apply to the raw layer only', {
      hint: 'the cleaned layer is rebuilt from raw by `ticklake clean`; read raw with asOf instead',
    });
  }
  const files = await ctx.catalog.listFiles({
    dataset: CLEANED,
    dataType,
    instrumentKey: key,
    fromDay: addDays(dayOfMicros(fromUs), -1),
    toDay: addDays(dayOfMicros(toUs - 1), 1),
  });
  let major: number | null = req.version === undefined ? null : cleanedMajor(req.version);
  if (major === null) {
    for (const f of files) {
      const m = majorOfPath(f.path);
      if (m !== null && (major === null || m > major)) major = m;
    }
  }
  return files.filter((f) => majorOfPath(f.path) === major);
}
