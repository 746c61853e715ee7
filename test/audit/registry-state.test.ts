import { describe, expect, it } from 'vitest';
import { MemoryRegistry } from '../../src/core/audit/memory-registry.ts';
import { applyStatement, signingKeyFor, signatoryStatus, type StateChange } from '../../src/core/audit/registry-state.ts';
import { bytesEqual } from '../../src/core/bytes.ts';
import { generateKeyPair } from '../../src/core/crypto/ed25519.ts';
import { didKeyVerificationMethod } from '../../src/core/crypto/multikey.ts';
import { isAccordError } from '../../src/core/errors.ts';
import { buildNotice } from '../../src/core/statements/build.ts';
import { LogBuilder, type Entry } from './log-builder.ts';

/** Replays entries into a fresh state; returns the state and the change of the last entry. */
function replay(log: LogBuilder, entries: Entry[] = log.entries): { state: MemoryRegistry; last: StateChange } {
  const state = new MemoryRegistry(log.attestationDid);
  let last: StateChange = {};
  for (const [index, e] of entries.entries()) {
    last = applyStatement(state, { index, statement: e.statement, digest: e.digest });
    state.commit(last);
  }
  return { state, last };
}

/** Applies `e` at the next index after `log.entries` and returns the refusal code. */
function refusal(log: LogBuilder, e: Entry, index = log.entries.length): string {
  const { state } = replay(log);
  try {
    applyStatement(state, { index, statement: e.statement, digest: e.digest });
  } catch (err) {
    if (isAccordError(err)) return err.code;
    throw err;
  }
  return 'ACCEPTED';
}

describe('applyStatement', () => {
  describe('on a valid log', () => {
    it('tracks signatories, heads, accords and profiles', () => {
      const { log, accord, a, b } = LogBuilder.basic();
      const { state } = replay(log);
      const sa = state.signatory(a.did);
      expect(sa?.membership).toBe('signatory');
      expect(sa?.head).toBe(log.entries[5]?.digest);
      expect(sa?.headIndex).toBe(5);
      expect(sa?.name).toBe('Alpha Renamed');
      expect(sa?.accord).toBe(accord);
      expect(sa?.attestation?.index).toBe(1);
      expect(state.signatory(b.did)?.head).toBe(log.entries[4]?.digest);
      expect(state.accord(accord)).toMatchObject({ index: 0, id: 'urn:accord:tech-sector:1', version: 1, principleNumbers: [1, 2, 3, 4, 5, 6] });
    });

    it('keeps `since` on a profile update and resets it on a re-join after a withdrawal', () => {
      const { log, accord, a } = LogBuilder.basic();
      const firstPledge = log.entries[2]?.statement.validFrom;
      expect(replay(log).state.signatory(a.did)?.since).toBe(firstPledge);
      log.withdraw(a);
      expect(replay(log).state.signatory(a.did)?.membership).toBe('withdrawn');
      const rejoin = log.pledge(a, accord);
      const s = replay(log).state.signatory(a.did);
      expect(s?.membership).toBe('signatory');
      expect(s?.since).toBe(rejoin.statement.validFrom);
      expect(s?.since).not.toBe(firstPledge);
    });

    it('delists and relists', () => {
      const { log, b } = LogBuilder.basic();
      log.notice(b.did, 'delist');
      const delisted = replay(log).state.signatory(b.did);
      expect(delisted && signatoryStatus(delisted)).toBe('delisted');
      log.notice(b.did, 'relist');
      const relisted = replay(log).state.signatory(b.did);
      expect(relisted && signatoryStatus(relisted)).toBe('signatory');
      expect(relisted?.notice).toMatchObject({ action: 'relist', index: 7 });
    });
  });

  describe('when entry 0 is not an AccordText', () => {
    it('fails with FIRST_ENTRY_NOT_ACCORD', () => {
      const log = new LogBuilder();
      const c = log.company('first.test');
      const att = log.attest(c);
      log.entries.length = 0;
      expect(refusal(log, att, 0)).toBe('FIRST_ENTRY_NOT_ACCORD');
    });
  });

  describe('when a registry statement is issued by another key', () => {
    it('fails with ISSUER_NOT_REGISTRY', () => {
      const { log, b } = LogBuilder.basic();
      const other = generateKeyPair();
      const forged = log.sign(
        buildNotice({ registryDid: didKeyVerificationMethod(other.publicKey).split('#')[0] as string, did: b.did, action: 'delist', reason: 'x', validFrom: log.now() }),
        other,
        didKeyVerificationMethod(other.publicKey),
      );
      expect(refusal(log, forged)).toBe('ISSUER_NOT_REGISTRY');
    });
  });

  describe('when a pledge is signed with a method no attestation lists', () => {
    it('fails with KEY_NOT_ATTESTED, also for a DID never attested', () => {
      const { log, accord, a } = LogBuilder.basic();
      log.addKey(a); // key-2 exists in the company's hands but was never attested
      expect(refusal(log, log.pledge(a, accord, { append: false }))).toBe('KEY_NOT_ATTESTED');
      const stranger = log.company('stranger.test');
      expect(refusal(log, log.pledge(stranger, accord, { append: false }))).toBe('KEY_NOT_ATTESTED');
    });

    it('accepts the key once a newer attestation lists it and refuses the dropped one', () => {
      const { log, accord, a } = LogBuilder.basic();
      log.addKey(a);
      log.attest(a, { keys: [1] });
      expect(refusal(log, log.pledge(a, accord, { key: 1, append: false }))).toBe('ACCEPTED');
      expect(refusal(log, log.pledge(a, accord, { key: 0, append: false }))).toBe('KEY_NOT_ATTESTED');
    });
  });

  describe('when a pledge names no earlier AccordText', () => {
    it('fails with ACCORD_UNKNOWN', () => {
      const { log, a, b } = LogBuilder.basic();
      expect(refusal(log, log.pledge(a, 'sha256:' + '0'.repeat(64), { append: false }))).toBe('ACCORD_UNKNOWN');
      // A digest of a real entry that is not an AccordText is unknown too.
      expect(refusal(log, log.pledge(a, b.head as string, { append: false }))).toBe('ACCORD_UNKNOWN');
    });
  });

  describe('when a pledge leaves out a principle', () => {
    it('fails with STATEMENT_PRINCIPLES_INCOMPLETE', () => {
      const { log, accord, a } = LogBuilder.basic();
      expect(refusal(log, log.pledge(a, accord, { principles: [1, 2, 3, 4, 5], append: false }))).toBe('STATEMENT_PRINCIPLES_INCOMPLETE');
    });
  });

  describe('when previous is not the signatory head', () => {
    it('fails with PREVIOUS_MISMATCH carrying the head', () => {
      const { log, accord, a } = LogBuilder.basic();
      const bad = log.pledge(a, accord, { previous: log.entries[2]?.digest, append: false });
      const { state } = replay(log);
      let err: unknown;
      try {
        applyStatement(state, { index: 6, statement: bad.statement, digest: bad.digest });
      } catch (e) {
        err = e;
      }
      expect(isAccordError(err, 'PREVIOUS_MISMATCH')).toBe(true);
      expect((err as { details: { head: string } }).details.head).toBe(a.head);
      expect(refusal(log, log.pledge(a, accord, { previous: null, append: false }))).toBe('PREVIOUS_MISMATCH');
    });
  });

  describe('when a withdrawal comes from a non-signatory', () => {
    it('fails with NOT_A_SIGNATORY for a second withdrawal and for an attested DID that never pledged', () => {
      const { log, a } = LogBuilder.basic();
      log.withdraw(a);
      expect(refusal(log, log.withdraw(a, { append: false }))).toBe('NOT_A_SIGNATORY');
      const c = log.company('gamma.test');
      log.attest(c);
      expect(refusal(log, log.withdraw(c, { accord: log.entries[0]?.digest, append: false }))).toBe('NOT_A_SIGNATORY');
    });
  });

  describe('when a withdrawal names another accord than the latest pledge', () => {
    it('fails with WITHDRAWAL_ACCORD_MISMATCH', () => {
      const { log, a } = LogBuilder.basic();
      const v2 = log.accordText({ version: 2 }).digest;
      expect(refusal(log, log.withdraw(a, { accord: v2, append: false }))).toBe('WITHDRAWAL_ACCORD_MISMATCH');
    });
  });

  describe('when a delisted signatory submits', () => {
    it('fails with SIGNATORY_DELISTED', () => {
      const { log, accord, b } = LogBuilder.basic();
      log.notice(b.did, 'delist');
      expect(refusal(log, log.pledge(b, accord, { append: false }))).toBe('SIGNATORY_DELISTED');
      expect(refusal(log, log.withdraw(b, { append: false }))).toBe('SIGNATORY_DELISTED');
    });
  });

  describe('moderation out of order', () => {
    it('fails with NOT_DELISTED for a relist without a delist', () => {
      const { log, b } = LogBuilder.basic();
      expect(refusal(log, log.notice(b.did, 'relist', { append: false }))).toBe('NOT_DELISTED');
    });

    it('fails with ALREADY_DELISTED for a second delist', () => {
      const { log, b } = LogBuilder.basic();
      log.notice(b.did, 'delist');
      expect(refusal(log, log.notice(b.did, 'delist', { append: false }))).toBe('ALREADY_DELISTED');
    });

    it('fails with UNKNOWN_SIGNATORY for a DID that never pledged, even if attested', () => {
      const { log } = LogBuilder.basic();
      expect(refusal(log, log.notice('did:web:nobody.test', 'delist', { append: false }))).toBe('UNKNOWN_SIGNATORY');
      const c = log.company('attested-only.test');
      log.attest(c);
      expect(refusal(log, log.notice(c.did, 'delist', { append: false }))).toBe('UNKNOWN_SIGNATORY');
    });
  });

  describe('when an accord id is added twice', () => {
    it('fails with ACCORD_DUPLICATE', () => {
      const { log } = LogBuilder.basic();
      const again = log.accordText({ version: 1 });
      log.entries.pop();
      expect(refusal(log, again)).toBe('ACCORD_DUPLICATE');
    });
  });
});

describe('signingKeyFor', () => {
  it('gives the attestation key for registry statements and the attested key for signatories', () => {
    const { log, accord, a } = LogBuilder.basic();
    const { state } = replay(log);
    expect(bytesEqual(signingKeyFor(state, log.entries[0]!.statement), log.attestationKey.publicKey)).toBe(true);
    const next = log.pledge(a, accord, { append: false });
    expect(bytesEqual(signingKeyFor(state, next.statement), a.keys[0]!.publicKey)).toBe(true);
  });

  it('throws KEY_NOT_ATTESTED for a method the latest attestation does not list', () => {
    const { log, accord, a } = LogBuilder.basic();
    log.addKey(a);
    const { state } = replay(log);
    expect(() => signingKeyFor(state, log.pledge(a, accord, { append: false }).statement)).toThrow(expect.objectContaining({ code: 'KEY_NOT_ATTESTED' }));
  });
});

describe('MemoryRegistry in compact mode (the auditor\'s)', () => {
  it('reaches the same verdicts as the full state, keeping only what the rules read', () => {
    const { log, accord, a, b } = LogBuilder.basic();
    log.withdraw(a);
    log.pledge(a, accord, { name: 'Alpha Again' });
    log.notice(b.did, 'delist');
    log.addKey(a);
    log.attest(a, { keys: [1] });
    log.pledge(a, accord);
    const full = new MemoryRegistry(log.attestationDid);
    const compact = new MemoryRegistry(log.attestationDid, { compact: true });
    for (const [index, e] of log.entries.entries()) {
      for (const state of [full, compact]) {
        expect(bytesEqual(signingKeyFor(state, e.statement), signingKeyFor(full, e.statement))).toBe(true);
        state.commit(applyStatement(state, { index, statement: e.statement, digest: e.digest }));
      }
    }
    // Entries that break a rule are refused alike.
    const late = [log.pledge(b, accord, { append: false }), log.pledge(a, accord, { previous: null, append: false }), log.pledge(a, accord, { key: 0, append: false })];
    for (const e of late) {
      const codeOf = (state: MemoryRegistry): string => {
        try {
          signingKeyFor(state, e.statement);
          applyStatement(state, { index: log.entries.length, statement: e.statement, digest: e.digest });
          return 'ACCEPTED';
        } catch (err) {
          if (isAccordError(err)) return err.code;
          throw err;
        }
      };
      expect(codeOf(compact)).toBe(codeOf(full));
      expect(codeOf(compact)).not.toBe('ACCEPTED');
    }
    const sa = compact.signatory(a.did);
    const fa = full.signatory(a.did);
    expect({ ...sa, name: fa?.name, country: fa?.country, links: fa?.links, since: fa?.since, updatedAt: fa?.updatedAt, attestation: fa?.attestation, notice: fa?.notice }).toEqual(fa);
    expect(sa).toMatchObject({ name: null, links: null, since: null, attestation: { index: fa?.attestation?.index, methods: fa?.attestation?.methods, url: '' } });
    expect(compact.signatory(b.did)).toMatchObject({ delisted: true, notice: { action: 'delist', index: full.signatory(b.did)?.notice?.index } });
    expect([...compact.accords()]).toEqual([...full.accords()]);
  });
});
