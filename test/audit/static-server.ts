/**
 * A real HTTP server on 127.0.0.1 serving a mirror directory at the registry's URL paths, with
 * per-path overrides (a status code instead of the file) to play a broken registry.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface StaticServer {
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  /** Answer this URL path (e.g. `/log/checkpoint`) with this status and no body. */
  override(path: string, status: number): void;
  /** Serve the file again. */
  restore(path: string): void;
  close(): Promise<void>;
}

export async function serveDirectory(root: string): Promise<StaticServer> {
  const overrides = new Map<string, number>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const status = overrides.get(path);
    if (status !== undefined) {
      res.writeHead(status).end();
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    override: (path, status) => overrides.set(path, status),
    restore: (path) => overrides.delete(path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
