/**
 * Reads a fetch `Response` body into one array, refusing more than `maxBytes` without buffering
 * the rest: a declared Content-Length over the cap is refused before reading, and a body that
 * grows past it is abandoned at once (leaving the loop cancels the stream). The command line's API
 * client (cli/http.ts) and the auditor's registry reader (audit/source.ts) read hostile servers
 * with it; each names its own error.
 */
import { concatBytes } from '../core/bytes.ts';

/** `declared`: the Content-Length over the cap, or null when the body itself grew past it. */
export type TooLarge = (declared: number | null) => Error;

export async function readCappedBody(res: Response, maxBytes: number, tooLarge: TooLarge): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw tooLarge(declared);
  }
  if (res.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of res.body) {
    n += chunk.length;
    if (n > maxBytes) throw tooLarge(null);
    chunks.push(chunk);
  }
  return concatBytes(...chunks);
}
