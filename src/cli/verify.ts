/**
 * accord-verify (DESIGN section 8): the auditor's full check of a registry, a mirror of one, or a
 * signatory's offline proof bundle.
 *
 *   accord-verify <registry URL | mirror directory | proof bundle> [--log-key VKEY] [--state FILE]
 *                 [--json] [--workers N] [--quiet]
 *
 * Exit 0: all verified; 1: a finding (each names the entry index, or -1 for the checkpoint, tiles
 * or state as a whole); 2: could not check (usage, network failure or HTTP 5xx, unreadable key or
 * file).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type cliProgress from 'cli-progress';
import type { Finding } from '../core/audit/auditor.ts';
import { AccordError, isAccordError } from '../core/errors.ts';
import { parseVerifierKey } from '../core/log/note.ts';
import { runAudit, type RunAuditResult } from '../audit/run-audit.ts';
import { openSource } from '../audit/source.ts';
import { parseCli, runCli, usageError } from './args.ts';
import { EXIT_FINDING, EXIT_OK } from './exit.ts';

const USAGE = `usage: accord-verify <registry URL | mirror directory | proof bundle> [options]

Checks every entry of a registry's log: canonical form, signatures, pledge chains, attestation
coverage, accords known, no duplicates or backdating, and the tree root against the signed
checkpoint. A URL is the site root (only /.well-known/accord-registry.json and /log/... are read).

options:
  --log-key VKEY   pin the registry's log key (a signed-note verifier key, or a file holding one);
                   without it the key is taken unpinned from the well-known file
  --state FILE     the last verified checkpoint: the new one must be consistent with it; the file
                   is created or replaced only after a run without findings
  --json           print { ok, origin, size, root, findings } on stdout
  --workers N      threads checking entries and signatures (default: the number of CPUs;
                   never more than the log has tiles of 256 entries; 0 checks everything in
                   the main thread)
  --quiet          no summary, only findings (and the JSON with --json)

exit status: 0 all verified, 1 a finding, 2 could not check`;

export interface VerifyIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether progress may be drawn on stderr. */
  stderrIsTty: boolean;
}

const processIo: VerifyIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stderrIsTty: process.stderr.isTTY === true,
};

export async function verifyMain(argv: string[], io: VerifyIo = processIo): Promise<number> {
  const { values, positionals } = parseCli(
    argv,
    USAGE,
    {
      'log-key': { type: 'string' },
      state: { type: 'string' },
      json: { type: 'boolean' },
      workers: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
    1,
  );
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return EXIT_OK;
  }
  const target = positionals[0];
  if (target === undefined) throw usageError('name a registry URL, a mirror directory or a proof bundle', USAGE);
  const workers = workersOption(values.workers);
  const logKey = values['log-key'] === undefined ? null : await readLogKey(values['log-key']);
  const statePath = values.state ?? null;
  const stateCheckpoint = statePath === null ? null : await readState(statePath);

  const started = Date.now();
  const source = await openSource(target);
  // Loaded only for a terminal: a script reading our output needs none of it.
  const bar = io.stderrIsTty && values.quiet !== true ? await progressBar() : null;
  let result: RunAuditResult;
  try {
    result = await runAudit(source, {
      logKey,
      stateCheckpoint,
      workers,
      onProgress: bar === null ? undefined : (done, total) => {
        if (bar.getTotal() !== total) bar.start(total, done);
        bar.update(done);
      },
    });
  } finally {
    bar?.stop();
  }

  let stateNote: string;
  if (statePath === null) stateNote = 'not kept (pass --state FILE to check the next run against this one)';
  else if (result.newState !== null) {
    await writeAtomically(statePath, result.newState);
    stateNote = `${result.consistency === 'first-run' ? 'first run' : 'consistent with the saved checkpoint'}; saved to ${statePath}`;
  } else if (result.ok && result.consistency === 'unproved') {
    stateNote = `${statePath} not compared and not updated: a proof bundle holds no consistency proof, so only a checkpoint of the saved size can be compared with it`;
  } else stateNote = `${statePath} not updated (the run had findings)`;

  if (values.json === true) {
    const { ok, origin, size, root, findings } = result;
    io.stdout(`${JSON.stringify({ ok, origin, size, root, findings }, null, 2)}\n`);
  }
  if (values.quiet !== true) {
    const text = summary(result, source.label, stateNote, Date.now() - started);
    // With --json, stdout carries only the JSON.
    (values.json === true ? io.stderr : io.stdout)(text);
  } else if (values.json !== true) {
    io.stdout(findingLines(result.findings, result.findingsOmitted));
  }
  return result.ok ? EXIT_OK : EXIT_FINDING;
}

function workersOption(v: string | undefined): number {
  if (v === undefined) return availableParallelism();
  if (!/^[0-9]{1,4}$/.test(v)) throw usageError(`--workers must be a whole number, got ${JSON.stringify(v)}`, USAGE);
  return Number(v);
}

/** --log-key: a verifier key, or a file holding one; either way it must parse (else exit 2). */
async function readLogKey(v: string): Promise<string> {
  try {
    parseVerifierKey(v);
    return v;
  } catch (e) {
    if (!isAccordError(e)) throw e;
    let text: string;
    try {
      text = (await readFile(v, 'utf8')).trim();
    } catch {
      throw usageError(`--log-key is not a verifier key (<name>+<key id>+<key>) nor a readable file: ${e.message}`, USAGE);
    }
    try {
      parseVerifierKey(text);
      return text;
    } catch (e2) {
      if (!isAccordError(e2)) throw e2;
      throw usageError(`${v} does not hold a verifier key: ${e2.message}`, USAGE);
    }
  }
}

/**
 * The saved checkpoint note; a missing file is a first run, if its folder exists (checked now, so
 * a mistyped path stops the run before the audit rather than after it).
 */
async function readState(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new AccordError('FILE_UNREADABLE', `cannot read the state file ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  const folder = dirname(resolve(path));
  const isFolder = await stat(folder).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isFolder) throw new AccordError('FILE_UNWRITABLE', `cannot keep the state file ${path}: the folder ${folder} does not exist`);
  return null;
}

/** Write to a temporary file in the same directory, then rename: a reader never sees half a file. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { flag: 'wx' });
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new AccordError('FILE_UNWRITABLE', `cannot save the state file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

async function progressBar(): Promise<cliProgress.SingleBar> {
  const { default: cliProgress } = await import('cli-progress');
  return new cliProgress.SingleBar(
    { stream: process.stderr, format: 'verifying [{bar}] {value}/{total} entries | {eta_formatted} left', clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function findingLines(findings: Finding[], omitted: number): string {
  const lines = findings.map((f) => `  ${f.index === -1 ? 'log' : `entry ${f.index}`}: ${f.code}: ${f.message}\n`);
  if (omitted > 0) lines.push(`  ... and ${plural(omitted, 'more finding')}\n`);
  return lines.join('');
}

function summary(r: RunAuditResult, sourceLabel: string, stateNote: string, ms: number): string {
  const s = r.stats;
  const t = s.byType;
  const out: string[] = [];
  out.push(r.ok ? `accord-verify: OK, ${r.origin} verified at size ${r.size}` : `accord-verify: FAILED, ${plural(r.findings.length + r.findingsOmitted, 'finding')}`);
  out.push(`  source:      ${sourceLabel}`);
  if (r.origin !== null) out.push(`  checkpoint:  ${r.origin}, size ${r.size}, root ${r.root}`);
  out.push(`  log key:     ${r.keySource}${r.keyPinned ? '' : ' (pass --log-key to pin it)'}`);
  out.push(
    `  entries:     ${s.entries} checked (${plural(t.AccordText ?? 0, 'accord text')}, ${plural(t.DomainAttestation ?? 0, 'attestation')}, ` +
      `${plural(t.AccordPledge ?? 0, 'pledge')}, ${plural(t.AccordWithdrawal ?? 0, 'withdrawal')}, ${plural(t.RegistryNotice ?? 0, 'notice')})`,
  );
  out.push(`  signatories: ${s.signatories} (${s.currentSignatories} current, ${s.withdrawn} withdrawn, ${s.delisted} delisted); accords: ${s.accords}`);
  const checks = [
    'checkpoint signature',
    'strict JSON, schema and canonical form',
    `${plural(s.signaturesChecked, 'signature')}`,
    ...(s.leafHashesChecked > 0 ? [`${plural(s.leafHashesChecked, 'leaf hash', 'leaf hashes')} against level-0 tiles`] : []),
    ...(s.tileHashesChecked > 0 ? [`${plural(s.tileHashesChecked, 'upper tile hash', 'upper tile hashes')}`] : []),
    r.sourceKind === 'bundle'
      ? 'inclusion proofs against the checkpoint'
      : s.entries === r.size
        ? 'tree root against the checkpoint'
        : 'tree root NOT checked (entries missing)',
    'pledge chains, attestation coverage, accords known, withdrawal and notice rules, duplicates, backdating',
  ];
  out.push(`  checks:      ${checks.join('; ')}`);
  if (r.sourceKind === 'bundle') {
    // A bundle is a subset chosen by whoever made it: what it holds is proven, not what it leaves out.
    out.push(`  note:        a bundle proves that its statements are in the log at this checkpoint, not that none is`);
    out.push(`               missing or later (a withdrawal, say): for the current status, verify the registry itself`);
  }
  out.push(`  state:       ${stateNote}`);
  out.push(`  time:        ${(ms / 1000).toFixed(1)} s${r.workers > 0 ? ` (${plural(r.workers, 'worker thread')})` : ''}`);
  if (r.findings.length > 0 || r.findingsOmitted > 0) out.push('findings:', findingLines(r.findings, r.findingsOmitted).trimEnd());
  return `${out.join('\n')}\n`;
}

await runCli(import.meta.url, (argv) => verifyMain(argv));
