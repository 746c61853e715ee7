/**
 * Sources of accord-verify against a real HTTP server on 127.0.0.1 and real directories: what is
 * read, what a 404 becomes (a finding) and what a 5xx or an unreachable server becomes (could not
 * check, SOURCE_UNAVAILABLE).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.ts';
import { openSource } from '../../src/audit/source.ts';
import { serveDirectory, type StaticServer } from './static-server.ts';

const GENESIS = new URL('../../../shared/vectors/registry-mirrors/genesis/', import.meta.url).pathname;
const HOLDOUT_KEY = 'holdout.accord.example/log+d8761c85+AWrxEOMrpToy6O3mGuYU48K0I0ldpSNZrJ9WNF/7IC6Q';

let server: StaticServer;
beforeAll(async () => {
  server = await serveDirectory(GENESIS);
});
afterAll(async () => {
  await server.close();
});

const audit = async (url: string) => runAudit(await openSource(url), { logKey: HOLDOUT_KEY, stateCheckpoint: null, workers: 0 });

describe('openSource', () => {
  describe('a registry URL', () => {
    it('verifies the mirror served over HTTP, reading only the well-known file and /log/', async () => {
      server.requests.length = 0;
      const r = await audit(server.url);
      expect(r.findings).toEqual([]);
      expect(r.ok).toBe(true);
      expect(server.requests.length).toBeGreaterThan(0);
      expect(server.requests.every((p) => p === '/.well-known/accord-registry.json' || p.startsWith('/log/'))).toBe(true);
    });

    it('keeps a path prefix of the site root, with or without a final slash', async () => {
      const all = await serveDirectory(new URL('..', `file://${GENESIS}`).pathname);
      try {
        for (const root of [`${all.url}genesis`, `${all.url}genesis/`]) {
          const r = await audit(root);
          expect(r.ok).toBe(true);
        }
        expect(all.requests).toContain('/genesis/log/checkpoint');
      } finally {
        await all.close();
      }
    });

    it('turns a 404 for a tile into a finding naming the first index it covers', async () => {
      server.override('/log/tile/0/000.p/15', 404);
      try {
        const r = await audit(server.url);
        expect(r.ok).toBe(false);
        expect(r.findings.map((f) => `${f.index}:${f.code}`)).toEqual(['0:TILE_MISSING']);
      } finally {
        server.restore('/log/tile/0/000.p/15');
      }
    });

    it('turns a 500 into SOURCE_UNAVAILABLE (could not check)', async () => {
      const broken = await serveDirectory(GENESIS);
      broken.override('/log/tile/entries/000.p/15', 500);
      try {
        await expect(audit(broken.url)).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
      } finally {
        await broken.close();
      }
    });

    it('turns a refused connection into SOURCE_UNAVAILABLE', async () => {
      const gone = await serveDirectory(GENESIS);
      const url = gone.url;
      await gone.close();
      await expect(audit(url)).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    });
  });

  describe('a local path', () => {
    let tmp: string;
    beforeAll(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'accord-source-'));
    });
    afterAll(async () => {
      await rm(tmp, { recursive: true, force: true });
    });

    it('reads a mirror directory by site path and gives null for a missing file', async () => {
      const source = await openSource(GENESIS);
      expect(source.kind).toBe('mirror');
      if (source.kind !== 'mirror') return;
      expect(new TextDecoder().decode((await source.fetchFile('log/checkpoint')) ?? new Uint8Array())).toMatch(/^holdout\.accord\.example\/log\n15\n/);
      expect(await source.fetchFile('log/tile/0/001')).toBeNull();
      await expect(source.fetchFile('../secret')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    });

    it('reads a mirror file into memory the caller gives, and gives null for a missing file or a directory', async () => {
      const source = await openSource(GENESIS);
      if (source.kind !== 'mirror' || source.readInto === undefined) throw new Error('a mirror reads into given memory');
      const want = await source.fetchFile('log/checkpoint');
      const room = new Uint8Array(4096);
      const sizes: number[] = [];
      const got = await source.readInto('log/checkpoint', (n) => {
        sizes.push(n);
        return room.subarray(100, 100 + n);
      });
      expect(sizes).toEqual([want?.length]);
      expect(got?.buffer).toBe(room.buffer);
      expect(got).toEqual(want);
      expect(await source.readInto('log/tile/0/001', () => room)).toBeNull();
      expect(await source.readInto('log/tile', () => room)).toBeNull();
      await expect(source.readInto('../secret', () => room)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    });

    it('remembers what it was opened from, so that another thread can open it again', async () => {
      const source = await openSource(GENESIS);
      expect(source.kind === 'mirror' && source.target).toBe(GENESIS.replace(/\/$/, ''));
      const web = await openSource(`${server.url}/x`);
      expect(web.kind === 'registry' && web.target).toBe(`${server.url}/x/`);
    });

    it('throws SOURCE_UNAVAILABLE for a path that does not exist', async () => {
      await expect(openSource(join(tmp, 'nothing-here'))).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    });
  });
});
