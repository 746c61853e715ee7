import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.ts';
import { openSource } from '../../src/audit/source.ts';
import { fromBase64, toBase64 } from '../../src/core/bytes.ts';
import { generateKeyPair } from '../../src/core/crypto/ed25519.ts';
import { parseCheckpoint, signCheckpoint } from '../../src/core/log/checkpoint.ts';
import { makeVerifierKey, parseNote } from '../../src/core/log/note.ts';
import { verifyProof } from '../../src/core/statements/proof.ts';
import type { Statement } from '../../src/core/statements/types.ts';
import { canonical, startHarness, verifyReceipt, type Harness, type ReceiptJson } from '../server/harness.ts';
import { listen, publish, tamperingProxy, writeKeyFile, type Listening, type TestKey } from './fixtures.ts';
import { runTool } from './run-tool.ts';

const DOMAINS = ['acme.test', 'globex.test', 'initech.test', 'hooli.test', 'umbrella.test'];
let h: Harness;
let web: Listening;
let dir: string;
let acme: TestKey;

beforeAll(async () => {
  h = await startHarness({ domains: DOMAINS });
  web = await listen(h.app);
  dir = await mkdtemp(join(tmpdir(), 'accord-sign-'));
  acme = await writeKeyFile(dir, 'acme.test');
  publish(h.host, 'acme.test', [acme]);
});
afterAll(async () => {
  await web?.close();
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

async function signatory(domain: string): Promise<request.Response> {
  return request(h.app).get(`/api/v1/signatories/${domain}`);
}

async function readReceipt(path: string): Promise<ReceiptJson & { statement: Statement }> {
  return JSON.parse(await readFile(path, 'utf8')) as ReceiptJson & { statement: Statement };
}

describe('accord-sign pledge', () => {
  describe('with --dry-run', () => {
    it('prints the signed statement, exits 0 and submits nothing', async () => {
      const before = await h.snapshot();
      const r = await runTool('sign', ['pledge', '--key', acme.path, '--registry', web.url, '--name', 'Acme Test', '--dry-run']);
      expect(r.code).toBe(0);
      const statement = JSON.parse(r.stdout) as Statement;
      expect(statement.type).toEqual(['VerifiableCredential', 'AccordPledge']);
      expect(statement.issuer).toBe(acme.did);
      expect(statement.validFrom).toBe(statement.proof.created);
      expect(statement.credentialSubject).toEqual({ id: acme.did, name: 'Acme Test', accord: h.accord, principles: [1, 2, 3, 4, 5, 6], previous: null });
      expect(() => verifyProof(statement, acme.keyPair.publicKey)).not.toThrow();
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('for a first pledge', () => {
    it('logs it, verifies the receipt and writes it to --receipt', async () => {
      const receiptPath = join(dir, 'acme-1.json');
      const r = await runTool('sign', [
        'pledge', '--key', acme.path, '--registry', web.url, '--log-key', h.logKey, '--receipt', receiptPath,
        '--name', 'Acme Test', '--country', 'CH', '--website', 'https://acme.test/', '--security-txt', 'https://acme.test/.well-known/security.txt',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Receipt verified/);
      const receipt = await readReceipt(receiptPath);
      // The receipt proves the canonical bytes of the very statement signed.
      expect(verifyReceipt(receipt, canonical(receipt.statement), h.logKey).size).toBeGreaterThan(receipt.index);
      const s = await signatory('acme.test');
      expect(s.body).toMatchObject({ status: 'signatory', name: 'Acme Test', head: receipt.digest, country: 'CH' });
    });
  });

  describe('for an update that names only --country', () => {
    it('carries the other fields over from the current pledge and chains previous to the head', async () => {
      const head = (await signatory('acme.test')).body.head as string;
      const receiptPath = join(dir, 'acme-2.json');
      const r = await runTool('sign', ['pledge', '--key', acme.path, '--registry', web.url, '--country', 'DE', '--receipt', receiptPath]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/unpinned/);
      const { statement } = await readReceipt(receiptPath);
      expect(statement.credentialSubject).toEqual({
        id: acme.did,
        name: 'Acme Test',
        accord: h.accord,
        principles: [1, 2, 3, 4, 5, 6],
        previous: head,
        country: 'DE',
        links: { website: 'https://acme.test/', securityTxt: 'https://acme.test/.well-known/security.txt' },
      });
    });
  });

  describe('when the pinned --log-key is not the key the registry publishes', () => {
    it('exits 1 with LOG_KEY_MISMATCH and submits nothing', async () => {
      const stranger = makeVerifierKey(h.config.origin, generateKeyPair().publicKey);
      const before = await h.snapshot();
      const r = await runTool('sign', ['pledge', '--key', acme.path, '--registry', web.url, '--log-key', stranger, '--name', 'Acme Test AG']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/LOG_KEY_MISMATCH/);
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('when the receipt checkpoint is signed by another key', () => {
    it('exits 1 with RECEIPT_INVALID', async () => {
      const stranger = generateKeyPair();
      const proxy = await tamperingProxy(web.url, (status, body) => {
        const receipt = JSON.parse(body.toString('utf8')) as ReceiptJson;
        const cp = parseCheckpoint(parseNote(receipt.checkpoint).text);
        receipt.checkpoint = signCheckpoint(cp, stranger.secretKey);
        return { status, body: Buffer.from(JSON.stringify(receipt)) };
      });
      try {
        const r = await runTool('sign', ['pledge', '--key', acme.path, '--registry', proxy.url, '--log-key', h.logKey]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/checkpoint does not verify/);
        expect(r.stderr).toMatch(/RECEIPT_INVALID/);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('when the registry answers a receipt whose inclusion proof is wrong', () => {
    it('exits 1 with RECEIPT_INVALID', async () => {
      const globex = await writeKeyFile(dir, 'globex.test');
      publish(h.host, 'globex.test', [globex]);
      const proxy = await tamperingProxy(web.url, (status, body) => {
        const receipt = JSON.parse(body.toString('utf8')) as ReceiptJson;
        const first = fromBase64(receipt.inclusionProof[0] as string);
        first[0] = (first[0] as number) ^ 1;
        receipt.inclusionProof[0] = toBase64(first);
        return { status, body: Buffer.from(JSON.stringify(receipt)) };
      });
      try {
        const receiptPath = join(dir, 'globex-bad.json');
        const r = await runTool('sign', ['pledge', '--key', globex.path, '--registry', proxy.url, '--name', 'Globex', '--receipt', receiptPath]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/inclusion proof/);
        expect(r.stderr).toMatch(/RECEIPT_INVALID/);
        await expect(readFile(receiptPath)).rejects.toThrow(/ENOENT/);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('when the registry answers a receipt for other bytes', () => {
    it('exits 1 with RECEIPT_INVALID naming the digest', async () => {
      const initech = await writeKeyFile(dir, 'initech.test');
      publish(h.host, 'initech.test', [initech]);
      const proxy = await tamperingProxy(web.url, (status, body) => {
        const receipt = JSON.parse(body.toString('utf8')) as ReceiptJson;
        receipt.digest = `sha256:${'0'.repeat(64)}`;
        return { status, body: Buffer.from(JSON.stringify(receipt)) };
      });
      try {
        const r = await runTool('sign', ['pledge', '--key', initech.path, '--registry', proxy.url, '--name', 'Initech']);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/digest/);
        expect(r.stderr).toMatch(/RECEIPT_INVALID/);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('when the registry answers 409 PREVIOUS_MISMATCH', () => {
    it('exits 1 and explains that another statement was logged meanwhile', async () => {
      const head = `sha256:${'ab'.repeat(32)}`;
      const proxy = await tamperingProxy(web.url, () => ({
        status: 409,
        body: Buffer.from(JSON.stringify({ error: { code: 'PREVIOUS_MISMATCH', message: 'previous is not the head', head } })),
      }));
      try {
        const r = await runTool('sign', ['pledge', '--key', acme.path, '--registry', proxy.url]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('PREVIOUS_MISMATCH');
        expect(r.stderr).toContain(head);
        expect(r.stderr).toMatch(/run accord-sign again/);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('when the key is not in the published did.json', () => {
    it('exits 1 with the registry code and writes nothing to the log', async () => {
      const hooli = await writeKeyFile(dir, 'hooli.test');
      const other = await writeKeyFile(dir, 'hooli.test', 2);
      publish(h.host, 'hooli.test', [other]);
      const before = await h.snapshot();
      const r = await runTool('sign', ['pledge', '--key', hooli.path, '--registry', web.url, '--name', 'Hooli']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/KEY_NOT_IN_DID_DOCUMENT/);
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('when the published did.json lists another key under the same method', () => {
    it('exits 1 with PROOF_INVALID, says which key file signed and what to publish, and logs nothing', async () => {
      const mine = await writeKeyFile(dir, 'initech.test');
      const stale = await writeKeyFile(await mkdtemp(join(dir, 'stale-')), 'initech.test');
      expect(stale.method).toBe(mine.method);
      publish(h.host, 'initech.test', [stale]);
      const before = await h.snapshot();
      const r = await runTool('sign', ['pledge', '--key', mine.path, '--registry', web.url, '--name', 'Initech']);
      expect(r.code).toBe(1);
      expect(r.stderr.match(/PROOF_INVALID/g)).toHaveLength(1);
      expect(r.stderr).toContain(`signed with the key in ${mine.path}`);
      expect(r.stderr).toContain('https://initech.test/.well-known/did.json');
      expect(r.stderr).toMatch(/Publish the did\.json that accord-keygen wrote with this key file/);
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('when the key file is readable by others', () => {
    it('exits 2, says to chmod 600 and submits nothing', async () => {
      const umbrella = await writeKeyFile(dir, 'umbrella.test');
      publish(h.host, 'umbrella.test', [umbrella]);
      await chmod(umbrella.path, 0o644);
      const before = await h.snapshot();
      const r = await runTool('sign', ['pledge', '--key', umbrella.path, '--registry', web.url, '--name', 'Umbrella']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`chmod 600 ${umbrella.path}`);
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('for a first pledge without --name', () => {
    it('exits 2 with the usage', async () => {
      const umbrella = await writeKeyFile(dir, 'umbrella.test', 3);
      const r = await runTool('sign', ['pledge', '--key', umbrella.path, '--registry', web.url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--name is required/);
    });
  });

  describe('with a profile value the statement rules refuse', () => {
    it.each([
      [['--country', 'ch'], '--country: credentialSubject.country'],
      [['--website', 'example.com'], '--website: credentialSubject.links.website'],
    ])('exits 2 naming the option (%j), without the whole usage text, and submits nothing', async (flags, lead) => {
      const before = await h.snapshot();
      const r = await runTool('sign', ['pledge', '--key', acme.path, '--registry', web.url, ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`accord-sign: ${lead}`);
      expect(r.stderr).toContain('Run accord-sign --help for every option.');
      expect(r.stderr).not.toContain('usage:');
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('when --registry is not the site root', () => {
    it('exits 1 asking whether it is the site root, and submits nothing', async () => {
      const before = await h.snapshot();
      const r = await runTool('sign', ['pledge', '--key', acme.path, '--registry', `${web.url}api/v1/`, '--name', 'Acme']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`answered 404: is ${web.url}api/v1/ an Accord registry's site root`);
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('when the registry cannot be reached', () => {
    it('exits 2', async () => {
      const closed = await listen(() => undefined);
      await closed.close();
      const r = await runTool('sign', ['pledge', '--key', acme.path, '--registry', closed.url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/NETWORK_ERROR/);
    });
  });
});

describe('accord-sign withdraw', () => {
  describe('by a current signatory, with --reason', () => {
    it('logs a withdrawal of the accord it pledged and the signatory shows as withdrawn', async () => {
      const receiptPath = join(dir, 'acme-withdraw.json');
      const r = await runTool('sign', ['withdraw', '--key', acme.path, '--registry', web.url, '--reason', 'Restructuring', '--receipt', receiptPath]);
      expect(r.code).toBe(0);
      const { statement } = await readReceipt(receiptPath);
      expect(statement.type[1]).toBe('AccordWithdrawal');
      expect(statement.credentialSubject).toMatchObject({ accord: h.accord, reason: 'Restructuring' });
      expect((await signatory('acme.test')).body.status).toBe('withdrawn');
    });
  });

  describe('by a DID that never pledged', () => {
    it('exits 1 with NOT_A_SIGNATORY', async () => {
      const key = await writeKeyFile(dir, 'umbrella.test', 4);
      const r = await runTool('sign', ['withdraw', '--key', key.path, '--registry', web.url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/NOT_A_SIGNATORY/);
    });
  });
});

describe('the log after these runs', () => {
  it('passes the full audit', async () => {
    const result = await runAudit(await openSource(web.url), { logKey: h.logKey, stateCheckpoint: null, workers: 0 });
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
