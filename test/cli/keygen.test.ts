import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePublicMultikey } from '../../src/core/crypto/multikey.ts';
import { loadKeyFile } from '../../src/cli/key-file.ts';
import { runTool } from './run-tool.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'accord-keygen-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

describe('accord-keygen', () => {
  describe('for a new signatory', () => {
    let result: Awaited<ReturnType<typeof runTool>>;
    beforeAll(async () => {
      result = await runTool('keygen', ['--did', 'did:web:example.com', '--out', 'key.json'], { cwd: dir });
    });

    it('exits 0 and says where to publish the DID document', () => {
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('https://example.com/.well-known/did.json');
    });

    it('writes the key file with mode 0600 and the four Multikey members', async () => {
      const path = join(dir, 'key.json');
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const key = await readJson(path);
      expect(Object.keys(key).sort()).toEqual(['did', 'privateKeyMultibase', 'publicKeyMultibase', 'verificationMethod']);
      expect(key.did).toBe('did:web:example.com');
      expect(key.verificationMethod).toBe('did:web:example.com#key-1');
      expect(key.publicKeyMultibase).toMatch(/^z6Mk/);
      expect(key.privateKeyMultibase).toMatch(/^z3u2/);
      // The private key derives the public key (loadKeyFile checks exactly that).
      const loaded = await loadKeyFile(path);
      expect(decodePublicMultikey(key.publicKeyMultibase)).toEqual(loaded.keyPair.publicKey);
    });

    it('writes did.json next to the key listing the key under assertionMethod', async () => {
      const key = await readJson(join(dir, 'key.json'));
      const doc = await readJson(join(dir, 'did.json'));
      expect(doc['@context']).toEqual(['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1']);
      expect(doc.id).toBe('did:web:example.com');
      expect(doc.verificationMethod).toEqual([
        { id: 'did:web:example.com#key-1', type: 'Multikey', controller: 'did:web:example.com', publicKeyMultibase: key.publicKeyMultibase },
      ]);
      expect(doc.assertionMethod).toEqual(['did:web:example.com#key-1']);
    });
  });

  describe('when the key file already exists', () => {
    it('refuses to overwrite it (exit 2) and leaves it unchanged', async () => {
      const path = join(dir, 'existing.json');
      await writeFile(path, 'precious', { mode: 0o600 });
      const r = await runTool('keygen', ['--did', 'did:web:example.com', '--out', path, '--did-json', join(dir, 'other-did.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/already exists/);
      expect(await readFile(path, 'utf8')).toBe('precious');
    });

    it('replaces it with --force, with mode 0600 again', async () => {
      const path = join(dir, 'forced.json');
      await writeFile(path, 'old', { mode: 0o644 });
      const r = await runTool('keygen', ['--did', 'did:web:force.example', '--out', path, '--did-json', join(dir, 'forced-did.json'), '--force']);
      expect(r.code).toBe(0);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await loadKeyFile(path)).did).toBe('did:web:force.example');
    });
  });

  describe('with --did-json naming an existing document (key rotation)', () => {
    it('adds the new key as the next #key-N, keeps the old one and says to remove it afterwards', async () => {
      const sub = await mkdtemp(join(dir, 'rotate-'));
      const first = await runTool('keygen', ['--did', 'did:web:acme.test', '--out', 'key-1.json'], { cwd: sub });
      expect(first.code).toBe(0);
      const r = await runTool('keygen', ['--did', 'did:web:acme.test', '--out', 'key-2.json', '--did-json', 'did.json'], { cwd: sub });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/remove did:web:acme\.test#key-1/);
      const doc = await readJson(join(sub, 'did.json'));
      const key1 = await readJson(join(sub, 'key-1.json'));
      const key2 = await readJson(join(sub, 'key-2.json'));
      expect(key2.verificationMethod).toBe('did:web:acme.test#key-2');
      expect((doc.verificationMethod as { id: string; publicKeyMultibase: string }[]).map((m) => [m.id, m.publicKeyMultibase])).toEqual([
        ['did:web:acme.test#key-1', key1.publicKeyMultibase],
        ['did:web:acme.test#key-2', key2.publicKeyMultibase],
      ]);
      expect(doc.assertionMethod).toEqual(['did:web:acme.test#key-1', 'did:web:acme.test#key-2']);
      expect(r.stdout).not.toMatch(/No document existed/);
    });

    it('says so when no document exists at that path (making its folder), so a mistyped rotation does not pass for one', async () => {
      const sub = await mkdtemp(join(dir, 'rotate-missing-'));
      const r = await runTool('keygen', ['--did', 'did:web:acme.test', '--out', 'key-2.json', '--did-json', 'site/did.json'], { cwd: sub });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`No document existed at ${join(sub, 'site', 'did.json')}: this is a new one, listing only did:web:acme.test#key-1.`);
      expect((await readJson(join(sub, 'site', 'did.json'))).assertionMethod).toEqual(['did:web:acme.test#key-1']);
      expect((await readJson(join(sub, 'key-2.json'))).verificationMethod).toBe('did:web:acme.test#key-1');
    });

    it('refuses a document of another DID (exit 2)', async () => {
      const path = join(dir, 'foreign-did.json');
      await writeFile(path, JSON.stringify({ id: 'did:web:other.example', verificationMethod: [], assertionMethod: [] }));
      const r = await runTool('keygen', ['--did', 'did:web:example.com', '--out', join(dir, 'foreign-key.json'), '--did-json', path]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/did:web:other\.example/);
      await expect(stat(join(dir, 'foreign-key.json'))).rejects.toThrow(/ENOENT/);
    });
  });

  describe('when the DID is not a bare-domain did:web', () => {
    it.each([['did:web:example.com%3A8443'], ['did:web:example.com:user:alice']])(
      'refuses %s with exit 2 and writes nothing',
      async (did) => {
        const out = join(dir, `bad-${did.length}.json`);
        const r = await runTool('keygen', ['--did', did, '--out', out, '--did-json', join(dir, `bad-${did.length}-did.json`)]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/did:web/);
        await expect(stat(out)).rejects.toThrow(/ENOENT/);
      },
    );
  });

  describe('when --out is missing', () => {
    it('prints the usage and exits 2', async () => {
      const r = await runTool('keygen', ['--did', 'did:web:example.com']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/usage: accord-keygen/);
    });
  });
});
