import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/core/crypto/ed25519.ts';
import { encodePublicMultikey, encodeSecretMultikey } from '../../src/core/crypto/multikey.ts';
import { loadKeyFile } from '../../src/cli/key-file.ts';

const VECTORS = new URL('../../../shared/vectors/eddsa-jcs-2022/', import.meta.url);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'accord-keyfile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(name: string, content: unknown, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  await chmod(path, mode);
  return path;
}

function freshKey(): Record<string, string> {
  const kp = generateKeyPair();
  return {
    did: 'did:web:example.com',
    verificationMethod: 'did:web:example.com#key-1',
    publicKeyMultibase: encodePublicMultikey(kp.publicKey),
    privateKeyMultibase: encodeSecretMultikey(kp.secretKey),
  };
}

describe('loadKeyFile', () => {
  describe('with the W3C vector key pair (keyPair.json)', () => {
    it('loads it and derives the same public key', async () => {
      const pair = JSON.parse(await readFile(new URL('keyPair.json', VECTORS), 'utf8')) as Record<string, string>;
      const path = await keyFile('vector.json', { did: 'did:web:vc.example', verificationMethod: 'did:web:vc.example#key-1', ...pair });
      const key = await loadKeyFile(path);
      expect(key.domain).toBe('vc.example');
      expect(encodePublicMultikey(key.keyPair.publicKey)).toBe(pair.publicKeyMultibase);
    });
  });

  describe('when the file is readable by group or others', () => {
    it.each([0o644, 0o640, 0o604])('refuses mode %o with KEY_FILE_PERMISSIONS and says to chmod 600', async (mode) => {
      const path = await keyFile(`open-${mode.toString(8)}.json`, freshKey(), mode);
      await expect(loadKeyFile(path)).rejects.toMatchObject({ code: 'KEY_FILE_PERMISSIONS', message: expect.stringContaining(`chmod 600 ${path}`) });
    });
  });

  describe('when it is the public did.json, given by mistake', () => {
    it.each([0o644, 0o600])('says so (KEY_FILE_INVALID) rather than asking for chmod, at mode %o', async (mode) => {
      const doc = { id: 'did:web:example.com', verificationMethod: [{ id: 'did:web:example.com#key-1', type: 'Multikey', publicKeyMultibase: freshKey().publicKeyMultibase }] };
      const path = await keyFile(`did-${mode.toString(8)}.json`, doc, mode);
      await expect(loadKeyFile(path)).rejects.toMatchObject({ code: 'KEY_FILE_INVALID', message: expect.stringContaining('is a DID document (the public did.json), not a key file') });
    });
  });

  describe('when the public key does not belong to the private key', () => {
    it('fails with KEY_FILE_INVALID', async () => {
      const path = await keyFile('mismatch.json', { ...freshKey(), publicKeyMultibase: freshKey().publicKeyMultibase });
      await expect(loadKeyFile(path)).rejects.toMatchObject({ code: 'KEY_FILE_INVALID', message: expect.stringContaining('does not belong') });
    });
  });

  describe('when a member is missing, extra or malformed', () => {
    it.each([
      ['no did', (k: Record<string, unknown>) => delete k.did],
      ['an extra member', (k: Record<string, unknown>) => (k.note = 'x')],
      ['a method of another DID', (k: Record<string, unknown>) => (k.verificationMethod = 'did:web:other.example#key-1')],
      ['a DID with a port', (k: Record<string, unknown>) => (k.did = 'did:web:example.com%3A443')],
      ['a private key that is not Multikey', (k: Record<string, unknown>) => (k.privateKeyMultibase = 'zzzz')],
    ])('fails with KEY_FILE_INVALID for %s', async (name, mutate) => {
      const k: Record<string, unknown> = freshKey();
      mutate(k);
      const path = await keyFile(`bad-${name.replace(/\W+/g, '-')}.json`, k);
      await expect(loadKeyFile(path)).rejects.toMatchObject({ code: 'KEY_FILE_INVALID' });
    });

    it('fails with KEY_FILE_INVALID for a file that is not JSON', async () => {
      const path = await keyFile('not-json.json', '{"did": ');
      await expect(loadKeyFile(path)).rejects.toMatchObject({ code: 'KEY_FILE_INVALID' });
    });
  });

  describe('when the file does not exist', () => {
    it('fails with KEY_FILE_UNREADABLE', async () => {
      await expect(loadKeyFile(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'KEY_FILE_UNREADABLE' });
    });
  });
});
