import { chmod, copyFile, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair, sign, verify } from '../../src/core/crypto/ed25519.ts';
import { encodePublicMultikey, encodeSecretMultikey, publicKeyFromDidKey } from '../../src/core/crypto/multikey.ts';
import { parseVerifierKey } from '../../src/core/log/note.ts';
import { openDatabase, type DatabaseHandle } from '../../src/storage/db.ts';
import { getAllMeta } from '../../src/storage/meta-repo.ts';
import { ATTESTATION_KEY_FILE, LOG_KEY_FILE, loadRegistryKeys } from '../../src/storage/registry-keys.ts';
import { useEngines, useTempDirs } from './engines.ts';

const ORIGIN = 'keys.test/log';
const engines = useEngines();
const tempDir = useTempDirs();

describe.each(engines)('registry keys on $name', (engine) => {
  const open: DatabaseHandle[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
  });
  async function firstStart() {
    const where = await engine.fresh();
    const handle = await openDatabase(where);
    open.push(handle);
    const keys = await loadRegistryKeys(handle.db, { dataDir: where.dataDir, origin: ORIGIN });
    return { where, handle, keys };
  }

  describe('on first start', () => {
    it('creates two owner-only key files and records the origin and both public keys', async () => {
      const { where, handle, keys } = await firstStart();
      for (const file of [LOG_KEY_FILE, ATTESTATION_KEY_FILE]) {
        const path = join(where.dataDir, file);
        expect((await stat(path)).mode & 0o777).toBe(0o600);
        expect(Object.keys(JSON.parse(await readFile(path, 'utf8')) as object).sort()).toEqual(['privateKeyMultibase', 'publicKeyMultibase']);
      }
      expect(await getAllMeta(handle.db)).toEqual({
        origin: ORIGIN,
        log_public_key: encodePublicMultikey(keys.logKey.publicKey),
        attestation_public_key: encodePublicMultikey(keys.attestationKey.publicKey),
      });
      const vkey = parseVerifierKey(keys.logVerifierKey);
      expect(vkey.name).toBe(ORIGIN);
      expect(vkey.publicKey).toEqual(keys.logKey.publicKey);
      expect(publicKeyFromDidKey(keys.attestationDid)).toEqual(keys.attestationKey.publicKey);
      expect(keys.attestationMethod).toBe(`${keys.attestationDid}#${keys.attestationDid.slice('did:key:'.length)}`);
      expect(verify(sign(new Uint8Array([1]), keys.logKey.secretKey), new Uint8Array([1]), keys.logKey.publicKey)).toBe(true);
    });
  });

  describe('on a later start', () => {
    it('loads the same keys', async () => {
      const { where, handle, keys } = await firstStart();
      const again = await loadRegistryKeys(handle.db, { dataDir: where.dataDir, origin: ORIGIN });
      expect(again.logVerifierKey).toBe(keys.logVerifierKey);
      expect(again.attestationDid).toBe(keys.attestationDid);
    });

    it('refuses another origin (REGISTRY_ORIGIN_MISMATCH)', async () => {
      const { where, handle } = await firstStart();
      await expect(loadRegistryKeys(handle.db, { dataDir: where.dataDir, origin: 'other.example/log' })).rejects.toMatchObject({ code: 'REGISTRY_ORIGIN_MISMATCH' });
    });

    it('refuses a key file holding another key (REGISTRY_KEY_MISMATCH)', async () => {
      const { where, handle } = await firstStart();
      const other = generateKeyPair();
      const path = join(where.dataDir, LOG_KEY_FILE);
      await writeFile(path, JSON.stringify({ publicKeyMultibase: encodePublicMultikey(other.publicKey), privateKeyMultibase: encodeSecretMultikey(other.secretKey) }), { mode: 0o600 });
      const err = await loadRegistryKeys(handle.db, { dataDir: where.dataDir, origin: ORIGIN }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'REGISTRY_KEY_MISMATCH' });
      expect((err as Error).message).toContain(LOG_KEY_FILE);
    });

    it('refuses to make new keys when a key file is missing (REGISTRY_KEY_MISSING)', async () => {
      const { where, handle } = await firstStart();
      await unlink(join(where.dataDir, ATTESTATION_KEY_FILE));
      await expect(loadRegistryKeys(handle.db, { dataDir: where.dataDir, origin: ORIGIN })).rejects.toMatchObject({ code: 'REGISTRY_KEY_MISSING' });
    });

    it('refuses a key file that others can read (KEY_FILE_PERMISSIONS)', async () => {
      const { where, handle } = await firstStart();
      await chmod(join(where.dataDir, LOG_KEY_FILE), 0o644);
      await expect(loadRegistryKeys(handle.db, { dataDir: where.dataDir, origin: ORIGIN })).rejects.toMatchObject({ code: 'KEY_FILE_PERMISSIONS' });
    });

    it('refuses a damaged key file (KEY_FILE_INVALID)', async () => {
      const { where, handle } = await firstStart();
      await writeFile(join(where.dataDir, LOG_KEY_FILE), '{"publicKeyMultibase": 1', { mode: 0o600 });
      await expect(loadRegistryKeys(handle.db, { dataDir: where.dataDir, origin: ORIGIN })).rejects.toMatchObject({ code: 'KEY_FILE_INVALID' });
    });
  });

  if (engine.name === 'postgres') {
    it('lets a second process with copied key files share the log identity, and refuses one without them', async () => {
      const { where, keys } = await firstStart();
      const otherDir = await tempDir();
      const second = await openDatabase({ dataDir: otherDir, databaseUrl: where.databaseUrl });
      open.push(second);
      await expect(loadRegistryKeys(second.db, { dataDir: otherDir, origin: ORIGIN })).rejects.toMatchObject({ code: 'REGISTRY_KEY_MISSING' });
      for (const f of [LOG_KEY_FILE, ATTESTATION_KEY_FILE]) await copyFile(join(where.dataDir, f), join(otherDir, f));
      const shared = await loadRegistryKeys(second.db, { dataDir: otherDir, origin: ORIGIN });
      expect(shared.logVerifierKey).toBe(keys.logVerifierKey);
    });
  }
});

describe('registry keys with an origin that cannot be a key name', () => {
  it('refuses with CONFIG_INVALID', async () => {
    const dataDir = await tempDir();
    const handle = await openDatabase({ dataDir });
    try {
      await expect(loadRegistryKeys(handle.db, { dataDir, origin: 'has space' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(loadRegistryKeys(handle.db, { dataDir, origin: 'a+b' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    } finally {
      await handle.close();
    }
  });
});
