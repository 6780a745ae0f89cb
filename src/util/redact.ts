/**
 * Secret redaction for everything that leaves the process as text (logs, errors, JSON output).
 * Secrets are registered once (the Tardis API key when config is loaded); every string written by
 * the CLI passes through `redact`.
 */
const secrets = new Set<string>();

export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 4) secrets.add(secret);
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}
