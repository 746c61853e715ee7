/**
 * The log for machines (DESIGN sections 5, 6, 7): C2SP tlog-tiles under /log/, the registry's keys
 * at /.well-known/accord-registry.json, and the offline proof bundle of a signatory. Any C2SP
 * tlog client reads /log/ without knowing anything else about this registry.
 */
import express from 'express';
import type { Response, Router } from 'express';
import { utf8 } from '../../core/bytes.ts';
import { AccordError, describeValue } from '../../core/errors.ts';
import { didWebFromDomain } from '../../core/statements/did.ts';
import { AnswerCache, sendAnswer } from '../answer-cache.ts';
import { buildProofBundle, type BundleSource } from '../bundle.ts';

/** tlog-tiles: full tiles never change; partial tiles are replaced as the log grows. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const PARTIAL_TILE_CACHE = 'public, max-age=10';
/** The checkpoint changes with every batch: always revalidate. */
export const CHECKPOINT_CACHE = 'no-cache';

function publicRead(res: Response): void {
  // Public, read-only data: any origin may read it (a browser-based auditor, a mirror).
  res.set('Access-Control-Allow-Origin', '*');
}

export function logRouter(src: BundleSource): Router {
  const router = express.Router();
  // A bundle holds a proof per entry: built again only once the log grew (answer-cache.ts). The
  // signatory page's script fetches it on every view.
  const bundles = new AnswerCache({ maxEntries: 256 });

  router.get('/log/checkpoint', async (_req, res) => {
    const cp = await src.reader.latestCheckpoint();
    if (cp === undefined) throw new AccordError('NOT_FOUND', 'the log is empty');
    publicRead(res);
    res.set('Cache-Control', CHECKPOINT_CACHE);
    res.type('text/plain; charset=utf-8').send(Buffer.from(utf8(cp.note)));
  });

  // Express 5 path syntax: *path matches the rest, as segments.
  router.get('/log/tile/*path', async (req, res) => {
    const segments = (req.params as { path?: string[] }).path ?? [];
    const path = `tile/${segments.join('/')}`;
    const bytes = await src.reader.readTile(path);
    if (bytes === null) throw new AccordError('NOT_FOUND', `no tile ${describeValue(path)} at the latest checkpoint's size`);
    publicRead(res);
    res.set('Cache-Control', path.includes('.p/') ? PARTIAL_TILE_CACHE : IMMUTABLE);
    res.type('application/octet-stream').send(Buffer.from(bytes));
  });

  router.get('/.well-known/accord-registry.json', (_req, res) => {
    publicRead(res);
    res.set('Cache-Control', 'public, max-age=300');
    res.json({ origin: src.keys.origin, logKey: src.keys.logVerifierKey, attestationKey: src.keys.attestationDid });
  });

  router.get('/signatories/:domain/proof.json', async (req, res) => {
    const domain = String(req.params.domain);
    const did = didWebFromDomain(domain);
    if (did === null) throw new AccordError('INVALID_DOMAIN', `not a domain a signatory did:web can name: ${describeValue(domain)}`);
    const answer = await bundles.get(did, await src.reader.size(), async () => {
      const bundle = await buildProofBundle(src, did);
      if (bundle === null) throw new AccordError('NOT_FOUND', `${domain} has no statement in the log`);
      return JSON.stringify(bundle);
    });
    publicRead(res);
    res.set('Cache-Control', 'no-cache');
    res.set('Content-Disposition', `attachment; filename="${domain}-proof.json"`);
    sendAnswer(res, 'application/json; charset=utf-8', answer);
  });

  return router;
}
