/**
 * The benchmark (`npm run bench -- --entries 20000`): one JSON object per line on stdout,
 * `{ "metric", "value", "unit", ...context }`. Everything runs on this machine over 127.0.0.1,
 * sized by flags and bounded in count and time. Targets are reported, not asserted:
 *
 *   ed25519_verify_per_s   raw node:crypto Ed25519 verifications per second on one core (baseline)
 *   verify_entries_per_s   accord-verify's engine over a generated mirror of --entries statements,
 *   verify_ratio           ... and that divided by the baseline (target >= 0.8 with one worker,
 *                          >= 1.5 with two), for --workers 0 (one thread), 1 and all cores
 *   verify_cpu_per_entry   CPU time of all threads per entry, in baseline verifications (the
 *                          ratio can reach at most cores / this)
 *   verify_signatures_only_ratio
 *                          the mirror's signature checks alone (node:crypto, keys imported as met),
 *                          on one thread and on all cores, over the same baseline: the ceiling of
 *                          verify_ratio here, before any parsing, hashing, rules or tree
 *   verify_peak_rss_mb     peak memory of accord-verify on that mirror (target <= 150 MB at 100,000)
 *   append_per_s           statements admitted per second over HTTP by --connections clients, each
 *   append_p99_ms          its own company with its own key and chained `previous` (>= 1,000/s, p99 < 100 ms);
 *                          the chains are signed before the timed run (SIGNED_AHEAD_PER_S)
 *   append_cpu_ms          CPU per admitted statement: the registry process, and the load generator
 *                          with its did:web host (their sum, over the cores, bounds the rate)
 *   read_rps, read_p99_ms  a signatory page and the inclusion-proof route, via autocannon
 *                          (>= 1,500 signatory pages/s)
 *
 * Flags: --entries N (20000), --duration S per load phase (10), --connections C (32), --workers N
 * (all cores), --only baseline,verify,bound,rss,append,read (all), --keep (keep the temp registry),
 * --profile-registry DIR (write a V8 CPU profile of the registry process there, to find bottlenecks),
 * --repeat R (1): the append and read phases R times, each on a fresh registry, every line tagged
 * with its `run`, then one `<metric>_median` line per figure with its min, max and every value
 * (this machine's speed moves by a quarter within minutes; one run says little).
 * The registry is `npm start` (bin/accord-registry.js: the bundle of src/main.ts) with HOST=127.0.0.1,
 * in a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { runAudit } from '../src/audit/run-audit.ts';
import { openSource } from '../src/audit/source.ts';
import { buildPledge } from '../src/core/statements/build.ts';
import { nowTimestamp } from '../src/core/statements/formats.ts';
import { didDocument, startDidHost } from './bench/did-host.ts';
import { secure, sha256, signer } from './bench/fast-sign.ts';
import { generateMirror } from './bench/generate-mirror.ts';
import { signatureBound } from './bench/signature-bound.ts';

const ROOT = new URL('../', import.meta.url).pathname;

function intFlag(v: string | undefined, name: string, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (!/^[0-9]{1,7}$/.test(v) || Number(v) < 1 || Number(v) > max) {
    process.stderr.write(`bench: --${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return Number(v);
}

const { values } = parseArgs({
  options: {
    entries: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    workers: { type: 'string' },
    only: { type: 'string' },
    keep: { type: 'boolean' },
    'profile-registry': { type: 'string' },
    repeat: { type: 'string' },
  },
  strict: true,
});
const ENTRIES = intFlag(values.entries, 'entries', 20_000, 2_000_000);
const DURATION_S = intFlag(values.duration, 'duration', 10, 300);
const CONNECTIONS = intFlag(values.connections, 'connections', 32, 1024);
const ALL_CORES = intFlag(values.workers, 'workers', availableParallelism(), 256);
const ONLY = new Set((values.only ?? 'baseline,verify,bound,rss,append,read').split(','));
const REPEAT = intFlag(values.repeat, 'repeat', 1, 20);

const machine = { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version };

/** With --repeat: the run under way (tags every line) and each figure's values, by metric and route. */
let run: number | undefined;
const repeated = new Map<string, { metric: string; unit: string; route: unknown; values: number[] }>();

function emit(metric: string, value: number, unit: string, context: Record<string, unknown> = {}): void {
  const rounded = Math.round(value * 100) / 100;
  process.stdout.write(`${JSON.stringify({ metric, value: rounded, unit, ...context, ...(run === undefined ? {} : { run }) })}\n`);
  if (run === undefined) return;
  const key = `${metric} ${String(context.route ?? '')}`;
  const seen = repeated.get(key) ?? { metric, unit, route: context.route, values: [] };
  seen.values.push(rounded);
  repeated.set(key, seen);
}

/** One `<metric>_median` line per figure of the repeated runs. */
function emitMedians(): void {
  for (const { metric, unit, route, values } of repeated.values()) {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length / 2;
    const median = sorted.length % 2 === 1 ? (sorted[Math.floor(mid)] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    process.stdout.write(
      `${JSON.stringify({ metric: `${metric}_median`, value: Math.round(median * 100) / 100, unit, ...(route === undefined ? {} : { route }), runs: values.length, min: sorted[0], max: sorted[sorted.length - 1], values })}\n`,
    );
  }
}

/**
 * CPU time (user + system) of a process so far, in ms, of all its threads or with `mainThread` of
 * its main thread only (whose task id is the pid); null where /proc is missing.
 */
async function processCpuMs(pid: number | undefined, mainThread = false): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    // proc(5): fields 14 and 15 are utime and stime in clock ticks; the name (field 2) may hold spaces.
    const stat = await readFile(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
/** sysconf(_SC_CLK_TCK): 100 on every Linux this runs on (Node does not expose sysconf). */
const CLOCK_TICKS = 100;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Raw node:crypto Ed25519 verifications per second on this thread (one core), over ~`ms`. */
function baseline(ms = 3000): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // 64 bytes: the size of the eddsa-jcs-2022 hashData every statement signature covers.
  const msg = randomBytes(64);
  const sig = nodeSign(null, msg, privateKey);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 500; i++) if (nodeVerify(null, msg, publicKey, sig)) n++;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

interface Mirror {
  dir: string;
  logKey: string;
  size: number;
  /** Its signature checks (generate-mirror.ts), for the signatures-only bound. */
  signatures: string;
}

/** The generated mirror for --entries, cached in the temp dir (generation takes longer than verifying). */
async function mirror(): Promise<Mirror> {
  const dir = join(tmpdir(), `accord-bench-mirror-${ENTRIES}`);
  const marker = join(dir, '.bench-complete.json');
  try {
    const cached = JSON.parse(await readFile(marker, 'utf8')) as Partial<Mirror>;
    // A mirror cached by an older bench has no signature records: made again.
    if (typeof cached.signatures === 'string') {
      await stat(cached.signatures);
      return cached as Mirror;
    }
  } catch {
    // none, or incomplete: made again
  }
  await rm(dir, { recursive: true, force: true });
  const started = performance.now();
  const m = await generateMirror({ dir, entries: ENTRIES });
  emit('mirror_generated_s', (performance.now() - started) / 1000, 's', { entries: m.size, byType: m.byType });
  const info: Mirror = { dir, logKey: m.logKey, size: m.size, signatures: m.signatures };
  await writeFile(marker, JSON.stringify(info));
  return info;
}

async function benchVerify(base: number, m: Mirror): Promise<number> {
  // The speed of this shared machine drifts by a quarter within minutes, so each run's ratio is
  // taken against the baseline measured right before and right after it (their mean), not only
  // against the one at the start.
  let before = base;
  // --workers 0 first: the whole audit on this one thread, the strict one-core figure. With
  // --workers 1 the audit thread is helped by the calling thread, which prepares bundles and checks
  // signatures when a core is free (so it uses two cores on this machine).
  for (const workers of [...new Set([0, 1, ALL_CORES])]) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result = await runAudit(await openSource(m.dir), { logKey: m.logKey, stateCheckpoint: null, workers });
    const seconds = (performance.now() - started) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    const after = baseline(2000);
    const bracket = (before + after) / 2;
    const range = [Math.round(Math.min(before, after)), Math.round(Math.max(before, after))];
    before = after;
    const perS = m.size / seconds;
    const context = { workers, entries: m.size, ok: result.ok, findings: result.findings.length };
    emit('verify_entries_per_s', perS, 'entries/s', context);
    emit('verify_ratio', perS / bracket, 'ratio', {
      ...context,
      baseline_per_s: Math.round(bracket),
      baseline_range: range,
      ...(workers === 0 ? { threads: 1 } : { target: workers === 1 ? 0.8 : 1.5 }),
    });
    // CPU time of every thread per entry, in raw verifications: less sensitive to a busy machine
    // than the wall clock, and the bound on the ratio (cores / this) whatever the scheduling.
    const cpuUsPerEntry = (user + system) / m.size;
    emit('verify_cpu_per_entry', (cpuUsPerEntry * bracket) / 1e6, 'verifications', { ...context, cpu_us_per_entry: Math.round(cpuUsPerEntry) });
  }
  return before;
}

/**
 * verify_ratio's ceiling here: the mirror's signature checks alone (signature-bound.ts), on one
 * thread and on all cores, against a baseline bracketing each run like benchVerify's.
 */
async function benchBound(base: number, m: Mirror): Promise<void> {
  let before = base;
  for (const threads of [...new Set([1, ALL_CORES])]) {
    const r = await signatureBound(m.signatures, threads);
    const after = baseline(2000);
    const bracket = (before + after) / 2;
    const range = [Math.round(Math.min(before, after)), Math.round(Math.max(before, after))];
    before = after;
    emit('verify_signatures_only_ratio', r.perS / bracket, 'ratio', {
      threads,
      entries: m.size,
      checks_per_s: Math.round(r.perS),
      key_imports: r.imports,
      baseline_per_s: Math.round(bracket),
      baseline_range: range,
    });
  }
}

function runChild(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Peak RSS of accord-verify as users run it (`node bin/accord-verify.js`, no tsx; worker threads
 * included), reported by the report-rss.mjs preload as the last line on stderr.
 */
async function benchRss(m: Mirror): Promise<void> {
  const args = ['--import', './scripts/bench/report-rss.mjs', 'bin/accord-verify.js', m.dir, '--log-key', m.logKey, '--workers', String(ALL_CORES), '--quiet'];
  // An inherited NODE_OPTIONS (e.g. a tsx loader) would be measured too.
  const r = await runChild(args, { NODE_OPTIONS: '' });
  const line = r.stderr.trim().split('\n').pop() ?? '';
  let report: { exitCode: number; maxRssKb: number };
  try {
    report = JSON.parse(line) as { exitCode: number; maxRssKb: number };
  } catch {
    throw new Error(`accord-verify's peak RSS was not reported (exit ${r.code}): ${r.stderr}`);
  }
  emit('verify_peak_rss_mb', report.maxRssKb / 1024, 'MB', { entries: m.size, workers: ALL_CORES, exitCode: report.exitCode, target_at_100000: 150 });
}

interface Registry {
  url: string;
  child: ChildProcess;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * The registry exactly as `npm start` runs it (bin/accord-registry.js), from the same environment (DESIGN 9),
 * listening on 127.0.0.1 only (HOST), so the benchmark never opens a port to the network. Its
 * start-up log line (pino JSON on stdout) names the port it got for PORT=0.
 */
async function startRegistry(env: Record<string, string>): Promise<Registry> {
  const dataDir = await mkdtemp(join(tmpdir(), 'accord-bench-registry-'));
  const profile = values['profile-registry'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values['profile-registry']}`];
  const child = spawn(process.execPath, [...profile, 'bin/accord-registry.js'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'info', SUBMIT_RATE_LIMIT: '0', REGISTRY_ORIGIN: 'bench.accord.test/log', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the registry did not start within 120 s')), 120_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`the registry exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    dataDir,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

interface Client {
  did: string;
  signer: ReturnType<typeof signer>;
  head: string | null;
  n: number;
  /** Signed statements made ahead, each chained on the one before (its `previous`), oldest first. */
  ahead: Signed[];
}

interface Signed {
  previous: string | null;
  body: Uint8Array;
  digest: string;
}

/**
 * Statements each client signs before the timed run: enough for 2,000 appends a second over it.
 * A company's tool signs its statement before it connects; signing in the run would only put the
 * generator's own Ed25519 and JCS work (about a quarter of a millisecond a statement) on the two
 * cores the registry is measured on. A client that runs out signs as it goes.
 */
const SIGNED_AHEAD_PER_S = 2000;
/**
 * At most this many seconds' worth are signed ahead: their validFrom is when they were signed,
 * and the registry refuses one more than 5 minutes off its clock (DESIGN 7); it also bounds the
 * generator's memory. A longer run signs the rest as it goes.
 */
const SIGNED_AHEAD_MAX_S = 30;

async function benchAppendAndRead(): Promise<void> {
  const clients: Client[] = Array.from({ length: CONNECTIONS }, (_, i) => {
    const did = `did:web:bench-${i}.example`;
    return { did, signer: signer(randomBytes(32), () => `${did}#key-1`), head: null, n: 0, ahead: [] };
  });
  const host = await startDidHost(new Map(clients.map((c) => [c.did.slice('did:web:'.length), didDocument(c.did, c.signer.method, c.signer.publicKeyMultibase)])));
  const registry = await startRegistry({ DID_WEB_HOSTS: host.mapping(clients.map((c) => c.did.slice('did:web:'.length))) });
  const pool = new Pool(registry.url, { connections: CONNECTIONS, pipelining: 1 });
  try {
    const accords = (await (await fetch(`${registry.url}/api/v1/accords`)).json()) as { accords: { digest: string }[] };
    const accord = accords.accords[0]?.digest as string;

    const build = (c: Client, previous: string | null): Signed => {
      const now = nowTimestamp();
      const doc = buildPledge({ did: c.did, name: `Bench company ${c.did.slice(8)} (${c.n++})`, accord, principles: [1, 2, 3, 4, 5, 6], previous, validFrom: now });
      const body = secure(doc, c.signer, now);
      return { previous, body, digest: `sha256:${sha256(body).toString('hex')}` };
    };
    /** Statements signed while submitting (none signed ahead was left for the client). */
    let signedInRun = 0;
    /** Signs `count` statements ahead for `c`, chained on its head. */
    const signAhead = (c: Client, count: number): void => {
      let previous = c.head;
      for (let i = 0; i < count; i++) {
        const next = build(c, previous);
        c.ahead.push(next);
        previous = next.digest;
      }
    };
    const submit = async (c: Client): Promise<{ ok: boolean; ms: number; status: number }> => {
      // The next statement signed ahead, if it chains on the head (else the chain is stale: drop it).
      let ready = c.ahead.shift();
      if (ready !== undefined && ready.previous !== c.head) {
        c.ahead.length = 0;
        ready = undefined;
      }
      if (ready === undefined) {
        signedInRun++;
        ready = build(c, c.head);
      }
      const started = performance.now();
      const res = await pool.request({ method: 'POST', path: '/api/v1/statements', headers: { 'content-type': 'application/json' }, body: Buffer.from(ready.body) });
      const text = await res.body.text();
      const ms = performance.now() - started;
      if (res.statusCode === 201) c.head = ready.digest;
      else if (res.statusCode === 409) c.head = (JSON.parse(text) as { error: { head: string | null } }).error.head;
      return { ok: res.statusCode === 201, ms, status: res.statusCode };
    };

    // Warm-up, not measured: each company's first pledge (with its DomainAttestation).
    await Promise.all(clients.map((c) => submit(c)));

    if (ONLY.has('append')) {
      const perClient = Math.ceil((SIGNED_AHEAD_PER_S * Math.min(DURATION_S, SIGNED_AHEAD_MAX_S)) / CONNECTIONS);
      for (const c of clients) signAhead(c, perClient);
      signedInRun = 0;
      const latencies: number[] = [];
      const failures = new Map<number, number>();
      let admitted = 0;
      const deadline = performance.now() + DURATION_S * 1000;
      const registryCpu0 = await processCpuMs(registry.child.pid);
      const mainCpu0 = await processCpuMs(registry.child.pid, true);
      const benchCpu0 = process.cpuUsage();
      const started = performance.now();
      await Promise.all(
        clients.map(async (c) => {
          while (performance.now() < deadline) {
            const r = await submit(c);
            latencies.push(r.ms);
            if (r.ok) admitted++;
            else failures.set(r.status, (failures.get(r.status) ?? 0) + 1);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const registryCpu1 = await processCpuMs(registry.child.pid);
      const mainCpu1 = await processCpuMs(registry.child.pid, true);
      const benchCpu = process.cpuUsage(benchCpu0);
      latencies.sort((a, b) => a - b);
      const context = { clients: CONNECTIONS, duration_s: Math.round(seconds * 10) / 10, admitted, failures: Object.fromEntries(failures), signed_ahead: perClient * CONNECTIONS, signed_in_run: signedInRun };
      emit('append_per_s', admitted / seconds, 'statements/s', { ...context, target: 1000 });
      emit('append_p99_ms', percentile(latencies, 99), 'ms', { ...context, p50_ms: Math.round(percentile(latencies, 50) * 10) / 10, p90_ms: Math.round(percentile(latencies, 90) * 10) / 10, target: 100 });
      // Where the CPU went: the registry process (all its threads) and this one (the clients and
      // the did:web host), per admitted statement. With both cores busy, their sum bounds the rate.
      if (registryCpu0 !== null && registryCpu1 !== null && admitted > 0) {
        const registryMs = (registryCpu1 - registryCpu0) / admitted;
        const benchMs = (benchCpu.user + benchCpu.system) / 1000 / admitted;
        // The registry's main thread (HTTP, admission, the sequencer) is the one that cannot spread.
        const main = mainCpu0 === null || mainCpu1 === null ? {} : { main_thread_ms: Math.round(((mainCpu1 - mainCpu0) / admitted) * 1000) / 1000, main_thread_busy: Math.round(((mainCpu1 - mainCpu0) / 1000 / seconds) * 100) / 100 };
        emit('append_cpu_ms', registryMs, 'ms/statement', { process: 'registry', ...main, load_generator_ms: Math.round(benchMs * 1000) / 1000, cores_busy: Math.round(((registryCpu1 - registryCpu0) / 1000 + (benchCpu.user + benchCpu.system) / 1e6) / seconds * 100) / 100 });
      }
      // The log written under load must still verify, as an auditor would check it.
      const auditStart = performance.now();
      const audit = await runAudit(await openSource(`${registry.url}/`), { logKey: null, stateCheckpoint: null, workers: ALL_CORES });
      emit('append_log_audit_s', (performance.now() - auditStart) / 1000, 's', { ok: audit.ok, size: audit.size, findings: audit.findings.slice(0, 3) });
    }

    if (ONLY.has('read')) {
      const size = Number((await (await fetch(`${registry.url}/log/checkpoint`)).text()).split('\n')[1]);
      const routes = [
        { route: 'signatory_page', path: '/signatories/bench-0.example', target: 1500 },
        { route: 'inclusion_proof', path: `/api/v1/proof/inclusion?index=${Math.floor(size / 2)}&size=${size}` },
      ];
      for (const r of routes) {
        const result = await autocannon({ url: `${registry.url}${r.path}`, connections: CONNECTIONS, duration: DURATION_S });
        const context = { route: r.route, path: r.path, connections: CONNECTIONS, duration_s: DURATION_S, non2xx: result.non2xx, errors: result.errors, log_size: size };
        emit('read_rps', result.requests.average, 'requests/s', { ...context, ...(r.target === undefined ? {} : { target: r.target }) });
        emit('read_p99_ms', result.latency.p99, 'ms', { ...context, p50_ms: result.latency.p50 });
      }
    }
  } finally {
    await pool.close();
    await registry.stop();
    await host.close();
    if (values.keep) process.stderr.write(`bench: kept the registry data in ${registry.dataDir}\n`);
    else await rm(registry.dataDir, { recursive: true, force: true });
  }
}

process.stderr.write(`bench: ${JSON.stringify({ entries: ENTRIES, duration_s: DURATION_S, connections: CONNECTIONS, workers: ALL_CORES, repeat: REPEAT, ...machine })}\n`);
let base = ONLY.has('baseline') || ONLY.has('verify') || ONLY.has('bound') ? baseline() : NaN;
if (!Number.isNaN(base)) emit('ed25519_verify_per_s', base, 'verifications/s', { threads: 1, ...machine });
if (ONLY.has('verify') || ONLY.has('bound') || ONLY.has('rss')) {
  const m = await mirror();
  if (ONLY.has('verify')) base = await benchVerify(base, m);
  if (ONLY.has('bound')) await benchBound(base, m);
  if (ONLY.has('rss')) await benchRss(m);
}
if (ONLY.has('append') || ONLY.has('read')) {
  if (REPEAT === 1) {
    await benchAppendAndRead();
  } else {
    for (run = 1; run <= REPEAT; run++) await benchAppendAndRead();
    run = undefined;
    emitMedians();
  }
}
