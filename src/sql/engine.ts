/**
 * SQL over the lake through an embedded DuckDB, read-only and confined to the lake.
 *
 * Confinement, in layers: (1) only one statement per query, and only SELECT / EXPLAIN statements
 * (checked on the prepared statement, so COPY, ATTACH, INSTALL, LOAD, SET, CREATE, PRAGMA writes are
 * refused before they run); (2) DuckDB itself is locked down after the views are created:
 * `enable_external_access = false` with `allowed_directories` = the lake (or its local file cache),
 * extension auto-install/auto-load off, `lock_configuration = true` — so even a SELECT cannot read a
 * file outside the lake or reach the network. Refusals are `SqlForbiddenError` (code SQL_FORBIDDEN);
 * other DuckDB errors are `SqlError` (code SQL); a query over its time limit is interrupted
 * (`QueryTimeoutError`).
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, StatementType } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import type { Catalog } from '../catalog/types.js';
import { isTicklakeError, QueryTimeoutError, SqlError, SqlForbiddenError, UsageError } from '../errors.js';
import type { Storage } from '../lake/storage.js';
import { collectResult, type SqlTable } from './result.js';
import { createViewSql, sqlString, viewsFor } from './views.js';

export interface SqlOptions {
  /** Interrupt the query after this long (default 30 s). */
  timeoutMs?: number;
  /** Refuse results with more rows than this (ResultTooLargeError; default unlimited). */
  maxRows?: number;
}

export type SqlResult = Table;

/** What the engine needs from a lake. */
export interface SqlLake {
  storage: Storage;
  catalog: Catalog;
}

/** Remote storages expose their local file cache to DuckDB through this (optional) method. */
interface LocalPaths {
  localPathFor?(path: string): Promise<string>;
}

const ALLOWED = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);
const DEFAULT_TIMEOUT_MS = 30_000;
/** Views are re-derived from the catalog at most this often (new data types, new timeframes). */
const VIEWS_TTL_MS = 1000;

export class SqlEngine {
  private instance: DuckDBInstance | null = null;
  private setup: DuckDBConnection | null = null;
  private allowed: string[] = [];
  private viewsSignature = '';
  private viewsCheckedAt = 0;
  private viewNames: string[] = [];
  private init: Promise<void> | null = null;
  private closed = false;
  /** Remote lakes: the folder of symlinks in lake layout, and lake path → linked local file. */
  private farm: string | null = null;
  private readonly links = new Map<string, string>();

  constructor(private readonly lake: SqlLake) {}

  /** Run one read-only query; the result as an Arrow Table. */
  async query(sql: string, options: SqlOptions = {}): Promise<Table> {
    return (await this.run(sql, options)).table;
  }

  /** Run one read-only query; the result as columns + schema + Arrow Table. */
  async run(sql: string, options: SqlOptions = {}): Promise<SqlTable> {
    if (typeof sql !== 'string' || sql.trim().length === 0) {
      throw new UsageError('empty SQL query', {
        hint: 'pass a SELECT statement, e.g. SELECT count(*) FROM trades',
      });
    }
    await this.refreshViews();
    const conn = await this.instance!.connect();
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      conn.interrupt();
    }, timeoutMs);
    try {
      const extracted = await conn.extractStatements(sql).catch((err) => {
        throw sqlErrorOf(err);
      });
      if (extracted.count !== 1) {
        throw new SqlForbiddenError(`SQL: ${extracted.count} statements given, exactly one is allowed`);
      }
      const prepared = await extracted.prepare(0).catch((err) => {
        throw sqlErrorOf(err);
      });
      const type = prepared.statementType;
      if (!ALLOWED.has(type)) {
        throw new SqlForbiddenError(
          `SQL: ${StatementType[type] ?? type} statements are not allowed (read-only)`,
        );
      }
      const result = await prepared.run();
      return await collectResult(result, options.maxRows);
    } catch (err) {
      if (timedOut) throw new QueryTimeoutError('SQL query', timeoutMs);
      throw sqlErrorOf(err);
    } finally {
      clearTimeout(timer);
      conn.closeSync();
    }
  }

  /** Names of the views (after refreshing them from the catalog). */
  async views(): Promise<string[]> {
    await this.refreshViews();
    return [...this.viewNames];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.setup?.closeSync();
    this.setup = null;
    this.instance?.closeSync();
    this.instance = null;
    if (this.farm) await rm(this.farm, { recursive: true, force: true });
    this.farm = null;
  }

  private async refreshViews(): Promise<void> {
    if (this.closed) throw new UsageError('the SQL engine is closed');
    if (this.init) await this.init;
    if (this.instance && Date.now() - this.viewsCheckedAt < VIEWS_TTL_MS) return;
    this.init = this.doRefresh();
    try {
      await this.init;
    } finally {
      this.init = null;
    }
  }

  private async doRefresh(): Promise<void> {
    const { storage, catalog } = this.lake;
    const defs = viewsFor(await catalog.listFiles(), storage);
    const dirs = new Set<string>();
    let root: string;
    if (storage.isLocal) {
      root = withSep(storage.location);
    } else {
      const resolver = (storage as unknown as LocalPaths).localPathFor?.bind(storage);
      if (!resolver) {
        throw new SqlError(`SQL over ${storage.location}: this storage has no local file cache for DuckDB`, {
          hint: 'use a local lake, or a storage backend that provides localPathFor',
        });
      }
      root = await this.linkFarm(defs, resolver, dirs);
    }
    dirs.add(root);
    const statements = defs.map((v) => {
      const hasFiles = v.paths.length > 0 || (v.name === 'instruments' && storage.isLocal);
      return createViewSql(v, hasFiles ? `${root}${v.glob}` : null);
    });
    const signature = statements.join(';\n');
    const needDirs = [...dirs];
    const dirsOk = needDirs.every((d) => this.allowed.some((a) => d.startsWith(a)));
    if (!this.instance || !dirsOk) await this.open(needDirs);
    if (signature !== this.viewsSignature) {
      for (const s of statements) {
        await this.setup!.run(s).catch((err) => {
          throw sqlErrorOf(err);
        });
      }
      this.viewsSignature = signature;
      this.viewNames = defs.map((d) => d.name);
    }
    this.viewsCheckedAt = Date.now();
  }

  /**
   * A remote lake's files as a local folder in the lake's own layout: symlinks to the whole objects in
   * the storage's local file cache (downloaded on first use), so hive partitions and file names work
   * exactly as for a local lake. Returns the folder (with a trailing separator).
   */
  private async linkFarm(
    defs: readonly { paths: readonly string[] }[],
    resolver: (path: string) => Promise<string>,
    dirs: Set<string>,
  ): Promise<string> {
    this.farm ??= await mkdtemp(join(tmpdir(), 'ticklake-sql-'));
    const wanted = new Map<string, string>();
    for (const v of defs) for (const p of v.paths) wanted.set(p, await resolver(p));
    for (const [p, target] of wanted) {
      dirs.add(withSep(dirname(target)));
      if (this.links.get(p) === target) continue;
      const link = join(this.farm, ...p.split('/'));
      await mkdir(dirname(link), { recursive: true });
      await rm(link, { force: true });
      await symlink(target, link);
      this.links.set(p, target);
    }
    for (const p of [...this.links.keys()]) {
      if (!wanted.has(p)) {
        await rm(join(this.farm, ...p.split('/')), { force: true });
        this.links.delete(p);
      }
    }
    return withSep(this.farm);
  }

  /** A fresh locked-down DuckDB instance allowed to read `dirs` only. */
  private async open(dirs: string[]): Promise<void> {
    this.setup?.closeSync();
    this.instance?.closeSync();
    const instance = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const setup = await instance.connect();
    // Collapse nested directories: a remote cache may hand out many per-folder paths.
    const sorted = [...dirs].sort();
    const top = sorted.filter((d, i) => !sorted.slice(0, i).some((p) => d.startsWith(p)));
    await setup.run(`SET allowed_directories = [${top.map(sqlString).join(', ')}]`);
    await setup.run('SET enable_external_access = false');
    await setup.run('SET lock_configuration = true');
    this.instance = instance;
    this.setup = setup;
    this.allowed = top;
    this.viewsSignature = '';
  }
}

function withSep(dir: string): string {
  return dir.endsWith(sep) ? dir : `${dir}${sep}`;
}

/** A DuckDB error as a typed error: permission refusals → SqlForbiddenError, the rest → SqlError. */
export function sqlErrorOf(err: unknown): Error {
  if (isTicklakeError(err)) return err;
  const msg = String((err as Error)?.message ?? err).split('\n')[0]!;
  if (
    /^(Permission Error|Invalid Input Error: Cannot change configuration)/.test(msg) ||
    /disabled (by|through) configuration/.test(msg)
  ) {
    return new SqlForbiddenError(`SQL refused: ${msg}`, { cause: err });
  }
  return new SqlError(`SQL: ${msg}`, {
    hint: 'check the query; `SHOW TABLES` lists the views and `DESCRIBE trades` their columns',
    cause: err,
  });
}
