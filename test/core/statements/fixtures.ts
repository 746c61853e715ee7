// Deterministic keys and one valid signed statement of each type, for the statement tests.
import { readFileSync } from 'node:fs';
import { sha256, utf8 } from '../../../src/core/bytes.ts';
import { keyPairFromSeed } from '../../../src/core/crypto/ed25519.ts';
import { didKeyFromPublicKey, didKeyVerificationMethod, encodePublicMultikey } from '../../../src/core/crypto/multikey.ts';
import { isAccordError } from '../../../src/core/errors.ts';
import { canonicalBytes } from '../../../src/core/json/canonical.ts';
import { buildAccordText, buildAttestation, buildNotice, buildPledge, buildWithdrawal, secureStatement } from '../../../src/core/statements/build.ts';
import { statementDigest } from '../../../src/core/statements/digest.ts';
import type { Statement } from '../../../src/core/statements/types.ts';

export const VECTORS = new URL('../../../../shared/vectors/', import.meta.url);
export const ACCORD_FILE = new URL('../../../data/accords/tech-sector-1.json', import.meta.url);

export const ALPHA = keyPairFromSeed(sha256(utf8('accord test key: alpha.example')));
export const OTHER = keyPairFromSeed(sha256(utf8('accord test key: someone else')));
export const REGISTRY = keyPairFromSeed(sha256(utf8('accord test key: registry')));

export const ALPHA_DID = 'did:web:alpha.example';
export const ALPHA_METHOD = `${ALPHA_DID}#key-1`;
export const REGISTRY_DID = didKeyFromPublicKey(REGISTRY.publicKey);
export const REGISTRY_METHOD = didKeyVerificationMethod(REGISTRY.publicKey);
export const T0 = '2026-11-22T10:00:00Z';

export function accordFileText(): string {
  return readFileSync(ACCORD_FILE, 'utf8');
}

export function signedAccordText(): Statement {
  const doc = buildAccordText(JSON.parse(accordFileText()), { issuerDid: REGISTRY_DID, validFrom: T0 });
  return secureStatement(doc, REGISTRY, REGISTRY_METHOD, T0);
}

export const ACCORD_DIGEST = statementDigest(canonicalBytes(signedAccordText()));

export function signedAttestation(): Statement {
  const doc = buildAttestation({
    registryDid: REGISTRY_DID,
    did: ALPHA_DID,
    url: 'https://alpha.example/.well-known/did.json',
    observedAt: T0,
    documentDigest: statementDigest(utf8('{"id":"did:web:alpha.example"}')),
    verificationMethods: [{ id: ALPHA_METHOD, publicKeyMultibase: encodePublicMultikey(ALPHA.publicKey) }],
    validFrom: T0,
  });
  return secureStatement(doc, REGISTRY, REGISTRY_METHOD, T0);
}

export function signedPledge(): Statement {
  const doc = buildPledge({
    did: ALPHA_DID,
    name: 'Alpha Corp',
    accord: ACCORD_DIGEST,
    principles: [1, 2, 3, 4, 5, 6],
    previous: null,
    country: 'CH',
    links: { website: 'https://alpha.example/', securityTxt: 'https://alpha.example/.well-known/security.txt' },
    validFrom: T0,
  });
  return secureStatement(doc, ALPHA, ALPHA_METHOD, T0);
}

export function signedWithdrawal(): Statement {
  const previous = statementDigest(canonicalBytes(signedPledge()));
  const doc = buildWithdrawal({ did: ALPHA_DID, accord: ACCORD_DIGEST, previous, reason: 'Leaving the sector.', validFrom: T0 });
  return secureStatement(doc, ALPHA, ALPHA_METHOD, T0);
}

export function signedNotice(): Statement {
  const doc = buildNotice({ registryDid: REGISTRY_DID, did: ALPHA_DID, action: 'delist', reason: 'security.txt unreachable for 30 days', validFrom: T0 });
  return secureStatement(doc, REGISTRY, REGISTRY_METHOD, T0);
}

export const DELETE = Symbol('delete');

/**
 * A JSON copy of `doc` with the value at `path` replaced (or removed with DELETE). Intermediate
 * members must exist.
 */
export function mutate(doc: unknown, path: readonly (string | number)[], value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(doc)) as unknown;
  if (path.length === 0) return value;
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === DELETE) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else {
    node[last] = value;
  }
  return copy;
}

/** The AccordError code thrown by fn, or 'NO ERROR' / 'NOT AN ACCORD ERROR: ...'. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isAccordError(e) ? e.code : `NOT AN ACCORD ERROR: ${String(e)}`;
  }
  return 'NO ERROR';
}

/** Decodes a tlog-tiles entry bundle: big-endian uint16 length, then that many bytes, repeated. */
export function decodeBundle(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (o + 2 > bytes.length) throw new Error('truncated length prefix');
    const n = ((bytes[o] as number) << 8) | (bytes[o + 1] as number);
    o += 2;
    if (o + n > bytes.length) throw new Error('truncated entry');
    out.push(bytes.subarray(o, o + n));
    o += n;
  }
  return out;
}
