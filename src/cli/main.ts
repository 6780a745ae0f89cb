/**
 * The `ticklake` command line. Every command is a thin layer over the library: parse flags, call the
 * library, print. Known errors become one line (`ticklake: error: ...`) and a non-zero exit; unknown
 * ones say "please report". `--verbose` adds the cause.
 */
import { Command, CommanderError, Option } from 'commander';
import { isTicklakeError } from '../errors.js';
import { redact } from '../util/redact.js';
import { VERSION } from '../version.js';
import { registerCandlesCommands } from './commands/candles.js';
import { registerCatalogCommands } from './commands/catalog.js';
import { registerCheckCommands } from './commands/check.js';
import { registerCleanCommand } from './commands/clean.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDevCommands } from './commands/dev.js';
import { registerFeaturesCommands } from './commands/features.js';
import { registerGcCommand } from './commands/gc.js';
import { registerIngestCommand } from './commands/ingest.js';
import { registerInspectCommand } from './commands/inspect.js';
import { registerInstrumentsCommands, registerPlanCommand } from './commands/instruments.js';
import { registerJobsCommands } from './commands/jobs.js';
import { registerLsCommand } from './commands/ls.js';
import { registerQueryCommand } from './commands/query.js';
import { registerRunCommand } from './commands/run.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSnapshotsCommand } from './commands/snapshots.js';
import { registerSqlCommand } from './commands/sql.js';
import { registerStatsCommand } from './commands/stats.js';
import { type Out, processOut } from './output.js';

export interface GlobalOptions {
  lake?: string;
  catalog?: string;
  config?: string;
  verbose?: boolean;
}

export function buildProgram(o: Out, setExit: (code: number) => void): Command {
  const program = new Command('ticklake')
    .description(
      'A market-data lake: vendor tick data → clean, partitioned, verified Parquet, with a catalog and fast reads',
    )
    .version(VERSION, '-V, --version')
    .addOption(
      new Option(
        '--lake <dir|url>',
        'lake root: a directory, s3://bucket/prefix or gs://bucket/prefix (default: TICKLAKE_LAKE, then ./lake)',
      ),
    )
    .addOption(
      new Option(
        '--catalog <path|url>',
        'SQLite file or postgres:// URL (default: <lake>/catalog.sqlite; for s3:// and gs:// lakes a file under ~/.local/share/ticklake/catalogs)',
      ),
    )
    .addOption(new Option('--config <file>', 'config file (default: ./ticklake.yaml when present)'))
    .option('-v, --verbose', 'show causes of errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => o.out(s), writeErr: (s) => o.err(s) })
    .exitOverride();
  registerIngestCommand(program, o, setExit);
  registerJobsCommands(program, o, setExit);
  registerGcCommand(program, o);
  registerInstrumentsCommands(program, o, setExit);
  registerPlanCommand(program, o, setExit);
  registerCheckCommands(program, o, setExit);
  registerLsCommand(program, o, setExit);
  registerInspectCommand(program, o, setExit);
  registerStatsCommand(program, o, setExit);
  registerQueryCommand(program, o, setExit);
  registerCandlesCommands(program, o, setExit);
  registerFeaturesCommands(program, o, setExit);
  registerSqlCommand(program, o, setExit);
  registerServeCommand(program, o, setExit);
  registerCatalogCommands(program, o, setExit);
  registerCleanCommand(program, o, setExit);
  registerSnapshotsCommand(program, o, setExit);
  registerDevCommands(program, o, setExit);
  registerDemoCommand(program, o, setExit);
  registerRunCommand(program, o, setExit);
  return program;
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], o: Out = processOut): Promise<number> {
  if (o === processOut) {
    // `ticklake query ... | head` closes the pipe early: that is not an error.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
  let code = 0;
  const program = buildProgram(o, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    const verbose = argv.includes('--verbose') || argv.includes('-v');
    reportError(err, o, verbose);
    return isTicklakeError(err) ? err.exitCode : 1;
  }
}

export function reportError(err: unknown, o: Out, verbose: boolean): void {
  if (isTicklakeError(err)) {
    o.err(`ticklake: error: ${redact(err.oneLine())}\n`);
    if (verbose && err.cause) o.err(`  cause: ${redact(String((err.cause as Error)?.stack ?? err.cause))}\n`);
    return;
  }
  const e = err as Error;
  o.err(
    `ticklake: unexpected error: ${redact(e?.message ?? String(err))} (please report this with --verbose output)\n`,
  );
  if (verbose && e?.stack) o.err(`${redact(e.stack)}\n`);
}
