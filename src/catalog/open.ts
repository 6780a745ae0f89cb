/**
 * `openCatalog(spec)` — pick the catalog backend from a catalog setting (--catalog, config
 * `catalog`, TICKLAKE_CATALOG): a `postgres://` / `postgresql://` URL opens the PostgreSQL catalog,
 * anything else is a SQLite file path (relative paths resolve against the working directory).
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { PostgresCatalog } from './postgres/catalog.js';
import { isPostgresUrl } from './postgres/url.js';
import { SqliteCatalog } from './sqlite/catalog.js';
import type { Catalog } from './types.js';

/** The catalog setting, normalised: URLs unchanged, paths absolute; `fallback` when unset. */
export function resolveCatalogSpec(spec: string | undefined, fallback: string): string {
  if (!spec) return resolve(fallback);
  if (isPostgresUrl(spec)) return spec;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec);
  if (scheme) {
    throw new UsageError(`catalog ${scheme[1]}://...: unsupported catalog URL scheme`, {
      hint: 'use a SQLite file path or a postgres://USER@HOST:PORT/DATABASE URL',
    });
  }
  return resolve(spec);
}

/** Open the catalog named by `spec` (see resolveCatalogSpec). */
export async function openCatalog(spec: string): Promise<Catalog> {
  const resolved = resolveCatalogSpec(spec, spec);
  return isPostgresUrl(resolved) ? PostgresCatalog.open(resolved) : SqliteCatalog.open(resolved);
}
