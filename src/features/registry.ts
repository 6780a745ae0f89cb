/**
 * Feature sets: named, versioned functions over candle columns (1m and coarser). The built-in sets
 * (src/features/sets.ts) are registered here; users add their own with `registerFeatureSet`.
 *
 * A set's output for bar t may depend only on bars ≤ t (no look-ahead); `warmupBars` says how many
 * earlier bars it needs to be settled, and the build reads that much history from earlier days.
 * Changing what a set computes means registering a new `version`: files are written under
 * `features/{name}/v{version}/`, so older versions stay readable, and each file's footer records a
 * hash of the definition (a build refuses to overwrite a version whose definition changed).
 */
import { createHash } from 'node:crypto';
import { TIMEFRAMES, type Timeframe } from '../candles/timeframes.js';
import { UsageError } from '../errors.js';

/** Candle columns as doubles (NaN where null), timestamps in µs; oldest bar first. */
export interface FeatureInput {
  readonly length: number;
  readonly columns: Readonly<Record<string, Float64Array>>;
}

export interface FeatureSetDefinition {
  /** Lower-case name: letters, digits, `_` and `-`. */
  name: string;
  /** Positive integer; bump it whenever `compute` changes what it returns. */
  version: number;
  description?: string;
  /** Timeframes it is built for (default: 1m and coarser). */
  timeframes?: readonly Timeframe[];
  /** Earlier bars needed before values are settled (history is read from earlier days). */
  warmupBars: number;
  /** Output column names (doubles; NaN becomes null). */
  outputs: readonly string[];
  /** One value per input bar for each output; must use only bars at or before each index. */
  compute(input: FeatureInput): Record<string, Float64Array>;
  /**
   * Text that identifies the definition, hashed into every file's footer (default: the source of
   * `compute`). Built-ins give a written specification so the hash is the same across builds.
   */
  definition?: string;
}

export interface FeatureSet extends Required<Omit<FeatureSetDefinition, 'description' | 'definition'>> {
  readonly description: string;
  /** sha256 (hex) of the definition. */
  readonly definitionHash: string;
}

const FEATURE_TIMEFRAMES: readonly Timeframe[] = TIMEFRAMES.filter((t) => t !== '15s');
const NAME_RE = /^[a-z][a-z0-9_-]{0,63}$/;
const registry = new Map<string, Map<number, FeatureSet>>();

export function definitionHashOf(def: FeatureSetDefinition): string {
  const text = JSON.stringify({
    name: def.name,
    version: def.version,
    warmupBars: def.warmupBars,
    outputs: def.outputs,
    timeframes: def.timeframes ?? FEATURE_TIMEFRAMES,
    definition: def.definition ?? def.compute.toString(),
  });
  return createHash('sha256').update(text).digest('hex');
}

/** Register a feature set (built-in or user). Registering the same name/version twice must be identical. */
export function registerFeatureSet(def: FeatureSetDefinition): FeatureSet {
  if (!NAME_RE.test(def.name)) {
    throw new UsageError(`feature set name "${def.name}" is not valid`, {
      hint: 'use lower-case letters, digits, _ and - (starting with a letter)',
    });
  }
  if (!Number.isInteger(def.version) || def.version < 1) {
    throw new UsageError(`feature set ${def.name}: version must be a positive integer, got ${def.version}`);
  }
  if (!Number.isInteger(def.warmupBars) || def.warmupBars < 0) {
    throw new UsageError(`feature set ${def.name}: warmupBars must be a non-negative integer`);
  }
  if (
    def.outputs.length === 0 ||
    def.outputs.some((o) => !/^[a-z][a-z0-9_]*$/.test(o) || o === 'timestamp')
  ) {
    throw new UsageError(
      `feature set ${def.name}: outputs must be lower-case column names other than timestamp`,
    );
  }
  const timeframes = def.timeframes ?? FEATURE_TIMEFRAMES;
  for (const tf of timeframes) {
    if (!FEATURE_TIMEFRAMES.includes(tf)) {
      throw new UsageError(`feature set ${def.name}: timeframe ${tf} is not supported`, {
        hint: `features are built for ${FEATURE_TIMEFRAMES.join(', ')}`,
      });
    }
  }
  const set: FeatureSet = {
    name: def.name,
    version: def.version,
    description: def.description ?? '',
    timeframes,
    warmupBars: def.warmupBars,
    outputs: [...def.outputs],
    compute: def.compute,
    definitionHash: definitionHashOf(def),
  };
  const versions = registry.get(def.name) ?? new Map<number, FeatureSet>();
  const prev = versions.get(def.version);
  if (prev && prev.definitionHash !== set.definitionHash) {
    throw new UsageError(
      `feature set ${def.name} v${def.version} is already registered with a different definition`,
      {
        hint: `register the changed definition as v${Math.max(...versions.keys()) + 1}`,
      },
    );
  }
  versions.set(def.version, set);
  registry.set(def.name, versions);
  return set;
}

/** A registered set: the given version, or the highest registered one. */
export function getFeatureSet(name: string, version?: number): FeatureSet {
  const versions = registry.get(name);
  if (!versions || versions.size === 0) {
    throw new UsageError(`unknown feature set "${name}"`, {
      hint: `known sets: ${[...registry.keys()].join(', ')} (register your own with registerFeatureSet)`,
    });
  }
  const v = version ?? Math.max(...versions.keys());
  const set = versions.get(v);
  if (!set) {
    throw new UsageError(`feature set ${name} has no version ${v}`, {
      hint: `registered versions: ${[...versions.keys()]
        .sort((a, b) => a - b)
        .map((x) => `v${x}`)
        .join(', ')}`,
    });
  }
  return set;
}

/** Every registered set and version, by name then version. */
export function listFeatureSets(): FeatureSet[] {
  return [...registry.values()]
    .flatMap((m) => [...m.values()])
    .sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
}
