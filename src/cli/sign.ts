/**
 * accord-sign (DESIGN section 8): a signatory signs and submits a pledge or a withdrawal, then
 * checks the registry's receipt before reporting success.
 *
 *   accord-sign pledge|withdraw --key key.json --registry URL [options]
 *
 * The chain link (`previous`) and the profile come from the registry's API; the accord pledged to
 * is read from the log itself (its entry bytes, checked against the digest), so the principle
 * numbers signed are those of the text the digest names. A receipt counts only if its checkpoint
 * is signed by the log key (pinned with --log-key, else the registry's published key) and its
 * inclusion proof leads from the canonical bytes of this very statement to that checkpoint's root.
 */
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { sameVerifierKey } from '../core/audit/registry-info.ts';
import { DIGEST_RE, digestOf, fromBase64 } from '../core/bytes.ts';
import { AccordError, describeValue, isAccordError } from '../core/errors.ts';
import { canonicalBytes } from '../core/json/canonical.ts';
import { parseStrictJson } from '../core/json/strict-parse.ts';
import { verifyCheckpoint } from '../core/log/checkpoint.ts';
import { parseVerifierKey } from '../core/log/note.ts';
import { leafHash, verifyInclusion } from '../core/log/merkle.ts';
import { buildPledge, buildWithdrawal, secureStatement } from '../core/statements/build.ts';
import { nowTimestamp } from '../core/statements/formats.ts';
import { LINK_KEYS, type Links, type Statement } from '../core/statements/types.ts';
import { parseCli, usageError } from './args.ts';
import { refusal, runCli } from './exit.ts';
import { fetchRegistryInfo, getJson, httpFailure, registryError, registryUrl, request, responseJson } from './http.ts';
import { loadKeyFile, type LoadedKey } from './key-file.ts';

const USAGE = `usage: accord-sign pledge|withdraw --key key.json --registry URL [options]

  --key FILE             your key file (from accord-keygen; mode 0600)
  --registry URL         the registry's site root, e.g. https://registry.example.org/
  --name TEXT            pledge: your organisation's name (required for a first pledge)
  --country CC           pledge: ISO 3166-1 alpha-2 country code
  --website URL, --security-txt URL, --disclosure-policy URL, --patch-policy URL
                         pledge: https links (an empty value removes a link)
                         (fields left out are carried over from your current pledge)
  --accord DIGEST        pledge: the accord to sign (default: the latest version in the log)
  --reason TEXT          withdraw: why (at most 1,000 characters, published)
  --receipt FILE         write the checked receipt to FILE (JSON)
  --log-key VKEY         pin the registry's log key (a signed-note verifier key, or a file holding
                         one); default: the key the registry publishes
  --dry-run              print the signed statement and stop; nothing is submitted

Exit 0: logged and the receipt verified; 1: refused by the registry or a bad receipt; 2: could not run.`;

/** What the registry's API says about a signatory (DESIGN 7); only the members used here. */
interface SignatoryView {
  status: string | null;
  head: string | null;
  accord: string | null;
  name: string | null;
  country: string | null;
  links: Links;
}

interface AccordChoice {
  digest: string;
  index: number;
  version: number | null;
  title: string;
  principles: number[];
}

export interface Receipt {
  index: number;
  digest: string;
  checkpoint: string;
  inclusionProof: string[];
}

const LINK_FLAGS: Record<string, (typeof LINK_KEYS)[number]> = {
  website: 'website',
  'security-txt': 'securityTxt',
  'disclosure-policy': 'disclosurePolicy',
  'patch-policy': 'patchPolicy',
};

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** GET /api/v1/signatories/:domain; null for 404 (never pledged). */
async function fetchSignatory(root: string, domain: string): Promise<SignatoryView | null> {
  const url = registryUrl(root, `api/v1/signatories/${encodeURIComponent(domain)}`);
  const json = await getJson(url);
  if (json === null) return null;
  if (typeof json !== 'object' || Array.isArray(json)) throw new AccordError('BAD_RESPONSE', `${url} must answer a JSON object`);
  // The API may wrap the signatory ({ signatory: {...} }) or answer it directly.
  const raw = json as Record<string, unknown>;
  const s = (raw.signatory && typeof raw.signatory === 'object' ? raw.signatory : raw) as Record<string, unknown>;
  const head = str(s.head);
  if (head !== null && !DIGEST_RE.test(head)) throw new AccordError('BAD_RESPONSE', `${url}: head is not a digest: ${describeValue(head)}`);
  const links: Links = {};
  if (s.links && typeof s.links === 'object') {
    for (const k of LINK_KEYS) {
      const v = str((s.links as Record<string, unknown>)[k]);
      if (v !== null) links[k] = v;
    }
  }
  return { status: str(s.status), head, accord: str(s.accord), name: str(s.name), country: str(s.country), links };
}

/**
 * The accord to sign, read from the log entry itself: its bytes must hash to the digest the API
 * names and hold an AccordText, whose principle numbers the pledge then lists (DESIGN 2).
 */
async function fetchAccord(root: string, wanted: string | null): Promise<AccordChoice> {
  const url = registryUrl(root, 'api/v1/accords');
  const json = await getJson(url);
  if (json === null) throw refusal('REGISTRY_REFUSED', `${url} answered 404: is ${root} an Accord registry's site root (https://registry.example.org/, say)?`);
  const list = Array.isArray(json) ? json : json && typeof json === 'object' ? (json as { accords?: unknown }).accords : null;
  if (!Array.isArray(list)) throw new AccordError('BAD_RESPONSE', `${url} must answer a list of accords`);
  const candidates = list
    .filter((a): a is Record<string, unknown> => a !== null && typeof a === 'object')
    .filter((a) => typeof a.digest === 'string' && Number.isSafeInteger(a.index));
  let pick: Record<string, unknown> | undefined;
  if (wanted !== null) {
    pick = candidates.find((a) => a.digest === wanted);
    if (pick === undefined) throw refusal('ACCORD_UNKNOWN', `the registry lists no accord with digest ${wanted}`);
  } else {
    // The latest version: highest `version`, the later entry on a tie.
    for (const a of candidates) {
      const v = typeof a.version === 'number' ? a.version : 0;
      const pv = pick && typeof pick.version === 'number' ? pick.version : -1;
      if (pick === undefined || v > pv || (v === pv && (a.index as number) > (pick.index as number))) pick = a;
    }
    if (pick === undefined) throw new AccordError('BAD_RESPONSE', `${url} lists no accord`);
  }
  const digest = pick.digest as string;
  const index = pick.index as number;
  const entryUrl = registryUrl(root, `api/v1/entries/${index}`);
  const res = await request(entryUrl);
  if (res.status !== 200) throw httpFailure(res, entryUrl);
  if (digestOf(res.body) !== digest) {
    throw refusal('ACCORD_MISMATCH', `entry ${index} does not hash to ${digest}, the digest the registry gave for that accord`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseStrictJson(res.body) as Record<string, unknown>;
  } catch (cause) {
    throw refusal('ACCORD_MISMATCH', `entry ${index} is not JSON`, { cause });
  }
  const type = Array.isArray(doc?.type) ? doc.type[1] : undefined;
  const subject = doc?.credentialSubject as Record<string, unknown> | undefined;
  const principles = Array.isArray(subject?.principles) ? subject.principles.map((p) => (p as { number?: unknown })?.number) : [];
  if (type !== 'AccordText' || principles.length === 0 || !principles.every((n) => Number.isSafeInteger(n))) {
    throw refusal('ACCORD_MISMATCH', `entry ${index} (${digest}) is not an AccordText with numbered principles`);
  }
  return {
    digest,
    index,
    version: typeof subject?.version === 'number' ? subject.version : null,
    title: typeof subject?.title === 'string' ? subject.title : '',
    principles: [...(principles as number[])].sort((a, b) => a - b),
  };
}

/** The pledge's profile: flags given override the current pledge; an empty value drops a field. */
function profileFrom(values: Record<string, unknown>, current: SignatoryView | null): { name: string; country?: string; links?: Links } {
  const name = typeof values.name === 'string' ? values.name : (current?.name ?? null);
  if (name === null || name === '') throw usageError('--name is required for a first pledge', USAGE);
  const country = typeof values.country === 'string' ? values.country : (current?.country ?? '');
  const links: Links = { ...(current?.links ?? {}) };
  for (const [flag, key] of Object.entries(LINK_FLAGS)) {
    const v = values[flag];
    if (typeof v === 'string') {
      if (v === '') delete links[key];
      else links[key] = v;
    }
  }
  const ordered: Links = {};
  for (const k of LINK_KEYS) if (links[k] !== undefined) ordered[k] = links[k];
  return {
    name,
    ...(country !== '' ? { country } : {}),
    ...(Object.keys(ordered).length > 0 ? { links: ordered } : {}),
  };
}

function parseReceipt(json: unknown): Receipt {
  const r = json as Record<string, unknown> | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    !Number.isSafeInteger(r.index) ||
    (r.index as number) < 0 ||
    typeof r.digest !== 'string' ||
    typeof r.checkpoint !== 'string' ||
    !Array.isArray(r.inclusionProof) ||
    !r.inclusionProof.every((h) => typeof h === 'string')
  ) {
    throw refusal('RECEIPT_INVALID', 'the receipt must hold index, digest, checkpoint and inclusionProof');
  }
  return { index: r.index as number, digest: r.digest, checkpoint: r.checkpoint, inclusionProof: r.inclusionProof as string[] };
}

/**
 * Checks a receipt for the statement whose canonical bytes are `entry` (DESIGN 7): the digest,
 * the checkpoint's signature under `logKey`, and the inclusion of the entry's leaf hash at `index`
 * in the tree the checkpoint signs. Throws RECEIPT_INVALID (exit 1) saying what failed.
 */
export function checkReceipt(receipt: Receipt, entry: Uint8Array, logKey: string): { size: number; origin: string } {
  const bad = (message: string, cause?: unknown) => refusal('RECEIPT_INVALID', message, { cause });
  const digest = digestOf(entry);
  if (receipt.digest !== digest) throw bad(`the receipt's digest ${describeValue(receipt.digest)} is not ${digest}, the digest of the statement signed`);
  let cp: { origin: string; size: number; root: Uint8Array };
  try {
    cp = verifyCheckpoint(receipt.checkpoint, logKey);
  } catch (cause) {
    throw bad(`the receipt's checkpoint does not verify under the log key ${logKey}: ${(cause as Error).message}`, cause);
  }
  let proof: Uint8Array[];
  try {
    proof = receipt.inclusionProof.map((h) => fromBase64(h));
  } catch (cause) {
    throw bad(`the receipt's inclusion proof is not base64: ${(cause as Error).message}`, cause);
  }
  try {
    verifyInclusion(leafHash(entry), receipt.index, cp.size, proof, cp.root);
  } catch (cause) {
    throw bad(`the receipt does not prove the statement is entry ${receipt.index} of the log of size ${cp.size}: ${(cause as Error).message}`, cause);
  }
  return { size: cp.size, origin: cp.origin };
}

/** --log-key: a signed-note verifier key, or a file holding one (as accord-verify takes it); else exit 2. */
async function readLogKey(v: string): Promise<string> {
  const candidates = [v];
  try {
    candidates.push((await readFile(v, 'utf8')).trim());
  } catch {
    // not a file: only the value itself can be the key
  }
  for (const c of candidates) {
    try {
      parseVerifierKey(c);
      return c;
    } catch (e) {
      if (!isAccordError(e)) throw e;
    }
  }
  throw usageError(`--log-key is not a signed-note verifier key (<name>+<key id>+<key>) nor a file holding one: ${describeValue(v)}`, USAGE);
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (cause) {
    await unlink(tmp).catch(() => undefined);
    throw new AccordError('FILE_UNWRITABLE', `cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}

function build(action: 'pledge' | 'withdraw', values: Record<string, unknown>, key: LoadedKey, current: SignatoryView | null, accord: AccordChoice): Statement {
  const now = nowTimestamp();
  const previous = current?.head ?? null;
  const unsecured =
    action === 'pledge'
      ? buildPledge({ did: key.did, accord: accord.digest, principles: accord.principles, previous, validFrom: now, ...profileFrom(values, current) })
      : buildWithdrawal({
          did: key.did,
          accord: accord.digest,
          previous,
          validFrom: now,
          ...(typeof values.reason === 'string' ? { reason: values.reason } : {}),
        });
  // DESIGN 7: validFrom and proof.created are both "now", within the registry's 5-minute window.
  return secureStatement(unsecured, key.keyPair, key.verificationMethod, now);
}

export async function sign(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseCli(
    argv,
    USAGE,
    {
      key: { type: 'string' },
      registry: { type: 'string' },
      name: { type: 'string' },
      country: { type: 'string' },
      website: { type: 'string' },
      'security-txt': { type: 'string' },
      'disclosure-policy': { type: 'string' },
      'patch-policy': { type: 'string' },
      reason: { type: 'string' },
      accord: { type: 'string' },
      receipt: { type: 'string' },
      'log-key': { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
    1,
  );
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const action = positionals[0];
  if ((action !== 'pledge' && action !== 'withdraw') || positionals.length !== 1) throw usageError('name one action: pledge or withdraw', USAGE);
  if (typeof values.key !== 'string' || typeof values.registry !== 'string') throw usageError('--key and --registry are required', USAGE);
  const pledgeOnly = ['name', 'country', 'website', 'security-txt', 'disclosure-policy', 'patch-policy', 'accord'];
  const given = values as Record<string, unknown>;
  const wrong = action === 'withdraw' ? pledgeOnly.filter((f) => given[f] !== undefined) : values.reason !== undefined ? ['reason'] : [];
  if (wrong.length > 0) throw usageError(`--${wrong.join(', --')} cannot be used with ${action}`, USAGE);
  if (typeof values.accord === 'string' && !DIGEST_RE.test(values.accord)) throw usageError(`--accord must be a digest sha256:<64 hex>, got ${describeValue(values.accord)}`, USAGE);
  const root = values.registry;
  registryUrl(root, ''); // a bad URL is a usage error before anything else happens
  const pinned = typeof values['log-key'] === 'string' ? await readLogKey(values['log-key']) : null;

  const key = await loadKeyFile(values.key);
  const current = await fetchSignatory(root, key.domain);
  if (action === 'withdraw' && (current === null || current.accord === null)) {
    throw refusal('NOT_A_SIGNATORY', `${key.did} has never pledged at ${root}; there is nothing to withdraw`);
  }
  const accord = await fetchAccord(root, action === 'withdraw' ? (current?.accord ?? null) : typeof values.accord === 'string' ? values.accord : null);
  let statement: Statement;
  try {
    statement = build(action, values, key, current, accord);
  } catch (e) {
    // A profile value the statement rules refuse (name, country, link) is the caller's usage error,
    // named by its option; the whole usage text would only bury that one line.
    if (isAccordError(e) && e.code.startsWith('STATEMENT_')) throw usageError(withFlag(e.message), 'Run accord-sign --help for every option.');
    throw e;
  }
  const entry = canonicalBytes(statement);
  if (values['dry-run']) {
    out(JSON.stringify(statement, null, 2));
    return 0;
  }

  // The log key: pinned, or the registry's published one (then say so, as accord-verify does). A
  // registry that publishes another key than the pinned one gets nothing: it is not the registry
  // the signatory means (or it changed its key, which a log must never do).
  const published = (await fetchRegistryInfo(root)).logKey;
  if (pinned !== null && !sameVerifierKey(pinned, published)) {
    throw refusal('LOG_KEY_MISMATCH', `the registry at ${root} publishes the log key ${published}, not the pinned ${pinned}; nothing was submitted`);
  }
  const logKey = pinned ?? published;

  const url = registryUrl(root, 'api/v1/statements');
  const res = await request(url, { method: 'POST', body: entry, headers: { 'content-type': 'application/json', accept: 'application/json' } });
  if (res.status === 409) {
    const e = registryError(res, url);
    if (e.code === 'PREVIOUS_MISMATCH') {
      throw refusal(
        'PREVIOUS_MISMATCH',
        `the registry refused the statement: it names previous ${describeValue(current?.head ?? null)}, but your latest statement in the log is ` +
          `${describeValue(e.details.head ?? null)} (another statement was logged for ${key.did} meanwhile). Nothing was logged; run accord-sign again.`,
        { details: { head: e.details.head ?? null } },
      );
    }
  }
  if (res.status !== 200 && res.status !== 201) {
    const e = httpFailure(res, url);
    if (res.status >= 500) throw e;
    const r = registryError(res, url);
    // runCli appends the code; a refused signature made by this tool almost always means the key
    // file is not the key the published did.json lists under that method.
    const hint =
      r.code === 'PROOF_INVALID'
        ? `. This tool signed with the key in ${values.key} (${key.publicKeyMultibase}); the registry checked it against the key ` +
          `that https://${key.domain}/.well-known/did.json lists for ${key.verificationMethod}. Publish the did.json that ` +
          `accord-keygen wrote with this key file, or sign with the key file that matches the published document`
        : '';
    throw refusal(r.code, `the registry refused the statement (HTTP ${res.status}): ${r.message.replace(/\.$/, '')}${hint}`, { details: r.details });
  }
  let json: unknown;
  try {
    json = responseJson(res, url);
  } catch (cause) {
    throw refusal('RECEIPT_INVALID', (cause as Error).message, { cause });
  }
  const receipt = parseReceipt(json);
  const { size } = checkReceipt(receipt, entry, logKey);

  if (typeof values.receipt === 'string') {
    await writeAtomically(values.receipt, JSON.stringify({ ...receipt, statement }, null, 2) + '\n');
  }
  const kind = action === 'pledge' ? 'pledge' : 'withdrawal';
  out(`${res.status === 200 ? 'Already logged' : 'Logged'}: ${kind} by ${key.did} as entry ${receipt.index} (${receipt.digest}).`);
  out(`Receipt verified: the checkpoint of size ${size} is signed by ${pinned !== null ? 'the pinned' : 'the published'} log key and includes the entry.`);
  if (pinned === null) out(`(The log key was taken unpinned from ${registryUrl(root, '.well-known/accord-registry.json')}; pin it with --log-key ${logKey})`);
  if (typeof values.receipt === 'string') out(`Receipt written to ${values.receipt}.`);
  return 0;
}

/** The statement field a rule names, and the option that sets it. */
const FIELD_FLAGS: readonly [string, string][] = [
  ['credentialSubject.name', '--name'],
  ['credentialSubject.country', '--country'],
  ['credentialSubject.links.website', '--website'],
  ['credentialSubject.links.securityTxt', '--security-txt'],
  ['credentialSubject.links.disclosurePolicy', '--disclosure-policy'],
  ['credentialSubject.links.patchPolicy', '--patch-policy'],
  ['credentialSubject.reason', '--reason'],
];

/** "--country: credentialSubject.country must be ...": the message led by the option to fix. */
function withFlag(message: string): string {
  const hit = FIELD_FLAGS.find(([field]) => message.startsWith(field) && !/^[\w.]/.test(message.slice(field.length)));
  return hit === undefined ? message : `${hit[1]}: ${message}`;
}

await runCli(import.meta.url, sign);
