/**
 * `ticklake inspect FILE_OR_KEY [--day D] [--data-type T] [--json]`: footer metadata, schema with
 * descriptions, column statistics, row groups, the catalog record and the JSON sidecar of lake files.
 */
import type { Command } from 'commander';
import { type InspectReport, inspectTarget } from '../../lake/inspect.js';
import { formatMicros, parseDay } from '../../util/time.js';
import { formatBytes, formatCount, type Out, textTable } from '../output.js';
import { openLakeFor } from './common.js';

function show(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function formatInspect(r: InspectReport): string {
  const lines: string[] = [];
  const rg = r.rowGroups.length;
  lines.push(`file      ${r.path}`);
  lines.push(
    `size      ${formatBytes(r.bytes)} · ${formatCount(r.rows)} rows · ${rg} row group${rg === 1 ? '' : 's'} · ${r.codec ?? 'no data'}${r.createdBy ? ` · ${r.createdBy}` : ''}`,
  );
  lines.push(
    `catalog   ${r.catalog ? `recorded (sha256 ${r.catalog.checksum.slice(0, 16)}…)` : 'not recorded'}`,
  );
  lines.push('', 'metadata');
  // The schema key is shown as the schema table below; times also as ISO.
  const keys = Object.keys(r.metadata)
    .filter((k) => k !== 'schema')
    .sort();
  const width = Math.max(0, ...keys.map((k) => k.length));
  for (const k of keys) {
    const v = r.metadata[k];
    const iso =
      (k === 'min_timestamp' || k === 'max_timestamp') && Number.isFinite(Number(v))
        ? ` (${formatMicros(Number(v))})`
        : '';
    lines.push(`  ${k.padEnd(width)}  ${show(v)}${iso}`);
  }
  for (const [k, v] of Object.entries(r.otherMetadata))
    lines.push(`  ${k}  ${v.length > 80 ? `${v.slice(0, 77)}...` : v}`);
  lines.push('', 'schema');
  lines.push(
    textTable(
      ['column', 'type', 'null', 'min', 'max', 'nulls', 'description'],
      r.columns.map((c) => [
        c.name,
        c.type,
        c.nullable ? 'yes' : 'no',
        show(c.min),
        show(c.max),
        formatCount(c.nulls),
        c.description ?? '',
      ]),
    )
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
  lines.push('', 'row groups');
  lines.push(
    textTable(
      ['#', 'rows', 'compressed', 'uncompressed'],
      r.rowGroups.map((g, i) => [
        String(i),
        formatCount(g.rows),
        formatBytes(g.compressedBytes),
        formatBytes(g.uncompressedBytes),
      ]),
    )
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
  lines.push('');
  if (r.sidecar) {
    lines.push('sidecar');
    for (const [k, v] of Object.entries(r.sidecar)) {
      if (k === 'schema') continue;
      lines.push(`  ${k.padEnd(12)}  ${show(v)}`);
    }
  } else lines.push('sidecar   none');
  return `${lines.join('\n')}\n`;
}

export function registerInspectCommand(program: Command, o: Out, _setExit: (c: number) => void): void {
  program
    .command('inspect')
    .description('show a lake file: footer metadata, schema, column statistics, row groups, sidecar')
    .argument('<file_or_key>', 'a Parquet file, an instrument key (VENUE:TYPE:SYMBOL) or a dataset name')
    .option('--day <day>', 'only files of this UTC day (for keys and datasets)')
    .option('--data-type <type>', 'only this data type (for keys)')
    .option('--json', 'print JSON (an array, one entry per file)')
    .action(
      async (target: string, flags: { day?: string; dataType?: string; json?: boolean }, cmd: Command) => {
        const day = flags.day ? parseDay(flags.day, '--day') : undefined;
        const lake = await openLakeFor(cmd);
        try {
          const reports = await inspectTarget(lake, target, { day, dataType: flags.dataType });
          if (flags.json) o.out(`${JSON.stringify(reports, null, 2)}\n`);
          else o.out(reports.map(formatInspect).join('\n'));
        } finally {
          await lake.close();
        }
      },
    );
}
