/**
 * Metadata: the footer's key-value pairs (read by DuckDB) and the JSON sidecar, validated against the
 * published schema/metadata.schema.json by a small independent JSON Schema checker written here.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  Float64,
  makeData,
  makeVector,
  Table,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lake, openLake } from '../../src/lake/lake.js';
import { readSidecar, type SidecarMetadata } from '../../src/lake/sidecar.js';
import { VERSION } from '../../src/version.js';
import { duckRows, sqlString } from '../helpers/duck.js';
import { REPO_ROOT, tempDir } from '../helpers/fixtures.js';

type JsonSchema = Record<string, unknown>;

/**
 * The JSON Schema keywords the published schema uses (type, enum, pattern, minimum, required,
 * properties, additionalProperties, items, $ref into $defs). Returns every violation as `path: problem`.
 */
function check(schema: JsonSchema, value: unknown, root: JsonSchema = schema, path = '$'): string[] {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/$defs/', '');
    return check((root.$defs as Record<string, JsonSchema>)[name]!, value, root, path);
  }
  const errors: string[] = [];
  const typeOf = (v: unknown) =>
    v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) {
      return [`${path}: expected ${types.join('|')}, got ${t}`];
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${path}: not one of the enum`);
  if (
    typeof schema.pattern === 'string' &&
    typeof value === 'string' &&
    !new RegExp(schema.pattern).test(value)
  ) {
    errors.push(`${path}: does not match ${schema.pattern}`);
  }
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum) {
    errors.push(`${path}: below ${schema.minimum}`);
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of (schema.required as string[] | undefined) ?? []) {
      if (!(r in obj)) errors.push(`${path}: missing ${r}`);
    }
    const props = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errors.push(...check(props[k]!, v, root, `${path}.${k}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected ${k}`);
      else if (typeof schema.additionalProperties === 'object') {
        errors.push(...check(schema.additionalProperties as JsonSchema, v, root, `${path}.${k}`));
      }
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => {
      errors.push(...check(schema.items as JsonSchema, v, root, `${path}[${i}]`));
    });
  }
  return errors;
}

const SCHEMA = JSON.parse(
  readFileSync(join(REPO_ROOT, 'schema', 'metadata.schema.json'), 'utf8'),
) as JsonSchema;

describe('file metadata: footer and JSON sidecar', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let lake: Lake;
  let sidecar: SidecarMetadata;
  let path: string;
  const sha = 'ab'.repeat(32);

  beforeAll(async () => {
    tmp = await tempDir();
    lake = await openLake({ root: tmp.path });
    const t0 = Date.UTC(2024, 7, 1) * 1000;
    const table = new Table({
      timestamp: makeVector(
        makeData({
          type: new TimestampMicrosecond(),
          length: 3,
          data: new BigInt64Array([BigInt(t0 + 5), BigInt(t0 + 1_000_001), BigInt(t0 + 2)]),
        }),
      ),
      instrument_key: vectorFromArray(
        ['BINANCE:SPOT_PAIR:BTC-USDT', 'BINANCE:SPOT_PAIR:BTC-USDT', 'BINANCE:SPOT_PAIR:BTC-USDT'],
        new Utf8(),
      ),
      open: vectorFromArray([1, 2, 3], new Float64()),
      high: vectorFromArray([1, 2, 3], new Float64()),
      low: vectorFromArray([1, 2, 3], new Float64()),
      close: vectorFromArray([1, 2, 3], new Float64()),
      volume: vectorFromArray([10, 20, 30], new Float64()),
    });
    const res = await lake.write({
      dataset: 'OHLCV',
      table,
      sidecar: true,
      compression: 'snappy',
      metadata: {
        quality: { gaps: 0, duplicate_share: 0.001, checked: true },
        inputs: [
          {
            url: 'processed_candles/by_date/day=2024-08-01/timeframe=1m/BINANCE:SPOT_PAIR:BTC-USDT.parquet',
            sha256: sha,
            bytes: 1234,
          },
        ],
        parameters: { timeframe: '1m' },
        dependencies: [{ dataset: 'candles', version: 1 }],
        changelog: [{ version: 1, date: '2024-08-01', change: 'first version' }],
        generated: true,
      },
    });
    path = res.files[0]!.record.path;
    expect(res.files[0]!.sidecar).toBe('ohlcv/day=2024-08-01/part-0.metadata.json');
    sidecar = (await readSidecar(lake.storage, path))!;
  });
  afterAll(async () => {
    await lake.close();
    await tmp.cleanup();
  });

  it('the sidecar is valid against schema/metadata.schema.json', () => {
    expect(check(SCHEMA, sidecar)).toEqual([]);
  });

  it('the checker is not vacuous: broken sidecars are rejected with their paths', () => {
    const broken = JSON.parse(JSON.stringify(sidecar)) as Record<string, unknown>;
    delete broken.recordCount;
    broken.layer = 'silver';
    (broken.lineage as Record<string, unknown>).inputs = [{ url: 'x', sha256: 'nothex', bytes: -1 }];
    broken.extra = 1;
    expect(check(SCHEMA, broken).sort()).toEqual(
      [
        '$: missing recordCount',
        '$.layer: not one of the enum',
        '$.lineage.inputs[0].sha256: does not match ^[0-9a-f]{64}$',
        '$.lineage.inputs[0].bytes: below 0',
        '$: unexpected extra',
      ].sort(),
    );
  });

  it('the sidecar states what the bytes and DuckDB say', async () => {
    const file = join(tmp.path, path);
    const bytes = readFileSync(file);
    expect(sidecar).toMatchObject({
      format: 'ticklake.metadata/1',
      layer: 'processed',
      dataset: 'ohlcv',
      version: 1,
      path: 'ohlcv/day=2024-08-01/part-0.parquet',
      key: 'BINANCE:SPOT_PAIR:BTC-USDT',
      partition: { day: '2024-08-01' },
      recordCount: 3,
      fileSize: statSync(file).size,
      checksum: createHash('sha256').update(bytes).digest('hex'),
      codec: 'snappy',
      timeRange: { min: '2024-08-01T00:00:00.000002Z', max: '2024-08-01T00:00:01.000001Z' },
      sortedBy: ['timestamp'],
      quality: { gaps: 0, duplicate_share: 0.001, checked: true },
      lineage: { codeVersion: VERSION, parameters: { timeframe: '1m' } },
      dependencies: [{ dataset: 'candles', version: 1 }],
      changelog: [{ version: 1, date: '2024-08-01', change: 'first version' }],
      generated: true,
      warnings: [],
    });
    expect(sidecar.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'timestamp:timestamp',
      'instrument_key:dict',
      'open:float64',
      'high:float64',
      'low:float64',
      'close:float64',
      'volume:float64',
    ]);
    const count = await duckRows(`SELECT count(*) AS n FROM read_parquet(${sqlString(file)})`);
    expect(count).toEqual([{ n: sidecar.recordCount }]);
  });

  it('the footer carries the same metadata as key-value pairs', async () => {
    const kv = await duckRows(
      `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${sqlString(join(tmp.path, path))})`,
    );
    const m = Object.fromEntries(kv.map((r) => [r.k as string, r.v as string]));
    expect(m).toMatchObject({
      'ticklake.dataset': 'ohlcv',
      'ticklake.layer': 'processed',
      'ticklake.schema_name': 'ohlcv',
      'ticklake.schema_version': '1',
      'ticklake.rows': '3',
      'ticklake.day': '2024-08-01',
      'ticklake.instrument_key': 'BINANCE:SPOT_PAIR:BTC-USDT',
      'ticklake.partition': '{"day":"2024-08-01"}',
      'ticklake.validation_mode': 'STRICT',
      'ticklake.generated': 'true',
      'ticklake.code_version': VERSION,
      'ticklake.quality': '{"gaps":0,"duplicate_share":0.001,"checked":true}',
      'ticklake.parameters': '{"timeframe":"1m"}',
      'ticklake.dependencies': '[{"dataset":"candles","version":1}]',
    });
    expect(JSON.parse(m['ticklake.lineage']!)).toEqual([
      {
        url: 'processed_candles/by_date/day=2024-08-01/timeframe=1m/BINANCE:SPOT_PAIR:BTC-USDT.parquet',
        sha256: sha,
        bytes: 1234,
      },
    ]);
    expect(JSON.parse(m['ticklake.schema']!)).toEqual(sidecar.schema.fields);
  });

  it('no sidecar unless asked for', async () => {
    const t = new Table({ a: vectorFromArray([1, 2], new Float64()) });
    const res = await lake.write({ dataset: 'plain', table: t });
    expect(res.files[0]!.sidecar).toBeNull();
    expect(await readSidecar(lake.storage, res.files[0]!.record.path)).toBeNull();
  });
});
