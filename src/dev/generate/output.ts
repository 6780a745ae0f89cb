/**
 * One generated file on disk: rows stream through gzip (with backpressure) into a temp file; the
 * `{file}.generated.json` sidecar is written before the temp file is renamed into place.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TransformOptions } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, type ZlibOptions } from 'node:zlib';
import { LineOut } from './line-out.js';

/**
 * Create `file` (and its directory) from the lines `write` produces, with `sidecar` as JSON at
 * `sidecarPath`. Replaces an existing file atomically; on failure the temp file is removed. Returns
 * the size of the gzipped file.
 */
export async function writeGeneratedFile(
  file: string,
  sidecarPath: string,
  sidecar: object,
  gzipLevel: number,
  write: (out: LineOut) => Promise<void>,
): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;

  // A deep write buffer lets the next chunk be generated while zlib compresses on its own thread.
  const gzipOptions: ZlibOptions & TransformOptions = {
    level: gzipLevel,
    chunkSize: 1 << 18,
    writableHighWaterMark: 1 << 23,
  };
  const gzip = createGzip(gzipOptions);
  const done = pipeline(gzip, createWriteStream(tmp));
  const out = new LineOut(gzip);
  try {
    await write(out);
    await out.finish();
    await done;
    // The sidecar first: a data file without it would be served as vendor data.
    await writeFile(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);
    await rename(tmp, file);
  } catch (err) {
    gzip.destroy();
    await done.catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  return (await stat(file)).size;
}
