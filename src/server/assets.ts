/**
 * Static assets of the pages, all served from this site (no CDN, no fonts from elsewhere):
 * public/ under /assets/, and /assets/accord-core.js, the browser build of the core's bundle
 * verifier (src/core/browser-verify.ts) made by esbuild in memory when the server starts, so the
 * browser runs exactly the code in this checkout. A build failure fails the start, not a request.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import express from 'express';
import type { Router } from 'express';
import { AccordError } from '../core/errors.ts';

export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
const ENTRY = fileURLToPath(new URL('../core/browser-verify.ts', import.meta.url));

export interface BuiltAsset {
  body: Buffer;
  /** Strong ETag: a hash of the bytes. */
  etag: string;
}

let coreBundle: BuiltAsset | undefined;

/**
 * Bundles the core's browser entry point (ES module, browser platform) into memory. Built once per
 * process and cached; esbuild ships with tsx, so no extra dependency is needed.
 */
export function buildCoreBundle(): BuiltAsset {
  if (coreBundle !== undefined) return coreBundle;
  let out: Uint8Array;
  try {
    const result = buildSync({
      entryPoints: [ENTRY],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      minify: true,
      legalComments: 'inline',
      logLevel: 'silent',
    });
    const file = result.outputFiles[0];
    if (file === undefined) throw new Error('esbuild produced no output');
    out = file.contents;
  } catch (cause) {
    throw new AccordError('ASSET_BUILD_FAILED', `cannot build the browser bundle of ${ENTRY}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const body = Buffer.from(out);
  coreBundle = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
  return coreBundle;
}

/** Mounts /assets/*: the browser core bundle and the files of public/. */
export function assetsRouter(): Router {
  const core = buildCoreBundle();
  const router = express.Router();
  router.get('/assets/accord-core.js', (req, res) => {
    res.set('Content-Type', 'text/javascript; charset=utf-8');
    res.set('Cache-Control', 'public, max-age=300');
    res.set('ETag', core.etag);
    if (req.get('if-none-match') === core.etag) {
      res.status(304).end();
      return;
    }
    res.send(core.body);
  });
  // Browsers ask for /favicon.ico on their own (for the feed or the JSON, say): the icon is an SVG.
  router.get('/favicon.ico', (_req, res) => {
    res.redirect(301, '/assets/favicon.svg');
  });
  router.use(
    '/assets',
    express.static(PUBLIC_DIR, {
      index: false,
      dotfiles: 'ignore',
      fallthrough: true,
      maxAge: '5m',
      setHeaders(res, filePath) {
        if (filePath.endsWith('.js')) res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
      },
    }),
  );
  return router;
}
