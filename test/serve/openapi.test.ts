/** docs/openapi.json is the document the server serves, and it names every endpoint the server has. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/serve/openapi.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

describe('OpenAPI document', () => {
  it('docs/openapi.json equals the served document (docs/HTTP.md says how to regenerate it)', () => {
    const saved = JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'openapi.json'), 'utf8')) as unknown;
    expect(saved).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('documents every route of src/serve/server.ts', () => {
    const src = readFileSync(join(REPO_ROOT, 'src', 'serve', 'server.ts'), 'utf8');
    const routes = [...src.matchAll(/route\(\s*'(?:GET|POST)',\s*['`]([^'`]+)['`]/g)].map((m) => m[1]!);
    const paths = Object.keys(openApiDocument().paths as object);
    for (const r of routes) {
      const path = r.replace(/\$\{dataset\}/, 'candles');
      expect(paths, r).toContain(path);
    }
    expect(paths).toContain('/v1/book_snapshots');
    expect(routes.length).toBeGreaterThan(8);
  });
});
