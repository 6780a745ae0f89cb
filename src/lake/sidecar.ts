/**
 * The optional JSON sidecar next to a lake file (`part-0.parquet` → `part-0.metadata.json`): the same
 * facts as the footer plus what only exists once the file is sealed (size, checksum), in the shape
 * published as `schema/metadata.schema.json` (format `ticklake.metadata/1`).
 */
import type { Field } from '../columns/types.js';
import type { Layer } from '../schema/registry.js';
import type { LineageInput } from './footer.js';
import type { Storage } from './storage.js';

export const SIDECAR_FORMAT = 'ticklake.metadata/1';

export type QualityValue = number | string | boolean | null;

export interface Dependency {
  /** Dataset name (or lake folder) depended on. */
  dataset: string;
  /** Schema version depended on, when pinned. */
  version?: number;
  /** A lake path, when the dependency is one file. */
  path?: string;
}

export interface ChangelogEntry {
  /** Schema/dataset version the change introduced. */
  version: number;
  /** YYYY-MM-DD. */
  date: string;
  change: string;
}

export interface SidecarMetadata {
  format: typeof SIDECAR_FORMAT;
  layer: Layer;
  dataset: string;
  /** Schema version of the dataset the file was written with. */
  version: number;
  path: string;
  /** Instrument key when the file holds one instrument, else null. */
  key: string | null;
  partition: Record<string, string>;
  recordCount: number;
  fileSize: number;
  checksum: string;
  codec: string;
  timeRange: { min: string; max: string } | null;
  schema: {
    name: string;
    version: number;
    fields: { name: string; type: string; nullable: boolean; description?: string }[];
  };
  sortedBy: string[];
  quality: Record<string, QualityValue>;
  lineage: { inputs: LineageInput[]; codeVersion: string; parameters: Record<string, unknown> };
  dependencies: Dependency[];
  changelog: ChangelogEntry[];
  generated: boolean;
  warnings: string[];
}

/** `a/b/part-0.parquet` → `a/b/part-0.metadata.json`. */
export function sidecarPath(parquetPath: string): string {
  return parquetPath.replace(/\.parquet$/, '') + '.metadata.json';
}

export function sidecarFields(fields: readonly Field[]): SidecarMetadata['schema']['fields'] {
  return fields.map((f) => ({
    name: f.name,
    type: f.kind,
    nullable: f.nullable,
    ...(f.description ? { description: f.description } : {}),
  }));
}

/** The sidecar JSON bytes (stable key order, trailing newline). */
export function encodeSidecar(m: SidecarMetadata): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(m, null, 2)}\n`);
}

/** Read a file's sidecar; null when it has none. */
export async function readSidecar(storage: Storage, parquetPath: string): Promise<SidecarMetadata | null> {
  const p = sidecarPath(parquetPath);
  if (!(await storage.stat(p))) return null;
  return JSON.parse(new TextDecoder().decode(await storage.readAll(p))) as SidecarMetadata;
}
