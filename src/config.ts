/**
 * The registry's configuration, read from the environment (DESIGN section 9). `loadConfig` is
 * pure (it reads only the object it is given), so every rule is tested without touching
 * process.env. A bad value is a startup error (code CONFIG_INVALID) that names each variable at
 * fault and what it held, never a silent default.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { AccordError, describeValue } from './core/errors.ts';
import { didWebFromDomain } from './core/statements/did.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  /** The address to listen on (an IP address or a host name); null: every interface. */
  host: string | null;
  /** Database (SQLite) and registry key files. */
  dataDir: string;
  /** A postgres:// URL, or null for SQLite in dataDir. */
  databaseUrl: string | null;
  /** The checkpoint origin line and log key name, e.g. `registry.example.org/log`. */
  origin: string;
  /** Operator-mapped did:web hosts (DESIGN section 4): domain -> base URL, see parseDidWebHosts. */
  didWebHosts: ReadonlyMap<string, URL>;
  /** Submissions per minute per client address; 0 turns the limit off. */
  submitRateLimit: number;
  /**
   * Which reverse proxies' X-Forwarded-For to believe (express's "trust proxy"): a number of
   * hops, or addresses, CIDR blocks and the names loopback, linklocal, uniquelocal; null: none,
   * the client address is the socket's.
   */
  trustProxy: number | string[] | null;
  logLevel: LogLevel;
}

export const DEFAULTS = {
  port: 3000,
  dataDir: 'data/registry/',
  origin: 'localhost/log',
  submitRateLimit: 30,
  logLevel: 'info' as LogLevel,
} as const;

const decimal = (name: string, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,10}$/, `${name} must be a whole decimal number`)
    .transform((s) => Number(s))
    .refine((n) => n <= max, `${name} must be at most ${max}`);

// C2SP signed-note: a key name is non-empty and holds no whitespace and no '+'; the checkpoint
// origin is the same string (DESIGN 5). We also keep it to printable ASCII so it is one clean line.
const ORIGIN_RE = /^[\x21-\x2a\x2c-\x7e]{1,255}$/;

// An IPv4 or IPv6 literal, or a DNS host name (RFC 1123 labels), as net.Server#listen takes it.
const HOST_RE = /^(?:[0-9A-Fa-f:.]+(?:%[0-9A-Za-z]+)?|(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)$/;

const schema = z.object({
  PORT: decimal('PORT', 65535).default(DEFAULTS.port),
  HOST: z
    .string()
    .regex(HOST_RE, { message: 'HOST must be an IP address or a host name, e.g. 127.0.0.1 (leave it unset to listen on every interface)', abort: true })
    .refine((h) => !h.includes(':') || isIP(h.replace(/%.*$/, '')) === 6, 'HOST with a colon must be an IPv6 address')
    .refine((h) => !/^[0-9.]+$/.test(h) || isIP(h) === 4, 'HOST made of digits and dots must be an IPv4 address')
    .nullable()
    .default(null),
  DATA_DIR: z.string().min(1, 'DATA_DIR must not be empty').default(DEFAULTS.dataDir),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(?:ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL (leave it unset for SQLite)')
    .nullable()
    .default(null),
  REGISTRY_ORIGIN: z
    .string()
    .regex(ORIGIN_RE, 'REGISTRY_ORIGIN must be the log URL without its scheme (printable ASCII, no spaces, no "+")')
    .default(DEFAULTS.origin),
  DID_WEB_HOSTS: z.string().default(''),
  SUBMIT_RATE_LIMIT: decimal('SUBMIT_RATE_LIMIT', 1_000_000).default(DEFAULTS.submitRateLimit),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(DEFAULTS.logLevel),
});

/**
 * Parses `DID_WEB_HOSTS`: `domain=base-URL` pairs separated by commas (DESIGN section 4). The base
 * URL is http or https with no credentials, query or fragment; the registry fetches
 * `<base>/.well-known/did.json` for `did:web:<domain>`. Returns the problems found, if any.
 */
export function parseDidWebHosts(value: string): { hosts: Map<string, URL>; problems: string[] } {
  const hosts = new Map<string, URL>();
  const problems: string[] = [];
  if (value.trim() === '') return { hosts, problems };
  for (const raw of value.split(',')) {
    const item = raw.trim();
    const eq = item.indexOf('=');
    if (eq <= 0) {
      problems.push(`DID_WEB_HOSTS entry ${describeValue(item)} is not domain=base-URL`);
      continue;
    }
    const domain = item.slice(0, eq).trim().toLowerCase();
    const base = item.slice(eq + 1).trim();
    // Only a domain that a signatory DID can name (DESIGN 4: a bare domain) is worth mapping.
    if (didWebFromDomain(domain) === null) {
      problems.push(`DID_WEB_HOSTS entry ${describeValue(item)}: ${describeValue(domain)} is not a domain a did:web can name`);
      continue;
    }
    if (hosts.has(domain)) {
      problems.push(`DID_WEB_HOSTS maps ${domain} more than once`);
      continue;
    }
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      problems.push(`DID_WEB_HOSTS entry for ${domain}: ${describeValue(base)} is not a URL`);
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push(`DID_WEB_HOSTS entry for ${domain}: base URL must be http or https, got ${describeValue(url.protocol)}`);
      continue;
    }
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || base.includes('?') || base.includes('#')) {
      problems.push(`DID_WEB_HOSTS entry for ${domain}: base URL must carry no credentials, query or fragment, got ${describeValue(base)}`);
      continue;
    }
    hosts.set(domain, url);
  }
  return { hosts, problems };
}

/** The did.json URL the registry fetches for a mapped base URL: `<base>/.well-known/did.json`. */
export function mappedDocumentUrl(base: URL): URL {
  const u = new URL(base.href);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/.well-known/did.json`;
  return u;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Parses `TRUST_PROXY` (see Config.trustProxy). Everything accepted means the same to express
 * (proxy-addr): a hop count, or a list of addresses and blocks. "true" (believe any client's
 * X-Forwarded-For, so anyone could pick the address the rate limit counts) is refused.
 */
export function parseTrustProxy(value: string | undefined): { trustProxy: number | string[] | null; problems: string[] } {
  if (value === undefined) return { trustProxy: null, problems: [] };
  if (/^[0-9]{1,2}$/.test(value)) {
    const hops = Number(value);
    return { trustProxy: hops === 0 ? null : hops, problems: [] };
  }
  const entries = value.split(',').map((e) => e.trim());
  const problems: string[] = [];
  for (const e of entries) {
    if (PROXY_NAMES.includes(e)) continue;
    const ok = e.includes('/') ? isCidr(e) : ipaddr.isValid(e) && isIP(e) !== 0;
    if (!ok) {
      problems.push(
        `TRUST_PROXY: ${describeValue(e)} is not a proxy address; use a hop count (e.g. 1), or addresses, CIDR blocks and loopback, linklocal, uniquelocal separated by commas`,
      );
    }
  }
  return { trustProxy: problems.length === 0 ? entries : null, problems };
}

function isCidr(s: string): boolean {
  const [addr = '', bits = ''] = s.split('/');
  if (isIP(addr) === 0 || !/^[0-9]{1,3}$/.test(bits)) return false;
  try {
    ipaddr.parseCIDR(s);
    return true;
  } catch {
    return false;
  }
}

/** Reads the configuration from an environment object; throws CONFIG_INVALID listing every problem. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // An empty variable counts as unset, as shells and compose files commonly leave them.
  const pick = (k: string): string | undefined => {
    const v = env[k];
    return v === undefined || v === '' ? undefined : v;
  };
  const input = {
    PORT: pick('PORT'),
    HOST: pick('HOST'),
    DATA_DIR: pick('DATA_DIR'),
    DATABASE_URL: pick('DATABASE_URL'),
    REGISTRY_ORIGIN: pick('REGISTRY_ORIGIN'),
    DID_WEB_HOSTS: pick('DID_WEB_HOSTS'),
    SUBMIT_RATE_LIMIT: pick('SUBMIT_RATE_LIMIT'),
    LOG_LEVEL: pick('LOG_LEVEL'),
  };
  const trust = parseTrustProxy(pick('TRUST_PROXY'));
  const problems: string[] = [];
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const got = (input as Record<string, string | undefined>)[key];
      problems.push(`${key}: ${issue.message} (got ${describeValue(got)})`);
    }
  }
  const { hosts, problems: hostProblems } = parseDidWebHosts(input.DID_WEB_HOSTS ?? '');
  problems.push(...hostProblems, ...trust.problems);
  if (!parsed.success || problems.length > 0) {
    throw new AccordError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`, { details: { problems } });
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir: c.DATA_DIR,
    databaseUrl: c.DATABASE_URL,
    origin: c.REGISTRY_ORIGIN,
    didWebHosts: hosts,
    submitRateLimit: c.SUBMIT_RATE_LIMIT,
    trustProxy: trust.trustProxy,
    logLevel: c.LOG_LEVEL,
  };
}
