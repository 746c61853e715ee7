/**
 * The client's address, as express's `req.ip` computes it (proxy-addr, the same library): the
 * socket's peer, or, behind reverse proxies the operator trusts (TRUST_PROXY, config.ts), the
 * address those proxies vouch for in X-Forwarded-For. The submission rate limit counts by it.
 */
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { Config } from '../config.ts';

export type ClientAddress = (req: IncomingMessage) => string;

export function clientAddress(trustProxy: Config['trustProxy']): ClientAddress {
  // As express's compileTrust: a hop count trusts that many proxies; a list trusts those addresses.
  const trust = trustProxy === null ? () => false : typeof trustProxy === 'number' ? (_addr: string, i: number) => i < trustProxy : proxyaddr.compile(trustProxy);
  return (req) => proxyaddr(req, trust);
}
