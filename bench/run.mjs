// `npm run bench`: ticklake against a reference run in the same script on the same data, as ratios.
// Data is generated (labelled generated) and cached in bench/tmp/. Results go to bench/RESULTS.md.
// Sections live in bench/sections/*.mjs (one per area); `--only NAME` runs the sections whose file
// name contains NAME; `--quick` uses smaller inputs and does not write RESULTS.md.
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HERE, log, QUICK } from './lib.mjs';

const onlyIdx = process.argv.indexOf('--only');
const only = onlyIdx > 0 ? process.argv[onlyIdx + 1] : null;
const files = readdirSync(join(HERE, 'sections'))
  .filter((f) => f.endsWith('.mjs') && (!only || f.includes(only)))
  .sort();
const results = [];
const notes = [];
for (const f of files) {
  log(`\n## ${f}`);
  const section = await import(pathToFileURL(join(HERE, 'sections', f)).href);
  results.push(...(await section.bench()));
  notes.push(...(section.notes ?? []));
}

// Report.
const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const rows = results.map((r) => {
  const unit = r.unit ?? 'ms';
  const fmt = (v) =>
    unit === 'ms' ? `${v < 10 ? v.toFixed(3) : v.toFixed(0)} ms` : `${v.toFixed(0)} ${unit}`;
  return `| ${r.what} | ${fmt(r.ours)} | ${r.refName}: ${fmt(r.ref)} | **${(r.ours / r.ref).toFixed(r.ours / r.ref < 0.1 ? 3 : 2)}** | ${r.goal} |`;
});
const table = [
  '| measurement | ticklake | reference | ratio | goal |',
  '|---|---|---|---|---|',
  ...rows,
].join('\n');
log(`\n${table}\n\nmachine: ${machine}`);
if (!QUICK && !only) {
  const md = `# Benchmark results

Produced by \`npm run bench\` (bench/run.mjs). Every number is a ratio against a reference run in the
same script on the same data (medians of 3–7 runs). The data is generated (labelled generated in its
footer), realistic Tardis-format trades; it is cached in \`bench/tmp/\`.

Machine: ${machine}. Date: ${new Date().toISOString().slice(0, 10)}.

${table}

Notes:
${[...notes, 'Runs on this shared 2-core machine vary by ±20% from one invocation to the next; compare ratios from the same run.'].map((n) => `- ${n}`).join('\n')}
`;
  writeFileSync(join(HERE, 'RESULTS.md'), md);
  log('\nwrote bench/RESULTS.md');
}
