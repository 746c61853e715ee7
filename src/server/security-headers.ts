/**
 * The security headers of every answer (helmet): a strict CSP (no inline script or style, nothing
 * from other origins, no framing), nosniff, no referrer, and the rest of helmet's defaults.
 *
 * The express app mounts helmet as middleware. The submission endpoint (submit-endpoint.ts) runs
 * outside express, so it sends the same headers from a list taken once from helmet itself: the
 * options below go through helmet and whatever helmet sets is recorded, so the two can never
 * drift apart (a test compares them).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/** DESIGN 7 pages: no inline script or style, nothing from other origins, no framing. */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'self'"],
};

/** helmet configured for the registry. */
export function securityMiddleware(): ReturnType<typeof helmet> {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    // X-Frame-Options for browsers without CSP frame-ancestors: no framing at all.
    frameguard: { action: 'deny' },
    // Same-origin pages only; the API and log are readable cross-origin where they say so.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
}

/**
 * The headers helmet sets, as [name, value] pairs, recorded by running the middleware once on a
 * response that only takes notes. Our directives depend on nothing in the request.
 */
export function securityHeaderList(): readonly (readonly [string, string])[] {
  const headers = new Map<string, readonly [string, string]>();
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.set(name.toLowerCase(), [name, Array.isArray(value) ? value.join(', ') : String(value)]);
      return recorder;
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
    },
    getHeader(name: string) {
      return headers.get(name.toLowerCase())?.[1];
    },
  };
  let done = false;
  securityMiddleware()({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err !== undefined) throw err;
    done = true;
  });
  // helmet runs its parts synchronously; if a version ever did not, the list would be partial.
  if (!done) throw new Error('helmet did not finish synchronously: the security headers could not be recorded');
  return [...headers.values()];
}
