/**
 * The whole story with real parts only: the registry as `npm start` runs it (a child process, SQLite
 * in a temp DATA_DIR), companies on did:web hosts mapped through DID_WEB_HOSTS, and every step
 * done with the real command-line tools as child processes: keys, pledges, a profile update, a key
 * rotation, a withdrawal, the operator's moderation, exports from the database and over HTTP, and
 * accord-verify on the registry URL, both mirrors and a proof bundle. Last, the operator (who holds
 * both registry keys) rewrites history in a mirror: the rewritten log verifies on its own, and the
 * auditor who kept --state catches it.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromUtf8 } from '../../src/core/bytes.ts';
import { keyPairFromSeed } from '../../src/core/crypto/ed25519.ts';
import { decodeSecretMultikey } from '../../src/core/crypto/multikey.ts';
import { canonicalBytes } from '../../src/core/json/canonical.ts';
import { signCheckpoint } from '../../src/core/log/checkpoint.ts';
import { buildNotice, secureStatement } from '../../src/core/statements/build.ts';
import type { Statement } from '../../src/core/statements/types.ts';
import { DidHost } from '../helpers/company.ts';
import { readMirror, writeFileAt, writeTiles } from '../helpers/mirror.ts';
import { runTool, type ToolResult } from '../cli/run-tool.ts';
import { startRegistryProcess, type RegistryProcess } from './registry-process.ts';

const ORIGIN = 'e2e.accord.test/log';
const DOMAINS = ['alpha.test', 'beta.test', 'gamma.test'] as const;

let host: DidHost;
let dataDir: string;
let work: string;
let registry: RegistryProcess;
let logKey: string;

const companyDir = (domain: string) => join(work, domain);
const keyFile = (domain: string, n = 1) => join(companyDir(domain), `key-${n}.json`);
const didJson = (domain: string) => join(companyDir(domain), 'did.json');

/** Serves the company's did.json as written on disk, as its web server would. */
async function publish(domain: string): Promise<void> {
  host.set(domain, { kind: 'document', body: await readFile(didJson(domain)), contentType: 'application/did+json' });
}

async function api(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(path, registry.url));
  expect(res.status, path).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

function sign(args: string[]): Promise<ToolResult> {
  return runTool('sign', [...args, '--registry', registry.url]);
}

function admin(args: string[]): Promise<ToolResult> {
  return runTool('admin', args, { env: { DATA_DIR: dataDir, REGISTRY_ORIGIN: ORIGIN, DATABASE_URL: '' } });
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/')).sort();
}

function expectOk(r: ToolResult, what: string): void {
  expect({ what, code: r.code, stderr: r.stderr }).toEqual({ what, code: 0, stderr: '' });
}

beforeAll(async () => {
  host = await DidHost.start();
  dataDir = await mkdtemp(join(tmpdir(), 'accord-e2e-data-'));
  work = await mkdtemp(join(tmpdir(), 'accord-e2e-work-'));
  for (const d of DOMAINS) await mkdir(companyDir(d));
  registry = await startRegistryProcess({
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    REGISTRY_ORIGIN: ORIGIN,
    DID_WEB_HOSTS: host.didWebHosts(DOMAINS),
  });
  logKey = (await api('.well-known/accord-registry.json')).logKey as string;
});

afterAll(async () => {
  await registry?.stop();
  await host?.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('the Accord Registry, end to end', () => {
  it('companies make keys with accord-keygen and publish their did.json', async () => {
    const runs = await Promise.all(DOMAINS.map((d) => runTool('keygen', ['--did', `did:web:${d}`, '--out', keyFile(d), '--did-json', didJson(d)])));
    runs.forEach((r, i) => expectOk(r, `keygen ${DOMAINS[i]}`));
    for (const d of DOMAINS) await publish(d);
  });

  it('they pledge with accord-sign, each receipt checked against the pinned log key', async () => {
    const runs = await Promise.all(
      DOMAINS.map((d) =>
        sign(['pledge', '--key', keyFile(d), '--log-key', logKey, '--receipt', join(companyDir(d), 'receipt-1.json'), '--name', `${d.split('.')[0]} Corp`, '--website', `https://${d}/`]),
      ),
    );
    runs.forEach((r, i) => expectOk(r, `pledge ${DOMAINS[i]}`));
    for (const d of DOMAINS) expect((await api(`api/v1/signatories/${d}`)).status).toBe('signatory');
  });

  it('alpha updates its profile; what it leaves out is carried over', async () => {
    expectOk(await sign(['pledge', '--key', keyFile('alpha.test'), '--log-key', logKey, '--country', 'CH']), 'update alpha');
    expect(await api('api/v1/signatories/alpha.test')).toMatchObject({ name: 'alpha Corp', country: 'CH', links: { website: 'https://alpha.test/' } });
  });

  it('beta rotates its key: adds key-2, signs with it, removes key-1, and key-1 stops working', async () => {
    expectOk(await runTool('keygen', ['--did', 'did:web:beta.test', '--out', keyFile('beta.test', 2), '--did-json', didJson('beta.test')]), 'keygen beta key-2');
    await publish('beta.test');
    expectOk(await sign(['pledge', '--key', keyFile('beta.test', 2), '--log-key', logKey]), 'pledge with key-2');
    // Remove the old method, as keygen said to, and publish again.
    const doc = JSON.parse(await readFile(didJson('beta.test'), 'utf8')) as { verificationMethod: { id: string }[]; assertionMethod: string[] };
    doc.verificationMethod = doc.verificationMethod.filter((m) => !m.id.endsWith('#key-1'));
    doc.assertionMethod = doc.assertionMethod.filter((m) => !m.endsWith('#key-1'));
    await writeFile(didJson('beta.test'), JSON.stringify(doc, null, 2));
    await publish('beta.test');
    const old = await sign(['pledge', '--key', keyFile('beta.test', 1), '--log-key', logKey]);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/KEY_NOT_IN_DID_DOCUMENT/);
    expectOk(await sign(['pledge', '--key', keyFile('beta.test', 2), '--log-key', logKey, '--country', 'DE']), 'pledge with key-2 after removing key-1');
    const beta = await api('api/v1/signatories/beta.test');
    expect((beta.keys as { id: string }[]).map((k) => k.id)).toEqual(['did:web:beta.test#key-2']);
  });

  it('gamma withdraws, with a reason', async () => {
    expectOk(await sign(['withdraw', '--key', keyFile('gamma.test'), '--log-key', logKey, '--reason', 'We are leaving the sector.']), 'withdraw gamma');
    expect((await api('api/v1/signatories/gamma.test')).status).toBe('withdrawn');
  });

  it('the operator delists alpha with accord-admin while the server runs, then relists it', async () => {
    expectOk(await admin(['notice', 'delist', 'alpha.test', '--reason', 'Under review after a complaint']), 'delist');
    const refused = await sign(['pledge', '--key', keyFile('alpha.test'), '--log-key', logKey]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/SIGNATORY_DELISTED/);
    expect((await api('api/v1/signatories/alpha.test')).status).toBe('delisted');
    expectOk(await admin(['notice', 'relist', 'alpha.test', '--reason', 'The complaint was unfounded']), 'relist');
    expect((await api('api/v1/signatories/alpha.test')).status).toBe('signatory');
  });

  it('accord-export writes the same mirror from the database and over HTTP', async () => {
    const [fromDb, overHttp] = await Promise.all([
      runTool('export', ['--out', join(work, 'mirror-db')], { env: { DATA_DIR: dataDir, DATABASE_URL: '' } }),
      runTool('export', ['--out', join(work, 'mirror-http'), '--registry', registry.url]),
    ]);
    expectOk(fromDb, 'export from the database');
    expectOk(overHttp, 'export over HTTP');
    const files = await listFiles(join(work, 'mirror-db'));
    expect(files).toEqual(await listFiles(join(work, 'mirror-http')));
    expect(files).toContain('log/checkpoint');
    for (const f of files) expect(await readFile(join(work, 'mirror-db', f)), f).toEqual(await readFile(join(work, 'mirror-http', f)));
  });

  it('accord-verify passes on the registry URL (saving --state), both mirrors and a proof bundle', async () => {
    const bundle = await fetch(new URL('signatories/beta.test/proof.json', registry.url));
    expect(bundle.status).toBe(200);
    await writeFile(join(work, 'beta-proof.json'), Buffer.from(await bundle.arrayBuffer()));
    const state = join(work, 'state.txt');
    const [url, db, http, proof] = await Promise.all([
      runTool('verify', [registry.url, '--log-key', logKey, '--state', state]),
      runTool('verify', [join(work, 'mirror-db'), '--json']),
      runTool('verify', [join(work, 'mirror-http'), '--log-key', logKey]),
      runTool('verify', [join(work, 'beta-proof.json'), '--log-key', logKey]),
    ]);
    for (const [name, r] of Object.entries({ url, db, http, proof })) expect({ name, code: r.code }).toEqual({ name, code: 0 });
    const report = JSON.parse(db.stdout) as { ok: boolean; origin: string; size: number; findings: unknown[] };
    // 1 accord; 3 attestations + 3 pledges; alpha's update; beta's 2 new documents, each attested
    // with its pledge; gamma's withdrawal; the delist and the relist. Refusals logged nothing.
    expect(report).toMatchObject({ ok: true, origin: ORIGIN, size: 1 + 6 + 1 + 4 + 1 + 2, findings: [] });
    expect(await readFile(state, 'utf8')).toBe(await readFile(join(work, 'mirror-db', 'log', 'checkpoint'), 'utf8'));
    expect(url.stdout).toMatch(/pinned/);
  });

  it('a history rewritten by the operator verifies on its own, but the auditor who kept --state finds the FORK', async () => {
    // The operator holds both registry keys: it replaces gamma's withdrawal by a delist notice
    // (so gamma looks thrown out, not departed) and re-signs a checkpoint of the same size.
    const forged = join(work, 'mirror-forged');
    await cp(join(work, 'mirror-db'), forged, { recursive: true });
    const { entries } = await readMirror(forged);
    const at = entries.findIndex((e) => fromUtf8(e).includes('"AccordWithdrawal"'));
    const withdrawal = JSON.parse(fromUtf8(entries[at] as Uint8Array)) as Statement;
    const keyOf = async (file: string) => keyPairFromSeed(decodeSecretMultikey((JSON.parse(await readFile(join(dataDir, file), 'utf8')) as { privateKeyMultibase: string }).privateKeyMultibase));
    const attestationKey = await keyOf('attestation-key.json');
    const logKeyPair = await keyOf('log-key.json');
    const { attestationKey: registryDid } = await api('.well-known/accord-registry.json');
    const notice = secureStatement(
      buildNotice({ registryDid: registryDid as string, did: 'did:web:gamma.test', action: 'delist', reason: 'Expelled for misconduct', validFrom: withdrawal.validFrom }),
      attestationKey,
      `${registryDid as string}#${(registryDid as string).slice('did:key:'.length)}`,
      withdrawal.validFrom,
    );
    entries[at] = canonicalBytes(notice);
    const root = await writeTiles(forged, entries);
    await writeFileAt(forged, 'log/checkpoint', signCheckpoint({ origin: ORIGIN, size: entries.length, root }, logKeyPair.secretKey));

    const alone = await runTool('verify', [forged, '--log-key', logKey]);
    expect(alone.code).toBe(0);
    const state = join(work, 'state.txt');
    const saved = await readFile(state, 'utf8');
    const withState = await runTool('verify', [forged, '--log-key', logKey, '--state', state, '--json']);
    expect(withState.code).toBe(1);
    const report = JSON.parse(withState.stdout) as { ok: boolean; findings: { index: number; code: string }[] };
    expect(report.findings).toContainEqual(expect.objectContaining({ index: -1, code: 'FORK' }));
    expect(await readFile(state, 'utf8')).toBe(saved);
  });

  it('the registry stops cleanly', async () => {
    expect(await registry.stop()).toBe(0);
  });
});
