/**
 * Admission remembers each DID's latest attested document digest instead of reading it before
 * every statement (src/server/admission.ts). The memory is only a guess: these tests make it wrong
 * on purpose, with an attestation written by another writer on the same database, and check that
 * the log still gets exactly the attestations DESIGN 4 asks for.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyStatement, type RegistryView } from '../../src/core/audit/registry-state.ts';
import { digestOf, utf8 } from '../../src/core/bytes.ts';
import { encodePublicMultikey } from '../../src/core/crypto/multikey.ts';
import { canonicalBytes } from '../../src/core/json/canonical.ts';
import { buildAttestation, nowTimestamp, secureStatement } from '../../src/core/statements/build.ts';
import { parseStatementBytes } from '../../src/core/statements/validate.ts';
import { openRegistry } from '../../src/registry.ts';
import { Company } from '../helpers/company.ts';
import { auditApp, startHarness, type Harness } from './harness.ts';

/** Another writer (a second handle on the same SQLite file) attests `c` with another document digest. */
async function attestElsewhere(h: Harness, c: Company): Promise<string> {
  const other = await openRegistry({ dataDir: h.dir, origin: h.config.origin });
  try {
    const at = nowTimestamp();
    const documentDigest = digestOf(utf8(`another document of ${c.did} ${Math.random()}`));
    const unsecured = buildAttestation({
      registryDid: other.keys.attestationDid,
      did: c.did,
      url: h.host.documentUrl(c.domain),
      observedAt: at,
      documentDigest,
      verificationMethods: [{ id: c.method, publicKeyMultibase: encodePublicMultikey(c.key.publicKey) }],
      validFrom: at,
    });
    const statement = secureStatement(unsecured, other.keys.attestationKey, other.keys.attestationMethod, at);
    const bytes = canonicalBytes(statement);
    const digest = digestOf(bytes);
    await other.sequencer.append({
      entries: [{ bytes, digest, type: 'DomainAttestation', subject: c.did, validFrom: at }],
      admit: async (ctx) => {
        const prev = await ctx.getSignatory(c.did);
        const view: RegistryView = { attestationDid: other.keys.attestationDid, signatory: (d) => (d === c.did ? prev : undefined), accord: () => undefined };
        const change = applyStatement(view, { index: ctx.nextIndex, statement, digest });
        return change.signatory === undefined ? [] : [change.signatory];
      },
    });
    return documentDigest;
  } finally {
    await other.close();
  }
}

async function entryAt(h: Harness, index: number) {
  const res = await request(h.app).get(`/api/v1/entries/${index}`).expect(200);
  return parseStatementBytes(utf8(res.text)).statement;
}

describe('admission when another writer attested the DID since this process did', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ domains: ['hint.test', 'same.test'] });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('logs a new attestation of the fetched document right before the statement', async () => {
    const c = new Company('hint.test', h.host);
    const first = await h.submit(c.pledge({ accord: h.accord, previous: null }));
    expect(first.status).toBe(201);
    const served = (await entryAt(h, first.body.index - 1)).credentialSubject as { documentDigest: string };
    const elsewhere = await attestElsewhere(h, c);
    expect(elsewhere).not.toBe(served.documentDigest);

    const before = await h.snapshot();
    const second = await h.submit(c.pledge({ accord: h.accord, previous: first.body.digest, name: 'After the other writer' }));
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    // The stored latest attestation names another document than the one served now: DESIGN 4.
    expect(second.body.index).toBe(before.size + 1);
    const att = await entryAt(h, before.size);
    expect(att.type[1]).toBe('DomainAttestation');
    expect(att.credentialSubject).toMatchObject({ id: c.did, documentDigest: served.documentDigest });
  });

  it('logs no attestation when the stored one already names the document served', async () => {
    const c = new Company('same.test', h.host);
    const first = await h.submit(c.pledge({ accord: h.accord, previous: null }));
    expect(first.status).toBe(201);
    const before = await h.snapshot();
    const second = await h.submit(c.pledge({ accord: h.accord, previous: first.body.digest, name: 'Same document' }));
    expect(second.status).toBe(201);
    expect(second.body.index).toBe(before.size);
  });

  it('leaves a log that the auditor verifies', async () => {
    const wellKnown = await request(h.app).get('/.well-known/accord-registry.json').expect(200);
    const result = await auditApp(h.app, wellKnown.body.logKey as string);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
