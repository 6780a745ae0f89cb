/** The docs name what the code has: every canonical column in SCHEMAS.md, every module in ARCHITECTURE.md. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AVAILABILITY_SCHEMA } from '../../src/instruments/availability.js';
import { CANONICAL_SCHEMAS, DATA_TYPES } from '../../src/schema/datasets.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(relative(REPO_ROOT, p));
  }
  return out;
}

describe('docs', () => {
  it('SCHEMAS.md documents every data type and every canonical column', () => {
    const doc = read('docs/SCHEMAS.md');
    for (const dt of DATA_TYPES) {
      expect(doc).toContain(`\`${dt}\``);
      for (const f of CANONICAL_SCHEMAS[dt].fields) {
        if (/_(price|amount)_([1-9]\d*)$/.test(f.name)) continue; // levels 1.. are documented as a pattern
        expect(doc, `${dt}.${f.name}`).toContain(`\`${f.name}\``);
      }
    }
  });

  it('SCHEMAS.md documents every instrument availability column', () => {
    const doc = read('docs/SCHEMAS.md');
    const section = doc.slice(doc.indexOf('## Instrument availability'));
    for (const f of AVAILABILITY_SCHEMA.fields) expect(section, f.name).toContain(`| \`${f.name}\` |`);
  });

  it('ARCHITECTURE.md names every source module', () => {
    const doc = read('docs/ARCHITECTURE.md');
    for (const file of sources(join(REPO_ROOT, 'src'))) {
      const name = file.replace(/\\/g, '/');
      const base = name.split('/').pop()!.replace(/\.ts$/, '');
      const dir = name.split('/').slice(0, -1).join('/');
      const named =
        doc.includes(name) ||
        doc.includes(`\`${base}\``) ||
        doc.includes(`${dir}/\``) ||
        doc.includes(`\`${dir}/\``);
      expect(named, `${name} is not described in docs/ARCHITECTURE.md`).toBe(true);
    }
  });

  it('the README gives the two set-up commands and the test command', () => {
    const readme = read('README.md');
    expect(readme).toContain('npm ci');
    expect(readme).toContain('npx ticklake demo');
    expect(readme).toContain('npm test');
  });
});
