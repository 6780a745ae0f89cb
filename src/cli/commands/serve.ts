/**
 * `ticklake serve`: the HTTP API (src/serve/server.ts) until SIGINT/SIGTERM. Binding to anything but
 * loopback needs a bearer token (`--token` or TICKLAKE_API_TOKEN); the token is never printed.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { DEFAULT_LIMITS, startServer } from '../../serve/server.js';
import { registerSecret } from '../../util/redact.js';
import type { Out } from '../output.js';
import { openLakeFor, parsePositiveInt } from './common.js';

interface ServeFlags {
  host: string;
  port: string;
  token?: string;
  enableSql?: boolean;
  maxRows?: string;
  maxBytes?: string;
  timeout?: string;
  log?: boolean;
}

export function registerServeCommand(program: Command, o: Out, setExit: (c: number) => void): void {
  program
    .command('serve')
    .description(
      'serve the lake over HTTP (instruments, ticks, candles, catalog, SQL, /metrics, /openapi.json)',
    )
    .option('--host <host>', 'interface to bind (anything but loopback needs a token)', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free port)', '8765')
    .option('--token <token>', 'bearer token clients must send (default: TICKLAKE_API_TOKEN)')
    .option('--enable-sql', 'serve POST /v1/sql (read-only, confined to the lake)')
    .option('--max-rows <n>', `most rows per response (default ${DEFAULT_LIMITS.maxRows})`)
    .option('--max-bytes <n>', `most estimated bytes per response (default ${DEFAULT_LIMITS.maxBytes})`)
    .option('--timeout <ms>', `time limit of one read or query (default ${DEFAULT_LIMITS.timeoutMs})`)
    .option('--log', 'print one line per request')
    .action(async (flags: ServeFlags, cmd: Command) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UsageError(`--port must be 0..65535, got "${flags.port}"`);
      }
      const token = flags.token ?? (process.env.TICKLAKE_API_TOKEN || undefined);
      registerSecret(token);
      const lake = await openLakeFor(cmd);
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer({
          lake,
          host: flags.host,
          port,
          ...(token ? { token } : {}),
          enableSql: Boolean(flags.enableSql),
          limits: {
            ...(flags.maxRows ? { maxRows: parsePositiveInt(flags.maxRows, '--max-rows') } : {}),
            ...(flags.maxBytes ? { maxBytes: parsePositiveInt(flags.maxBytes, '--max-bytes') } : {}),
            ...(flags.timeout ? { timeoutMs: parsePositiveInt(flags.timeout, '--timeout') } : {}),
          },
          ...(flags.log ? { log: (l: string) => o.err(`${l}\n`) } : {}),
        });
      } catch (err) {
        await lake.close();
        throw err;
      }
      o.out(
        `ticklake serving ${lake.storage.location} at ${server.url}${token ? ' (bearer token required)' : ''}${flags.enableSql ? ', SQL on' : ''}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await lake.close();
      setExit(0);
    });
}
