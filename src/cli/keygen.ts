/**
 * accord-keygen (DESIGN section 8): a new Ed25519 signing key for a signatory and the did:web
 * document that publishes it (DESIGN section 4).
 *
 *   accord-keygen --did did:web:example.com --out key.json [--did-json did.json] [--force]
 *
 * Without --did-json the DID document is written next to the key file as did.json. With
 * --did-json naming an existing document, the new key is added to it as the next `#key-N`
 * (key rotation); the old method is removed by hand once it is no longer needed.
 */
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { generateKeyPair } from '../core/crypto/ed25519.ts';
import { encodePublicMultikey, encodeSecretMultikey } from '../core/crypto/multikey.ts';
import { AccordError, describeValue } from '../core/errors.ts';
import { parseStrictJson } from '../core/json/strict-parse.ts';
import { parseCli, runCli, usageError } from './args.ts';
import { domainOfDid, type KeyFile } from './key-file.ts';

const USAGE = `usage: accord-keygen --did did:web:<domain> --out key.json [--did-json did.json] [--force]

Creates a new Ed25519 key (key.json, mode 0600: keep it secret) and the DID document to publish
at https://<domain>/.well-known/did.json. With --did-json naming an existing document, the key is
added to it as the next #key-N (key rotation).`;

// W3C DID Core 1.0 and Controlled Identifiers (Multikey) contexts.
const DID_CONTEXTS = ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'];

interface VerificationMethod {
  id: string;
  type: string;
  controller: string;
  publicKeyMultibase: string;
  [k: string]: unknown;
}

export interface DidDocument {
  '@context': string[];
  id: string;
  verificationMethod: VerificationMethod[];
  assertionMethod: (string | Record<string, unknown>)[];
  [k: string]: unknown;
}

/** A fresh DID document for one key. */
export function newDidDocument(did: string): DidDocument {
  return { '@context': [...DID_CONTEXTS], id: did, verificationMethod: [], assertionMethod: [] };
}

/** Parses an existing did.json for `did`, defensively (code DID_DOCUMENT_INVALID). */
export function parseDidDocument(bytes: Uint8Array, did: string, where: string): DidDocument {
  let doc: unknown;
  try {
    doc = parseStrictJson(bytes);
  } catch (cause) {
    throw new AccordError('DID_DOCUMENT_INVALID', `${where} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new AccordError('DID_DOCUMENT_INVALID', `${where} must hold a JSON object`);
  }
  const d = doc as Record<string, unknown>;
  if (d.id !== did) {
    throw new AccordError('DID_DOCUMENT_INVALID', `${where} is the document of ${describeValue(d.id)}, not of ${did}`);
  }
  const ctx = d['@context'] === undefined ? [] : d['@context'];
  const vms = d.verificationMethod === undefined ? [] : d.verificationMethod;
  const ams = d.assertionMethod === undefined ? [] : d.assertionMethod;
  if (!Array.isArray(ctx) || !Array.isArray(vms) || !Array.isArray(ams)) {
    throw new AccordError('DID_DOCUMENT_INVALID', `${where}: @context, verificationMethod and assertionMethod must be arrays`);
  }
  for (const vm of vms) {
    if (vm === null || typeof vm !== 'object' || typeof (vm as { id?: unknown }).id !== 'string') {
      throw new AccordError('DID_DOCUMENT_INVALID', `${where}: every verificationMethod needs a string id, got ${describeValue(vm)}`);
    }
  }
  return { ...d, '@context': ctx as string[], id: did, verificationMethod: vms as VerificationMethod[], assertionMethod: ams };
}

/** DID Core 3.2: a method id may be relative (`#key-1`) or absolute (`did:web:x#key-1`). */
function absoluteId(did: string, id: string): string {
  return id.startsWith('#') ? did + id : id;
}

/** The next free `#key-N`: one more than the highest N the document names anywhere. */
export function nextKeyNumber(doc: DidDocument): number {
  const ids = [
    ...doc.verificationMethod.map((vm) => vm.id),
    ...doc.assertionMethod.map((am) => (typeof am === 'string' ? am : typeof am.id === 'string' ? am.id : '')),
  ];
  let max = 0;
  for (const id of ids) {
    const m = /#key-(\d{1,9})$/.exec(absoluteId(doc.id, id));
    if (m && absoluteId(doc.id, id).startsWith(`${doc.id}#`)) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

/** Adds a Multikey method under assertionMethod; returns the new document (the input is unchanged). */
export function addKey(doc: DidDocument, publicKeyMultibase: string): { doc: DidDocument; methodId: string } {
  const methodId = `${doc.id}#key-${nextKeyNumber(doc)}`;
  const context = [...doc['@context']];
  for (const c of DID_CONTEXTS) if (!context.includes(c)) context.push(c);
  return {
    methodId,
    doc: {
      ...doc,
      '@context': context,
      verificationMethod: [...doc.verificationMethod, { id: methodId, type: 'Multikey', controller: doc.id, publicKeyMultibase }],
      assertionMethod: [...doc.assertionMethod, methodId],
    },
  };
}

async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AccordError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

export async function keygen(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const { values } = parseCli(argv, USAGE, {
    did: { type: 'string' },
    out: { type: 'string' },
    'did-json': { type: 'string' },
    force: { type: 'boolean' },
  });
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (typeof values.did !== 'string' || typeof values.out !== 'string') throw usageError('--did and --out are required', USAGE);
  const did = values.did;
  let domain: string;
  try {
    domain = domainOfDid(did);
  } catch (e) {
    throw usageError((e as Error).message, USAGE);
  }
  const keyPath = resolve(values.out);
  const didPath = resolve(typeof values['did-json'] === 'string' ? values['did-json'] : join(dirname(keyPath), 'did.json'));
  if (didPath === keyPath) throw usageError('--out and --did-json must name different files', USAGE);

  // Everything is checked before anything is written, so a refusal leaves no half-made key behind.
  // (The 'wx' flag below is what really guards the key; this only gives the clearer message first.)
  if (!values.force && (await readIfExists(keyPath)) !== null) {
    throw usageError(`${keyPath} already exists; refusing to overwrite a key (pass --force to replace it)`, USAGE);
  }
  const existing = await readIfExists(didPath);
  if (existing !== null && values['did-json'] === undefined && !values.force) {
    throw usageError(
      `${didPath} already exists; pass --did-json ${didPath} to add the new key to it (key rotation), or --force to replace it`,
      USAGE,
    );
  }
  const before = existing !== null && values['did-json'] !== undefined ? parseDidDocument(existing, did, didPath) : newDidDocument(did);
  const oldMethods = before.verificationMethod.map((vm) => absoluteId(did, vm.id));

  const keyPair = generateKeyPair();
  const publicKeyMultibase = encodePublicMultikey(keyPair.publicKey);
  const { doc, methodId } = addKey(before, publicKeyMultibase);
  const keyFile: KeyFile = {
    did,
    verificationMethod: methodId,
    publicKeyMultibase,
    privateKeyMultibase: encodeSecretMultikey(keyPair.secretKey),
  };

  // The document is public: it is written to a temporary file first (its folder made if missing,
  // site/.well-known/ say) and renamed into place once the key is safe, so a web server never
  // serves half a file, and a document that cannot be written stops us before any key exists.
  const tmp = `${didPath}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(didPath), { recursive: true });
    await writeFile(tmp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o644 });
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new AccordError('FILE_UNWRITABLE', `cannot write ${didPath}: ${(e as Error).message}`, { cause: e });
  }
  try {
    if (values.force) {
      // writeFile's mode applies only when it creates the file, so a forced overwrite starts afresh.
      await unlink(keyPath).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
    try {
      // A missing folder is made for the key too, readable by its owner only.
      await mkdir(dirname(keyPath), { recursive: true, mode: 0o700 });
      await writeFile(keyPath, JSON.stringify(keyFile, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw usageError(`${keyPath} already exists; refusing to overwrite a key (pass --force to replace it)`, USAGE);
      throw new AccordError('FILE_UNWRITABLE', `cannot write ${keyPath}: ${(e as Error).message}`, { cause: e });
    }
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  try {
    await rename(tmp, didPath);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new AccordError('FILE_UNWRITABLE', `wrote the key ${keyPath}, but cannot write ${didPath}: ${(e as Error).message}`, { cause: e });
  }

  out(`Wrote the private key ${keyPath} (mode 0600). Keep it secret; anyone holding it can sign for ${domain}.`);
  out(`Verification method: ${methodId}`);
  out(`Wrote the DID document ${didPath}. Publish it at https://${domain}/.well-known/did.json`);
  out(`  (served as application/json or application/did+json, over https, without redirects).`);
  if (existing === null && values['did-json'] !== undefined) {
    // A rotation aimed at the wrong path would otherwise pass for one: say which it was.
    out(`No document existed at ${didPath}: this is a new one, listing only ${methodId}.`);
    out(`(For a key rotation, name the did.json you publish with --did-json.)`);
  }
  if (oldMethods.length > 0) {
    out(`Key rotation: the document now lists ${[...oldMethods, methodId].join(', ')}.`);
    out(`Sign with the new key (accord-sign --key ${values.out}). Once the old key is no longer needed (at once if it may be`);
    out(`compromised), remove ${oldMethods.join(', ')} from verificationMethod and assertionMethod and publish the document again;`);
    out(`the registry stops accepting a key as soon as the published document no longer lists it.`);
  }
  return 0;
}

await runCli(import.meta.url, keygen);
