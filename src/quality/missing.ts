/**
 * `ticklake check missing`: what should the lake hold over a range, what does it hold, and what is
 * wrong — one status per (instrument_key, data_type, day).
 *
 * Expected = the instruments available each day (instrument_availability) × the data types the vendor
 * lists for them (or a saved plan's tasks). Actual = the catalog; with `deep`, also the storage (the
 * file exists, has the catalog's size and checksum).
 *
 * Statuses, first match wins:
 * - `present`: the file is there (and, deep, intact) and covers the day as the instrument's other days do;
 * - `partial`: the file covers clearly less of the day than the instrument's history predicts (coverage
 *   below half the median of its other days in the range, or fewer than a quarter of their median rows;
 *   needs at least 3 other days) — `vendor_incident` instead when a vendor incident overlaps the day;
 * - `failed`: no file and the last ingest attempt failed (its error is the detail), or (deep) the file
 *   differs from the catalog's checksum or size;
 * - `absent_at_vendor`: no file and the vendor answered 404 (or a grouped file that was ingested did not
 *   hold the instrument);
 * - `vendor_incident`: no file and the day overlaps one of the vendor's incident reports (its text);
 * - `missing`: anything else (never ingested, or deleted behind the catalog's back with `deep`).
 *
 * The result stays columnar: one batch per day (300,000 instruments × 30 days is 9 M rows).
 */
import { createHash } from 'node:crypto';
import type { FileRecord, PlanTask, TaskRecord } from '../catalog/types.js';
import { DictBuilder, Utf8Builder } from '../columns/builders.js';
import { concatBatches, takeBatch } from '../columns/ops.js';
import type { ColumnBatch, DictColumn, Schema, Utf8Column } from '../columns/types.js';
import { UsageError } from '../errors.js';
import { GROUP_OF_TYPE } from '../instruments/plan.js';
import { availabilityColumns } from '../instruments/query.js';
import type { IncidentReport } from '../instruments/sources.js';
import { optionsChainKey } from '../keys/key.js';
import type { Lake } from '../lake/lake.js';
import { MISSING_DATA_REPORTS, missingReportPath, RAW_TICK_DATA } from '../lake/layout.js';
import { publishStaged, stageLakeFile } from '../lake/publish.js';
import { GROUPED_SYMBOLS } from '../pipeline/ingest.js';
import { DATA_TYPES, isDataType } from '../schema/datasets.js';
import { type Day, dayStartMs, daysInclusive, parseDay } from '../util/time.js';

export const MISSING_STATUSES = [
  'present',
  'missing',
  'partial',
  'failed',
  'absent_at_vendor',
  'vendor_incident',
] as const;
export type MissingStatus = (typeof MISSING_STATUSES)[number];

export const REPORT_SCHEMA: Schema = {
  fields: [
    { name: 'instrument_key', kind: 'utf8', nullable: false, description: 'canonical key' },
    { name: 'data_type', kind: 'dict', nullable: false, description: 'data type' },
    { name: 'day', kind: 'dict', nullable: false, description: 'UTC day' },
    { name: 'status', kind: 'dict', nullable: false, description: MISSING_STATUSES.join(' | ') },
    { name: 'detail', kind: 'utf8', nullable: true, description: 'why (error, incident text, coverage)' },
    { name: 'vendor_exchange', kind: 'dict', nullable: false, description: 'vendor exchange' },
    {
      name: 'vendor_symbol',
      kind: 'utf8',
      nullable: false,
      description: 'vendor file symbol (grouped: OPTIONS, ...)',
    },
  ],
};

export interface MissingRequest {
  from: string;
  to?: string;
  exchanges?: readonly string[];
  dataTypes?: readonly string[];
  keys?: readonly string[];
  planId?: number;
  deep?: boolean;
  /** Write missing_data_reports/by_date/day=D/report.parquet (default true). */
  writeReports?: boolean;
}

export interface MissingDay {
  day: Day;
  /** Columns of REPORT_SCHEMA; `status` indices follow MISSING_STATUSES. */
  batch: ColumnBatch;
}

export interface MissingReport {
  days: MissingDay[];
  counts: Record<MissingStatus, number>;
  /** Days of the range without synced instrument availability (nothing expected is known). */
  unsyncedDays: Day[];
  /** Per (instrument_key, data_type): present / expected, worst first. */
  completeness: {
    instrumentKey: string;
    dataType: string;
    present: number;
    expected: number;
    ratio: number;
  }[];
}

const list = (xs: readonly string[] | undefined) =>
  xs === undefined ? null : xs.map((s) => s.trim()).filter((s) => s.length > 0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

type Emit = (key: string, dataType: string, exchange: string, symbol: string, group: string | null) => void;

/** Expected (key, data type) pairs of one day from its availability rows (or a plan's tasks), emitted. */
function expectedOfDay(
  batch: ColumnBatch,
  groups: { exchange: string; symbol: string; dataTypes: string[] }[],
  req: { exchanges: string[] | null; dataTypes: string[] | null; keys: Set<string> | null },
  plan: PlanTask[] | null,
  emit: Emit,
): void {
  const c = batch.columns;
  const key = c.instrument_key as Utf8Column;
  const ex = c.vendor_exchange as DictColumn;
  const type = c.instrument_type as DictColumn;
  const venue = c.venue as DictColumn;
  const base = c.base_asset as DictColumn;
  const quote = c.quote_asset as DictColumn;
  const vsym = c.vendor_symbol as Utf8Column;
  const dsym = c.vendor_dataset_symbol as Utf8Column;
  const dts = c.data_types as DictColumn;
  // Keys and symbols are ASCII by contract: latin1 slices decode them without a TextDecoder call.
  const bufOf = (u: Utf8Column) => Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength);
  const kb = bufOf(key);
  const vb = bufOf(vsym);
  const db = bufOf(dsym);
  const slice = (u: Utf8Column, b: Buffer, i: number) =>
    u.validity && !u.validity[i] ? null : b.toString('latin1', u.offsets[i]!, u.offsets[i + 1]!);
  const dict = (d: DictColumn, i: number) => d.dictionary[d.indices[i]!]!;
  const offered = new Map<string, Set<string>>();
  for (const g of groups) offered.set(`${g.exchange}:${g.symbol}`, new Set(g.dataTypes));
  if (plan) {
    // Per-key tasks as they are; a grouped task expects every instrument of its kind listed that day.
    const byGroup: PlanTask[] = [];
    for (const t of plan) {
      if (t.instrumentKey !== null) emit(t.instrumentKey, t.dataType, t.exchange, t.symbol, null);
      else byGroup.push(t);
    }
    if (byGroup.length === 0) return;
    const chains = new Set<string>();
    for (let i = 0; i < batch.length; i++) {
      const exchange = dict(ex, i);
      const group = GROUP_OF_TYPE[dict(type, i)];
      if (!group) continue;
      for (const task of byGroup) {
        if (task.exchange !== exchange || task.symbol !== group) continue;
        if (task.dataType === 'options_chain') {
          const k = optionsChainKey(dict(venue, i), dict(base, i), dict(quote, i));
          if (!chains.has(k)) {
            chains.add(k);
            emit(k, 'options_chain', exchange, group, group);
          }
          continue;
        }
        const listed = dict(dts, i);
        if (listed !== '' && !listed.split(',').includes(task.dataType)) continue;
        emit(slice(key, kb, i)!, task.dataType, exchange, group, group);
      }
    }
    return;
  }
  const chains = new Set<string>();
  // The expected data types of each distinct `data_types` value (a few per day), memoized.
  const typesOf = new Map<string, string[]>();
  const exchangeOk = new Uint8Array(ex.dictionary.length);
  ex.dictionary.forEach((e, j) => {
    exchangeOk[j] = !req.exchanges || req.exchanges.includes(e) ? 1 : 0;
  });
  for (let i = 0; i < batch.length; i++) {
    if (!exchangeOk[ex.indices[i]!]) continue;
    const exchange = dict(ex, i);
    const listed = dict(dts, i);
    if (listed === '') continue; // the source does not say what exists: nothing is expected
    let types = typesOf.get(listed);
    if (!types) {
      types = listed.split(',').filter((dt) => !req.dataTypes || req.dataTypes.includes(dt));
      typesOf.set(listed, types);
    }
    const isOption = dict(type, i) === 'OPTION';
    if (types.length === 0 && !isOption) continue;
    const k = slice(key, kb, i)!;
    if (types.length > 0 && (!req.keys || req.keys.has(k))) {
      const symbol = slice(dsym, db, i) ?? slice(vsym, vb, i)!;
      for (const dt of types) emit(k, dt, exchange, symbol, null);
    }
    if (isOption && (!req.dataTypes || req.dataTypes.includes('options_chain'))) {
      if (offered.get(`${exchange}:OPTIONS`)?.has('options_chain')) {
        const ck = optionsChainKey(dict(venue, i), dict(base, i), dict(quote, i));
        if (!chains.has(ck) && (!req.keys || req.keys.has(ck))) {
          chains.add(ck);
          emit(ck, 'options_chain', exchange, 'OPTIONS', 'OPTIONS');
        }
      }
    }
  }
}

/** Node's Buffer has `latin1Slice` (the fast path of `toString('latin1')`); keys and symbols are ASCII. */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

/** The availability columns the check reads. */
const AVAILABILITY_COLUMNS = [
  'instrument_key',
  'venue',
  'instrument_type',
  'base_asset',
  'quote_asset',
  'data_types',
  'vendor_exchange',
  'vendor_symbol',
  'vendor_dataset_symbol',
];

const STATUS_INDEX = Object.fromEntries(MISSING_STATUSES.map((st, i) => [st, i])) as Record<
  MissingStatus,
  number
>;

/** Span between a file's first and last row (µs). */
function coverageOf(f: FileRecord): number {
  return f.minTs === null || f.maxTs === null ? 0 : f.maxTs - f.minTs;
}

/**
 * `partial` (or `vendor_incident` when an incident overlaps the day) when a file covers clearly less
 * than the instrument's other days: under half their median coverage or a quarter of their median
 * rows; null when it covers the day as they do.
 */
function partialStatus(
  f: FileRecord,
  h: { medCov: number; medRows: number },
  incidentText: string | null,
): { status: MissingStatus; detail: string } | null {
  const cov = coverageOf(f);
  if (!((h.medCov > 0 && cov < 0.5 * h.medCov) || f.rows < 0.25 * h.medRows)) return null;
  const hours = (x: number) => (x / 3.6e9).toFixed(1);
  return {
    status: incidentText ? 'vendor_incident' : 'partial',
    detail: `${incidentText ? `${incidentText}; ` : ''}covers ${hours(cov)} h with ${f.rows} rows; other days median ${hours(h.medCov)} h, ${h.medRows} rows`,
  };
}

/** Status of an expected file that the catalog does not hold, from its ingest task and incidents. */
function missingStatus(
  task: TaskRecord | undefined,
  incidentText: string | null,
): { status: MissingStatus; detail: string | null } {
  if (task?.status === 'failed') {
    return { status: 'failed', detail: `${task.errorCode ?? 'ERROR'}: ${task.error ?? 'ingest failed'}` };
  }
  if (task?.status === 'absent') {
    return {
      status: 'absent_at_vendor',
      detail: `${task.sourceUrl ?? task.symbol}: not found at the vendor (404)`,
    };
  }
  if (task?.status === 'done' && (GROUPED_SYMBOLS as readonly string[]).includes(task.symbol)) {
    return {
      status: 'absent_at_vendor',
      detail: `not in the grouped ${task.symbol} file (no data that day)`,
    };
  }
  if (incidentText) return { status: 'vendor_incident', detail: incidentText };
  return { status: 'missing', detail: null };
}

/** Byte-wise comparison of a[as, ae) and b[bs, be) (ASCII keys: the same order as JS strings). */
function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  const n = la < lb ? la : lb;
  for (let k = 0; k < n; k++) {
    const d = a[as + k]! - b[bs + k]!;
    if (d !== 0) return d;
  }
  return la - lb;
}

async function sha256Of(lake: Lake, path: string): Promise<string> {
  const src = await lake.storage.openRead(path);
  try {
    const h = createHash('sha256');
    const chunk = 8 << 20;
    for (let off = 0; off < src.size; off += chunk)
      h.update(await src.read(off, Math.min(chunk, src.size - off)));
    return h.digest('hex');
  } finally {
    await src.close();
  }
}

/** Run the check (see the module comment). */
export async function checkMissing(lake: Lake, req: MissingRequest): Promise<MissingReport> {
  const from = parseDay(req.from, '--from');
  const to = parseDay(req.to ?? req.from, '--to');
  const days = daysInclusive(from, to);
  if (days.length === 0) throw new UsageError(`--from ${from} is after --to ${to}`);
  const dataTypes = list(req.dataTypes);
  for (const dt of dataTypes ?? []) {
    if (!isDataType(dt))
      throw new UsageError(`unknown data type "${dt}"`, { hint: `use ${DATA_TYPES.join(', ')}` });
  }
  const keys = list(req.keys);
  const sel = { exchanges: list(req.exchanges), dataTypes, keys: keys ? new Set(keys) : null };
  let plan: PlanTask[] | null = null;
  if (req.planId !== undefined) {
    if (!(await lake.catalog.getPlan(req.planId))) {
      throw new UsageError(`no plan ${req.planId} in the catalog`, {
        hint: 'list plans with: ticklake plan ls',
      });
    }
    plan = await lake.catalog.planTasks(req.planId);
  }
  // Actual: one catalog query for the range: day → data type → key → file; and each (key, data
  // type)'s median coverage and rows over the range (its "history"), computed once.
  const files = new Map<string, Map<string, Map<string, FileRecord>>>();
  const byKeyType = new Map<string, { cov: number[]; rows: number[] }>();
  for (const f of await lake.catalog.listFiles({ dataset: RAW_TICK_DATA, fromDay: from, toDay: to })) {
    if (!f.instrumentKey || !f.dataType || !f.day) continue;
    let byDt = files.get(f.day);
    if (!byDt) files.set(f.day, (byDt = new Map()));
    let byKey = byDt.get(f.dataType);
    if (!byKey) byDt.set(f.dataType, (byKey = new Map()));
    byKey.set(f.instrumentKey, f);
    const kt = `${f.instrumentKey}\u0000${f.dataType}`;
    let h = byKeyType.get(kt);
    if (!h) byKeyType.set(kt, (h = { cov: [], rows: [] }));
    h.cov.push(coverageOf(f));
    h.rows.push(f.rows);
  }
  const history = new Map<string, { medCov: number; medRows: number }>();
  for (const [kt, h] of byKeyType) {
    if (h.rows.length >= 4) history.set(kt, { medCov: median(h.cov), medRows: median(h.rows) });
  }
  // Ingest tasks by day, then by vendor file (exchange, data type, symbol).
  const tasksByDay = new Map<string, Map<string, TaskRecord>>();
  for (const t of await lake.catalog.listTasks()) {
    if (t.day < from || t.day > to) continue;
    let m = tasksByDay.get(t.day);
    if (!m) tasksByDay.set(t.day, (m = new Map()));
    m.set(`${t.exchange}\u0000${t.dataType}\u0000${t.symbol}`, t);
  }
  let stored: Map<string, number> | null = null;
  if (req.deep) {
    stored = new Map();
    for (const day of days) {
      for await (const o of lake.storage.list(`${RAW_TICK_DATA}/by_date/day=${day}/`))
        stored.set(o.path, o.size);
    }
  }
  const counts = Object.fromEntries(MISSING_STATUSES.map((s) => [s, 0])) as Record<MissingStatus, number>;
  const completeness = new Map<string, Map<string, { present: number; expected: number }>>();
  const statusIndex = new Map(MISSING_STATUSES.map((s, i) => [s, i]));
  const out: MissingDay[] = [];
  const unsyncedDays: Day[] = [];
  // Completeness counters of the fast path: (key, data type) → slot in typed arrays.
  const dtList: string[] = [];
  const dtIndex = new Map<string, number>();

  /** Statuses of one day's availability rows × their listed data types (not options_chain). */
  // Global instrument slots for completeness without a string per row: keys of the first day
  // (sorted bytes) and a merge walk of each later day's sorted keys against them.
  let gData: Uint8Array | null = null;
  let gOffsets: Int32Array | null = null;
  const extraSlots = new Map<string, number>();

  /** Slot of every row of a day's key column (sorted); new keys get extra slots. */
  const slotsOfDay = (key: Utf8Column, n: number): Int32Array => {
    const out = new Int32Array(n);
    if (gData === null) {
      gData = key.data;
      gOffsets = key.offsets;
      for (let i = 0; i < n; i++) out[i] = i;
      return out;
    }
    const gd = gData;
    const go = gOffsets!;
    const gn = go.length - 1;
    const kd = key.data;
    const ko = key.offsets;
    let g = 0;
    for (let i = 0; i < n; i++) {
      const as = ko[i]!;
      const ae = ko[i + 1]!;
      let cmp = 1;
      while (g < gn) {
        cmp = compareBytes(kd, as, ae, gd, go[g]!, go[g + 1]!);
        if (cmp > 0) g++;
        else break;
      }
      if (g < gn && cmp === 0) out[i] = g;
      else {
        const s = (
          Buffer.from(kd.buffer, kd.byteOffset, kd.byteLength) as unknown as Latin1Slicer
        ).latin1Slice(as, ae);
        let slot = extraSlots.get(s);
        if (slot === undefined) {
          slot = gn + extraSlots.size;
          extraSlots.set(s, slot);
        }
        out[i] = slot;
      }
    }
    return out;
  };
  const slotKeyOf = (slot: number): string => {
    const go = gOffsets!;
    const gn = go.length - 1;
    if (slot < gn) {
      const gd = gData!;
      return (Buffer.from(gd.buffer, gd.byteOffset, gd.byteLength) as unknown as Latin1Slicer).latin1Slice(
        go[slot]!,
        go[slot + 1]!,
      );
    }
    for (const [k, v] of extraSlots) if (v === slot) return k;
    return '';
  };
  // counters[slot * MAX_TYPES + j]
  const MAX_TYPES = DATA_TYPES.length;
  let cPresent = new Int32Array(1 << 16);
  let cExpected = new Int32Array(1 << 16);
  const ensure = (slot: number) => {
    const need = (slot + 1) * MAX_TYPES;
    if (need <= cPresent.length) return;
    let size = cPresent.length;
    while (size < need) size *= 2;
    const p2 = new Int32Array(size);
    p2.set(cPresent);
    cPresent = p2;
    const e2 = new Int32Array(size);
    e2.set(cExpected);
    cExpected = e2;
  };

  /** Row of `k` in a day's sorted key column, or -1. */
  const rowOfKey = (key: Utf8Column, n: number, k: string): number => {
    const kb = Buffer.from(k, 'latin1');
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(key.data, key.offsets[mid]!, key.offsets[mid + 1]!, kb, 0, kb.length) < 0)
        lo = mid + 1;
      else hi = mid;
    }
    return lo < n && compareBytes(key.data, key.offsets[lo]!, key.offsets[lo + 1]!, kb, 0, kb.length) === 0
      ? lo
      : -1;
  };

  /** Statuses of one day's availability rows × their listed data types (not options_chain). */
  const fastDay = (batch: ColumnBatch, day: Day): ColumnBatch => {
    const c = batch.columns;
    const n0 = batch.length;
    const key = c.instrument_key as Utf8Column;
    const ex = c.vendor_exchange as DictColumn;
    const vsym = c.vendor_symbol as Utf8Column;
    const dsym = c.vendor_dataset_symbol as Utf8Column;
    const dts = c.data_types as DictColumn;
    const exOk = ex.dictionary.map((e) => !sel.exchanges || sel.exchanges.includes(e));
    const incidentOf = ex.dictionary.map((e) => {
      const x = (availIncidents.get(day) ?? []).find((i) => i.exchange === e);
      return x ? `${x.status}: ${x.details}` : null;
    });
    // Files of the day placed on their rows by binary search (files ≪ rows, typically).
    const dayFiles = files.get(day);
    const filesAt = new Map<string, (FileRecord | undefined)[]>();
    if (dayFiles) {
      for (const [dataType, byKey] of dayFiles) {
        const at: (FileRecord | undefined)[] = new Array(n0);
        for (const [k, f] of byKey) {
          const r = rowOfKey(key, n0, k);
          if (r >= 0) at[r] = f;
        }
        filesAt.set(dataType, at);
      }
    }
    // Failed / absent / grouped-done tasks of the day, placed on rows by vendor file symbol.
    const dayTasks = tasksByDay.get(day);
    const tasksAt = new Map<number, TaskRecord[]>();
    if (dayTasks) {
      const notable = [...dayTasks.values()].filter(
        (t) =>
          t.status === 'failed' ||
          t.status === 'absent' ||
          (GROUPED_SYMBOLS as readonly string[]).includes(t.symbol),
      );
      if (notable.length > 0) {
        const dec = new TextDecoder();
        const bySymbol = new Map<string, number[]>();
        for (let i = 0; i < n0; i++) {
          const u = dsym.validity && !dsym.validity[i] ? vsym : dsym;
          const sym = dec.decode(u.data.subarray(u.offsets[i]!, u.offsets[i + 1]!)).toUpperCase();
          const ex_ = ex.dictionary[ex.indices[i]!]!;
          const k = `${ex_}\u0000${sym}`;
          let l = bySymbol.get(k);
          if (!l) bySymbol.set(k, (l = []));
          l.push(i);
        }
        for (const t of notable) {
          for (const r of bySymbol.get(`${t.exchange}\u0000${t.symbol}`) ?? []) {
            let l = tasksAt.get(r);
            if (!l) tasksAt.set(r, (l = []));
            l.push(t);
          }
        }
      }
    }
    const slots = slotsOfDay(key, n0);
    const typeIds: (number[] | undefined)[] = new Array(dts.dictionary.length); // data_types value → dtList indices
    const rowIdx: number[] = [];
    const dtOut: number[] = [];
    const stOut: number[] = [];
    const details = new Map<number, string>();
    const P = STATUS_INDEX.present;
    const M = STATUS_INDEX.missing;
    const A = STATUS_INDEX.absent_at_vendor;
    const keyStr = (i: number) =>
      (
        Buffer.from(key.data.buffer, key.data.byteOffset, key.data.byteLength) as unknown as Latin1Slicer
      ).latin1Slice(key.offsets[i]!, key.offsets[i + 1]!);
    for (let i = 0; i < n0; i++) {
      if (!exOk[ex.indices[i]!]) continue;
      const d = dts.indices[i]!;
      let types = typeIds[d];
      if (!types) {
        types = [];
        for (const dt of (dts.dictionary[d] ?? '').split(',')) {
          if (dt === '' || dt === 'options_chain' || (sel.dataTypes && !sel.dataTypes.includes(dt))) continue;
          let j = dtIndex.get(dt);
          if (j === undefined) {
            j = dtList.length;
            dtList.push(dt);
            dtIndex.set(dt, j);
          }
          types.push(j);
        }
        typeIds[d] = types;
      }
      if (types.length === 0) continue;
      if (sel.keys && !sel.keys.has(keyStr(i))) continue;
      const slot = slots[i]!;
      ensure(slot);
      for (const j of types) {
        const dataType = dtList[j]!;
        const f = filesAt.get(dataType)?.[i];
        let st: number;
        let detail: string | null = null;
        const incidentText = incidentOf[ex.indices[i]!]!;
        if (f) {
          st = P;
          const h = history.size ? history.get(`${keyStr(i)}\u0000${dataType}`) : undefined;
          const r = h ? partialStatus(f, h, incidentText) : null;
          if (r) {
            st = STATUS_INDEX[r.status];
            detail = r.detail;
          }
        } else {
          const ts = tasksAt.get(i);
          const task = ts?.find((t) => t.dataType === dataType);
          if (task === undefined && incidentText === null) st = M;
          else {
            const r = missingStatus(task, incidentText);
            st = STATUS_INDEX[r.status];
            detail = r.detail;
          }
        }
        counts[MISSING_STATUSES[st]!]++;
        const ci = slot * MAX_TYPES + j;
        if (st !== A) {
          cExpected[ci]!++;
          if (st === P) cPresent[ci]!++;
        }
        if (detail !== null) details.set(rowIdx.length, detail);
        rowIdx.push(i);
        dtOut.push(j);
        stOut.push(st);
      }
    }
    const n = rowIdx.length;
    const taken = takeBatch(batch, rowIdx);
    // vendor_symbol: the dataset symbol, else the vendor symbol (what the vendor file is named by).
    const ds = taken.columns.vendor_dataset_symbol as Utf8Column;
    const vs = taken.columns.vendor_symbol as Utf8Column;
    const symB = new Utf8Builder(n, n * 24);
    for (let r = 0; r < n; r++) {
      if (!ds.validity || ds.validity[r]) symB.appendBytes(ds.data, ds.offsets[r]!, ds.offsets[r + 1]!);
      else symB.appendBytes(vs.data, vs.offsets[r]!, vs.offsets[r + 1]!);
    }
    const detailB = new Utf8Builder(n, details.size * 64);
    for (let r = 0; r < n; r++) {
      const d = details.get(r);
      if (d === undefined) detailB.appendNull();
      else detailB.append(d);
    }
    return {
      length: n,
      columns: {
        instrument_key: taken.columns.instrument_key!,
        data_type: { kind: 'dict', indices: Int32Array.from(dtOut), dictionary: [...dtList], validity: null },
        day: { kind: 'dict', indices: new Int32Array(n), dictionary: [day], validity: null },
        status: {
          kind: 'dict',
          indices: Int32Array.from(stOut),
          dictionary: [...MISSING_STATUSES],
          validity: null,
        },
        detail: detailB.finish(),
        vendor_exchange: taken.columns.vendor_exchange!,
        vendor_symbol: symB.finish(),
      },
    };
  };
  const availIncidents = new Map<Day, IncidentReport[]>();

  for (const day of days) {
    const avail = await availabilityColumns(lake, day, AVAILABILITY_COLUMNS);
    if (!avail) {
      unsyncedDays.push(day);
      if (!plan) continue;
    }
    const dayPlan = plan ? plan.filter((t) => t.day === day) : null;
    const dayStart = dayStartMs(day);
    const incidents: IncidentReport[] = (avail?.extras.incidents ?? []).filter(
      (x) => x.from < dayStart + 86_400_000 && (x.to === null || x.to > dayStart),
    );
    availIncidents.set(day, incidents);
    const dayFiles = files.get(day);
    const dayTasks = tasksByDay.get(day);
    const STATUS = statusIndex;
    const cap = avail ? avail.batch.length : (dayPlan?.length ?? 0);
    const keyB = new Utf8Builder(cap, cap * 28);
    const dtB = new DictBuilder([], cap);
    const dayB = new DictBuilder([day], cap);
    const stB = new DictBuilder(MISSING_STATUSES, cap);
    const detailB = new Utf8Builder(cap, cap * 4);
    const exB = new DictBuilder([], cap);
    const symB = new Utf8Builder(cap);
    const deepChecks: Promise<void>[] = [];
    let length = 0;
    const emit: Emit = (key, dataType, exchange, symbol, group) => {
      const incident = incidents.length ? incidents.find((x) => x.exchange === exchange) : undefined;
      const incidentText = incident ? `${incident.status}: ${incident.details}` : null;
      const f = dayFiles?.get(dataType)?.get(key);
      let status: MissingStatus;
      let detail: string | null = null;
      if (f) {
        status = 'present';
        if (stored) {
          const size = stored.get(f.path);
          if (size === undefined) {
            status = 'missing';
            detail = `${f.path} is in the catalog but not in storage`;
          } else if (size !== f.bytes) {
            status = 'failed';
            detail = `${f.path} differs from the catalog (size ${size} ≠ ${f.bytes})`;
          }
        }
        if (status === 'present') {
          const h = history.size ? history.get(`${key}\u0000${dataType}`) : undefined;
          const r = h ? partialStatus(f, h, incidentText) : null;
          if (r) ({ status, detail } = r);
        }
      } else {
        const task = dayTasks
          ? (dayTasks.get(`${exchange}\u0000${dataType}\u0000${symbol.toUpperCase()}`) ??
            (group ? dayTasks.get(`${exchange}\u0000${dataType}\u0000${group}`) : undefined))
          : undefined;
        ({ status, detail } = missingStatus(task, incidentText));
      }
      counts[status]++;
      let byKey = completeness.get(dataType);
      if (!byKey) completeness.set(dataType, (byKey = new Map()));
      let cpl = byKey.get(key);
      if (!cpl) byKey.set(key, (cpl = { present: 0, expected: 0 }));
      if (status !== 'absent_at_vendor') {
        cpl.expected++;
        if (status === 'present') cpl.present++;
      }
      const row = length++;
      keyB.append(key);
      dtB.append(dataType);
      dayB.appendIndex(0);
      stB.appendIndex(STATUS.get(status)!);
      if (detail === null) detailB.appendNull();
      else detailB.append(detail);
      exB.append(exchange);
      symB.append(symbol);
      // Deep: a file of the catalog's size must also have its checksum (hashed after the pass).
      if (stored && f && status === 'present') {
        deepChecks.push(
          sha256Of(lake, f.path).then((sum) => {
            if (sum !== f.checksum) deepFailures.push({ row, path: f.path });
          }),
        );
      }
    };
    const deepFailures: { row: number; path: string }[] = [];
    let fastBatch: ColumnBatch | null = null;
    if (avail && !dayPlan && !stored) {
      // The common case, columnar: every (instrument, listed data type) of the day without an object
      // or string per output row; options chains (one per underlying) go through `emit`.
      fastBatch = fastDay(avail.batch, day);
      if (!sel.dataTypes || sel.dataTypes.includes('options_chain')) {
        expectedOfDay(avail.batch, avail.extras.groups, { ...sel, dataTypes: ['options_chain'] }, null, emit);
      }
    } else if (avail) expectedOfDay(avail.batch, avail.extras.groups, sel, dayPlan, emit);
    else
      for (const t of dayPlan ?? [])
        if (t.instrumentKey !== null) emit(t.instrumentKey, t.dataType, t.exchange, t.symbol, null);
    await Promise.all(deepChecks);
    let status = stB.finish();
    let detailCol = detailB.finish();
    if (deepFailures.length > 0) {
      // Rows whose bytes hash differently from the catalog: failed, with the reason.
      const indices = Int32Array.from(status.indices);
      const details = new Utf8Builder(length);
      const failedAt = new Map(deepFailures.map((x) => [x.row, x.path]));
      const dec = new TextDecoder();
      for (let i = 0; i < length; i++) {
        const path = failedAt.get(i);
        if (path !== undefined) {
          counts.present--;
          counts.failed++;
          indices[i] = statusIndex.get('failed')!;
          details.append(`${path} differs from the catalog (checksum mismatch)`);
        } else if (detailCol.validity && !detailCol.validity[i]) details.appendNull();
        else
          details.append(
            dec.decode(detailCol.data.subarray(detailCol.offsets[i]!, detailCol.offsets[i + 1]!)),
          );
      }
      status = { ...status, indices };
      detailCol = details.finish();
    }
    const batch: ColumnBatch = {
      length,
      columns: {
        instrument_key: keyB.finish(),
        data_type: dtB.finish(),
        day: dayB.finish(),
        status,
        detail: detailCol,
        vendor_exchange: exB.finish(),
        vendor_symbol: symB.finish(),
      },
    };
    const dayBatch = fastBatch ? (batch.length > 0 ? concatBatches([fastBatch, batch]) : fastBatch) : batch;
    out.push({ day, batch: dayBatch });
    if (req.writeReports !== false) await writeReport(lake, day, dayBatch);
  }
  if (!plan && unsyncedDays.length === days.length) {
    throw new UsageError(
      `no instrument availability synced for ${from}…${to}: nothing is known to be expected`,
      {
        hint: `run: ticklake instruments sync --exchange EXCHANGE --from ${from} --to ${to} (or pass --plan ID)`,
      },
    );
  }
  const worst: MissingReport['completeness'] = [];
  if (gOffsets !== null) {
    const slotsN = (gOffsets as Int32Array).length - 1 + extraSlots.size;
    for (let slot = 0; slot < slotsN; slot++) {
      for (let j = 0; j < dtList.length; j++) {
        const ci = slot * MAX_TYPES + j;
        if (ci >= cExpected.length) continue;
        const e = cExpected[ci]!;
        const p = cPresent[ci]!;
        if (e === 0 && p === 0) continue;
        worst.push({
          instrumentKey: slotKeyOf(slot),
          dataType: dtList[j]!,
          present: p,
          expected: e,
          ratio: e === 0 ? 1 : p / e,
        });
      }
    }
  }
  for (const [dataType, byKey] of completeness) {
    for (const [instrumentKey, v] of byKey) {
      worst.push({ instrumentKey, dataType, ...v, ratio: v.expected === 0 ? 1 : v.present / v.expected });
    }
  }
  worst.sort(
    (a, b) =>
      a.ratio - b.ratio ||
      b.expected - a.expected ||
      (a.instrumentKey < b.instrumentKey ? -1 : a.instrumentKey > b.instrumentKey ? 1 : 0) ||
      (a.dataType < b.dataType ? -1 : 1),
  );
  return { days: out, counts, unsyncedDays, completeness: worst };
}

async function writeReport(lake: Lake, day: Day, batch: ColumnBatch): Promise<void> {
  const path = missingReportPath(day);
  const staged = await stageLakeFile([batch], {
    storage: lake.storage,
    path,
    schema: REPORT_SCHEMA,
    codec: lake.config.ingest.compression,
    zstdLevel: lake.config.ingest.zstdLevel,
    timestampColumn: '(none)',
    footer: {
      dataset: MISSING_DATA_REPORTS,
      dataType: null,
      schemaVersion: 1,
      instrumentKey: null,
      day,
      vendor: null,
      vendorExchange: null,
      vendorSymbol: null,
      sourceUrl: null,
      sourceSha256: null,
      sourceBytes: null,
      generated: false,
      sortedBy: [],
      lineage: [],
    },
  });
  await publishStaged(lake.catalog, staged);
  await lake.catalog.commitFiles([path]);
}

/** Rows of a day batch as plain objects (JSON output, tests). */
export function* reportRows(d: MissingDay): Generator<{
  instrument_key: string;
  data_type: string;
  day: string;
  status: MissingStatus;
  detail: string | null;
}> {
  const dec = new TextDecoder();
  const c = d.batch.columns;
  const key = c.instrument_key as Utf8Column;
  const dt = c.data_type as DictColumn;
  const st = c.status as DictColumn;
  const detail = c.detail as Utf8Column;
  for (let i = 0; i < d.batch.length; i++) {
    yield {
      instrument_key: dec.decode(key.data.subarray(key.offsets[i]!, key.offsets[i + 1]!)),
      data_type: dt.dictionary[dt.indices[i]!]!,
      day: d.day,
      status: st.dictionary[st.indices[i]!] as MissingStatus,
      detail:
        detail.validity && !detail.validity[i]
          ? null
          : dec.decode(detail.data.subarray(detail.offsets[i]!, detail.offsets[i + 1]!)),
    };
  }
}

/** Tasks that would fill the missing and failed rows (`--repair`). */
export function repairTasks(
  report: MissingReport,
): { vendor: string; exchange: string; dataType: string; symbol: string; day: string }[] {
  const seen = new Set<string>();
  const out: { vendor: string; exchange: string; dataType: string; symbol: string; day: string }[] = [];
  const dec = new TextDecoder();
  for (const d of report.days) {
    const c = d.batch.columns;
    const st = c.status as DictColumn;
    const dt = c.data_type as DictColumn;
    const ex = c.vendor_exchange as DictColumn;
    const sym = c.vendor_symbol as Utf8Column;
    for (let i = 0; i < d.batch.length; i++) {
      const s = st.dictionary[st.indices[i]!];
      if (s !== 'missing' && s !== 'failed') continue;
      const t = {
        vendor: 'tardis',
        exchange: ex.dictionary[ex.indices[i]!]!,
        dataType: dt.dictionary[dt.indices[i]!]!,
        symbol: dec.decode(sym.data.subarray(sym.offsets[i]!, sym.offsets[i + 1]!)),
        day: d.day,
      };
      const k = `${t.exchange}\u0000${t.dataType}\u0000${t.symbol}\u0000${t.day}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(t);
    }
  }
  return out;
}
