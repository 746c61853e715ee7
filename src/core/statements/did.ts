/**
 * The two DID forms a statement can name (DESIGN 2 and 4): a signatory's `did:web` (a bare domain)
 * and the registry's `did:key`, with the verification-method forms each uses.
 */
import { didKeyFromPublicKey, publicKeyFromDidKey } from '../crypto/multikey.ts';
import { isAccordError } from '../errors.ts';

const DID_WEB_PREFIX = 'did:web:';

// RFC 1035 / RFC 1123 host names: LDH labels of 1-63 characters, not starting or ending with '-'.
// Lowercase only: a registry keyed by domain must not hold did:web:Example.com and
// did:web:example.com as two signatories (DNS names compare case-insensitively, RFC 4343).
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN_RE = new RegExp(`^(?:${LABEL}\\.)+${LABEL}$`);

/**
 * Why a string is not a signatory DID, or null if it is one. The did:web method allows a port
 * (`%3A`) and a path (`:`-separated); DESIGN 4 admits only a bare domain: at least two labels,
 * no port, no path, no IP address (did:web: "MUST NOT include IP addresses"), at most 253
 * characters (RFC 1035 2.3.4).
 */
export function didWebProblem(did: unknown): string | null {
  if (typeof did !== 'string') return 'a did:web must be a string';
  if (!did.startsWith(DID_WEB_PREFIX)) return 'expected a did:web (did:web:<domain>)';
  const domain = did.slice(DID_WEB_PREFIX.length);
  if (domain.length === 0) return 'the did:web names no domain';
  if (domain.length > 253) return 'the domain is longer than 253 characters';
  if (domain.includes(':')) return 'a signatory did:web is a bare domain: no path';
  if (/%3a/i.test(domain)) return 'a signatory did:web is a bare domain: no port';
  if (domain.includes('%')) return 'a signatory did:web is a bare domain: no percent-encoding';
  if (domain !== domain.toLowerCase()) return 'the domain must be lowercase';
  if (!DOMAIN_RE.test(domain)) return 'the domain must be LDH labels separated by dots, at least two labels (IDNs in their xn-- form)';
  if (/^[0-9]+$/.test(domain.slice(domain.lastIndexOf('.') + 1))) return 'an IP address is not a did:web domain';
  return null;
}

export function isDidWeb(did: unknown): did is string {
  return didWebProblem(did) === null;
}

/** `did:web:example.com` -> `example.com`; null if not a signatory DID. */
export function domainOfDidWeb(did: unknown): string | null {
  return isDidWeb(did) ? did.slice(DID_WEB_PREFIX.length) : null;
}

/** `example.com` -> `did:web:example.com`; null if the domain is not one a signatory DID can name. */
export function didWebFromDomain(domain: unknown): string | null {
  if (typeof domain !== 'string') return null;
  const did = DID_WEB_PREFIX + domain;
  return isDidWeb(did) ? did : null;
}

// RFC 3986 3.5: fragment = *( pchar / "/" / "?" ); non-empty here, as a method needs a name.
const FRAGMENT_RE = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})+$/;

/** True if `method` is `<did>#<fragment>`: a verification method of that did:web. */
export function isDidWebMethodOf(method: unknown, did: string): method is string {
  if (typeof method !== 'string' || !method.startsWith(`${did}#`)) return false;
  return FRAGMENT_RE.test(method.slice(did.length + 1));
}

/**
 * did:keys already found canonical. A log's registry statements all name one or two (the
 * attestation key), and the decode and re-encode below cost more than the rest of a statement's
 * schema check; a hit is an exact string match, so the verdict is unchanged. Bounded: cleared
 * when full.
 */
const knownDidKeys = new Set<string>();
const KNOWN_DID_KEYS_MAX = 64;

/** True if `did` is a canonical Ed25519 did:key (`did:key:z6Mk...`, no fragment). */
export function isDidKey(did: unknown): did is string {
  if (typeof did !== 'string' || did.includes('#')) return false;
  if (knownDidKeys.has(did)) return true;
  try {
    const canonical = didKeyFromPublicKey(publicKeyFromDidKey(did)) === did;
    if (canonical) {
      if (knownDidKeys.size >= KNOWN_DID_KEYS_MAX) knownDidKeys.clear();
      knownDidKeys.add(did);
    }
    return canonical;
  } catch (e) {
    if (isAccordError(e)) return false;
    throw e;
  }
}

/** The did:key method's verification method form: `did:key:X#X` (did:key spec, section 3.1.2). */
export function didKeyMethodOf(did: string): string {
  return `${did}#${did.slice('did:key:'.length)}`;
}
