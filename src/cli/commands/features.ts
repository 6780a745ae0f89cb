/** `ticklake features build` and `features ls`: versioned feature sets over candles. */
import type { Command } from 'commander';
import { featureVersionsInLake } from '../../candles/read.js';
import { parseTimeframes } from '../../candles/timeframes.js';
import { buildFeatures } from '../../features/build.js';
import { listFeatureSets } from '../../features/registry.js';
import { parseDay } from '../../util/time.js';
import { type Out, textTable } from '../output.js';
import { openLakeFor, parsePositiveInt, splitList } from './common.js';

interface FeaturesBuildFlags {
  set: string;
  setVersion?: string;
  from: string;
  to?: string;
  keys?: string;
  exchange?: string;
  timeframes?: string;
  force?: boolean;
  json?: boolean;
}

export function registerFeaturesCommands(program: Command, o: Out, setExit: (c: number) => void): void {
  const features = program
    .command('features')
    .description('named, versioned feature sets computed from candles');
  features
    .command('build')
    .description(
      'build a feature set for every instrument/day/timeframe with candles (history from earlier days)',
    )
    .requiredOption('--set <name>', 'feature set: momentum, volatility, volume_profile (see features ls)')
    .option('--set-version <n>', 'set version (default: the latest registered)')
    .requiredOption('--from <day>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <day>', 'last day, inclusive (default: --from)')
    .option('--keys <list>', 'only these instrument keys (comma-separated)')
    .option('--exchange <id>', 'only instruments of this vendor exchange')
    .option(
      '--timeframes <list>',
      'comma-separated timeframes (default: all the set supports, 1m and coarser)',
    )
    .option('--force', 'rebuild even when the inputs did not change')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: FeaturesBuildFlags, cmd: Command) => {
      const from = parseDay(flags.from, '--from');
      const to = parseDay(flags.to ?? flags.from, '--to');
      const timeframes = flags.timeframes ? parseTimeframes(flags.timeframes) : undefined;
      const version =
        flags.setVersion !== undefined ? parsePositiveInt(flags.setVersion, '--set-version') : undefined;
      const lake = await openLakeFor(cmd);
      try {
        const s = await buildFeatures(lake, {
          set: flags.set,
          version,
          from,
          to,
          keys: flags.keys ? splitList(flags.keys) : undefined,
          exchange: flags.exchange,
          timeframes,
          force: flags.force,
        });
        if (flags.json) o.out(`${JSON.stringify(s)}\n`);
        else
          o.out(
            textTable(
              ['set', 'version', 'built', 'up to date'],
              [[s.set, `v${s.version}`, String(s.built), String(s.skipped)]],
            ) + '\n',
          );
        setExit(0);
      } finally {
        await lake.close();
      }
    });
  features
    .command('ls')
    .description('list the registered feature sets and the versions present in the lake')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const lake = await openLakeFor(cmd);
      try {
        const rows = [];
        for (const s of listFeatureSets()) {
          const inLake = await featureVersionsInLake(lake.catalog, s.name);
          rows.push({
            set: s.name,
            version: s.version,
            timeframes: s.timeframes,
            warmupBars: s.warmupBars,
            outputs: s.outputs,
            inLake: inLake.includes(s.version),
            description: s.description,
          });
        }
        if (flags.json) o.out(`${JSON.stringify(rows)}\n`);
        else {
          o.out(
            textTable(
              ['set', 'version', 'in lake', 'warm-up bars', 'outputs'],
              rows.map((r) => [
                r.set,
                `v${r.version}`,
                r.inLake ? 'yes' : 'no',
                String(r.warmupBars),
                r.outputs.join(','),
              ]),
            ) + '\n',
          );
        }
        setExit(0);
      } finally {
        await lake.close();
      }
    });
}
