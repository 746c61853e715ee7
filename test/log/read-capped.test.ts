/**
 * readCappedBody (src/node/read-capped.ts) against a real HTTP server on 127.0.0.1: a body within
 * the cap is read whole; a declared length over it is refused before reading; a body that grows
 * past it without declaring a length is abandoned, and the server sees the connection go.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCappedBody } from '../../src/node/read-capped.ts';

const CAP = 1000;
let server: Server;
let base: string;
/** Bytes the endless route managed to write before the client went away. */
let endlessWritten = 0;
let endlessClosed: Promise<void>;

beforeAll(async () => {
  let closed: () => void = () => undefined;
  endlessClosed = new Promise((r) => (closed = r));
  server = createServer((req, res) => {
    if (req.url === '/small') res.end(Buffer.alloc(CAP, 7));
    else if (req.url === '/declared') res.writeHead(200, { 'content-length': String(CAP + 1) }).end(Buffer.alloc(CAP + 1));
    else if (req.url === '/endless') {
      // Chunked, no Content-Length: keeps writing until the client closes.
      res.writeHead(200);
      const timer = setInterval(() => {
        res.write(Buffer.alloc(256, 1));
        endlessWritten += 256;
      }, 1);
      res.on('close', () => {
        clearInterval(timer);
        closed();
      });
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const tooLarge = (declared: number | null): Error => new Error(declared === null ? 'grew too large' : `declared ${declared}`);

describe('readCappedBody', () => {
  it('reads a body of exactly the cap', async () => {
    const bytes = await readCappedBody(await fetch(`${base}/small`), CAP, tooLarge);
    expect(bytes.length).toBe(CAP);
    expect(bytes.every((b) => b === 7)).toBe(true);
  });

  it('refuses a declared length over the cap before reading', async () => {
    await expect(readCappedBody(await fetch(`${base}/declared`), CAP, tooLarge)).rejects.toThrow(`declared ${CAP + 1}`);
  });

  it('abandons a body without a length once it passes the cap, closing the connection', async () => {
    await expect(readCappedBody(await fetch(`${base}/endless`), CAP, tooLarge)).rejects.toThrow('grew too large');
    await endlessClosed;
    // The server stopped shortly after the cap, not after an unbounded amount.
    expect(endlessWritten).toBeLessThan(1_000_000);
  });
});
