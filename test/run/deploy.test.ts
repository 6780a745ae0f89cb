/**
 * Deployment files (Dockerfile, deploy/**): no container engine or cluster runs here, so these are
 * checked statically — every YAML parses, the manifests' shard settings agree with what
 * `resolveShard` reads, their `ticklake run` flags exist, every file the Dockerfile copies exists and
 * is not excluded by .dockerignore — and the entry script runs with a stand-in `node`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { resolveShard } from '../../src/pipeline/shard.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';

const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, walked by the assertions
type Obj = Record<string, any>;

function docs(path: string): Obj[] {
  const parsed = parseAllDocuments(read(path));
  const list = Array.isArray(parsed) ? parsed : [parsed];
  for (const d of list) expect(d.errors, `${path}: ${d.errors.map((e) => e.message).join('; ')}`).toEqual([]);
  return list.map((d) => d.toJS() as Obj);
}

const envOf = (c: Obj) => new Map<string, Obj>((c.env as Obj[]).map((e) => [e.name as string, e]));

let runHelp: string | null = null;
async function expectRunFlags(args: readonly string[]): Promise<void> {
  runHelp ??= (await runCli(['run', '--help'])).stdout;
  for (const a of args.filter((x) => x.startsWith('--')))
    expect(runHelp, `ticklake run ${a}`).toContain(`${a} `);
}

describe('deployment files', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ticklake-deploy-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('Kubernetes Indexed Job: shard count = completions, every pod gets its own shard', async () => {
    const [job] = docs('deploy/k8s/indexed-job.yaml');
    expect(job!.kind).toBe('Job');
    expect(job!.spec.completionMode).toBe('Indexed');
    const n = job!.spec.completions as number;
    const pod = job!.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const c = (pod.containers as Obj[]).find((x) => x.name === 'ticklake')!;
    expect(c.command).toContain('/app/deploy/nightly.sh');
    const env = envOf(c);
    expect(Number(env.get('TICKLAKE_SHARD_COUNT')!.value)).toBe(n);
    expect(env.get('TICKLAKE_LAKE')!.value).toMatch(/^gs:\/\//);
    expect(env.get('TICKLAKE_CATALOG')!.value).toMatch(/^postgres:\/\/[^:@]+@/); // no password inline
    expect(env.get('PGPASSWORD')!.valueFrom.secretKeyRef).toBeDefined();
    const shards = Array.from({ length: n }, (_, i) =>
      resolveShard({
        env: {
          JOB_COMPLETION_INDEX: String(i),
          TICKLAKE_SHARD_COUNT: env.get('TICKLAKE_SHARD_COUNT')!.value,
        },
      }),
    );
    expect(shards.map((s) => `${s.index}/${s.count}`)).toEqual(
      Array.from({ length: n }, (_, i) => `${i}/${n}`),
    );
    await expectRunFlags(c.args);

    const [settle] = docs('deploy/k8s/settle-job.yaml');
    const sc = settle!.spec.template.spec.containers[0] as Obj;
    expect(sc.args.join(' ')).toContain('--stages candles,features');
    expect(envOf(sc).has('TICKLAKE_SHARD_COUNT')).toBe(false);
    await expectRunFlags(sc.args);
  });

  it('Cloud Run Job: tasks read CLOUD_RUN_TASK_INDEX/COUNT; the catalog uses the Cloud SQL socket', async () => {
    const [job] = docs('deploy/cloud-run/job.yaml');
    expect(job!.apiVersion).toBe('run.googleapis.com/v1');
    expect(job!.kind).toBe('Job');
    const exec = job!.spec.template;
    const instance = exec.metadata.annotations['run.googleapis.com/cloudsql-instances'] as string;
    const n = exec.spec.taskCount as number;
    expect(n).toBeGreaterThan(1);
    const c = exec.spec.template.spec.containers[0] as Obj;
    expect(c.command).toContain('/app/deploy/nightly.sh');
    expect(envOf(c).get('TICKLAKE_CATALOG')!.value).toContain(`host=/cloudsql/${instance}`);
    expect(
      resolveShard({ env: { CLOUD_RUN_TASK_INDEX: String(n - 1), CLOUD_RUN_TASK_COUNT: String(n) } }),
    ).toMatchObject({
      index: n - 1,
      count: n,
    });
    await expectRunFlags(c.args);
    const script = read('deploy/cloud-run/nightly.sh');
    const settleArgs = /--args="\^;\^([^"]+)"/.exec(script)![1]!.split(';');
    expect(settleArgs).toContain('candles,features');
    await expectRunFlags(settleArgs);
  });

  it('Dockerfile: node:20-slim, a build stage, and every copied file exists and is not dockerignored', () => {
    const text = read('Dockerfile');
    expect(text).toMatch(/^FROM node:20-slim AS build$/m);
    expect(text.match(/^FROM /gm)).toHaveLength(2);
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const sources = [...text.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
      m[1]!.trim().split(/\s+/).slice(0, -1),
    );
    expect(sources).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'bin', 'deploy/nightly.sh']),
    );
    for (const s of sources) {
      expect(existsSync(join(REPO_ROOT, s)), `${s} exists`).toBe(true);
      expect(
        ignored.some((i) => s === i || s.startsWith(`${i}/`)),
        `${s} not in .dockerignore`,
      ).toBe(false);
    }
    // What the runtime stage runs is what the build stage produces from bin/ and dist/.
    expect(text).toContain('COPY --from=build /app/dist ./dist');
    expect(text).toContain('"node", "/app/bin/ticklake.js"');
    expect(read('bin/ticklake.js')).toContain("from '../dist/cli/main.js'");
  });

  it('entry scripts: valid sh; nightly.sh defaults to yesterday (UTC) and passes flags through', () => {
    for (const s of ['deploy/nightly.sh', 'deploy/cloud-run/nightly.sh']) {
      execFileSync('sh', ['-n', join(REPO_ROOT, s)]);
    }
    // A stand-in `node` that prints its arguments, first on PATH.
    const fake = join(tmp, 'node');
    writeFileSync(fake, '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    chmodSync(fake, 0o755);
    const run = (env: NodeJS.ProcessEnv) =>
      execFileSync('sh', [join(REPO_ROOT, 'deploy/nightly.sh'), '--exchange', 'deribit'], {
        env: { PATH: `${tmp}:${process.env.PATH}`, ...env },
        encoding: 'utf8',
      })
        .trim()
        .split('\n');
    const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const before = yesterday();
    const dflt = run({});
    // (Should midnight UTC pass while the script runs, either day is right.)
    expect(dflt.slice(0, 3)).toEqual(['/app/bin/ticklake.js', 'run', '--from']);
    expect([before, yesterday()]).toContain(dflt[3]);
    expect(dflt.slice(4)).toEqual(['--to', dflt[3], '--exchange', 'deribit']);
    expect(run({ RUN_FROM: '2024-03-01', RUN_TO: '2024-03-07' })).toEqual([
      '/app/bin/ticklake.js',
      'run',
      '--from',
      '2024-03-01',
      '--to',
      '2024-03-07',
      '--exchange',
      'deribit',
    ]);
  });

  it('docs/DEPLOY.md names every shard variable and says the container was not built here', () => {
    const doc = read('docs/DEPLOY.md');
    for (const v of [
      'JOB_COMPLETION_INDEX',
      'TICKLAKE_SHARD_COUNT',
      '--shard-count',
      'CLOUD_RUN_TASK_INDEX',
      'CLOUD_RUN_TASK_COUNT',
      'BATCH_TASK_INDEX',
      'BATCH_TASK_COUNT',
      'TICKLAKE_SHARD',
      'deploy/k8s/indexed-job.yaml',
      'deploy/cloud-run/job.yaml',
    ]) {
      expect(doc, v).toContain(v);
    }
    expect(doc).toMatch(/not built or run/i);
  });
});
