import { readFileSync } from 'node:fs';

/** The package version, written into every file's footer as the code version. */
export const VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export const CREATED_BY = `ticklake version ${VERSION}`;
