/**
 * PostgreSQL catalog URLs (`postgres://user:password@host:5432/db`, or `postgresql://`): recognising
 * them, and the credential-free form used as the catalog `location`, in messages and in logs.
 */
import { UsageError } from '../../errors.js';

export const isPostgresUrl = (spec: string | undefined): spec is string =>
  !!spec && /^postgres(?:ql)?:\/\//i.test(spec);

export interface ParsedPostgresUrl {
  /** The URL as given (with credentials), for the driver only. */
  readonly url: string;
  /** The URL without password (userinfo password and any `password` query parameter). */
  readonly location: string;
  /** Password forms to register as secrets (as written and decoded); empty when there is none. */
  readonly secrets: readonly string[];
}

export function parsePostgresUrl(spec: string): ParsedPostgresUrl {
  let u: URL;
  try {
    u = new URL(spec);
  } catch {
    throw new UsageError('catalog: not a valid PostgreSQL URL', {
      hint: 'use postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (percent-encode special characters)',
    });
  }
  if (!/^postgres(?:ql)?:$/i.test(u.protocol)) {
    throw new UsageError(`catalog ${u.protocol}//${u.host}: not a PostgreSQL URL`, {
      hint: 'use postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE',
    });
  }
  const secrets: string[] = [];
  const add = (s: string | null) => {
    if (!s) return;
    secrets.push(s);
    try {
      const d = decodeURIComponent(s);
      if (d !== s) secrets.push(d);
    } catch {
      // not percent-encoded
    }
  };
  add(u.password);
  add(u.searchParams.get('password'));
  const clean = new URL(spec);
  clean.password = '';
  clean.searchParams.delete('password');
  return { url: spec, location: clean.toString(), secrets };
}

/** Remove every credential form from `text`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && out.includes(s)) out = out.split(s).join('***');
  return out;
}
