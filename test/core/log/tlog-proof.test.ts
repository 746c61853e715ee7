import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256, toBase64, utf8 } from '../../../src/core/bytes.ts';
import { keyPairFromSeed } from '../../../src/core/crypto/ed25519.ts';
import { signCheckpoint } from '../../../src/core/log/checkpoint.ts';
import { inclusionProof, leafHash, rootFromLeafHashes } from '../../../src/core/log/merkle.ts';
import { makeVerifierKey } from '../../../src/core/log/note.ts';
import type { LogRecord } from '../../../src/core/log/tile-reader.ts';
import { readLog } from '../../../src/core/log/tile-reader.ts';
import { formatTlogProof, parseTlogProof, TLOG_PROOF_HEADER, verifyTlogProof } from '../../../src/core/log/tlog-proof.ts';
import { completeLevels, dirFetcher, nodeGetter, VECTORS_DIR } from './fixtures.ts';
import { codeOf } from '../../helpers/errors.ts';

const ORIGIN = 'registry.example.org/log';
const logKey = keyPairFromSeed(sha256(utf8('tlog-proof log key')));
const VKEY = makeVerifierKey(ORIGIN, logKey.publicKey);
const HOLDOUT_KEY = 'holdout.accord.example/log+d8761c85+AWrxEOMrpToy6O3mGuYU48K0I0ldpSNZrJ9WNF/7IC6Q';

const entries = Array.from({ length: 11 }, (_, i) => utf8(`{"entry":${i}}`));
const leaves = entries.map(leafHash);
const getNode = nodeGetter(completeLevels(leaves));
const checkpoint = signCheckpoint({ origin: ORIGIN, size: entries.length, root: rootFromLeafHashes(leaves) }, logKey.secretKey);

function proofText(index: number, extra?: Uint8Array): string {
  return formatTlogProof({ index, proof: inclusionProof(index, entries.length, getNode), checkpoint, extra });
}

describe('formatTlogProof', () => {
  it('writes the header, the index, one base64 hash per line, a blank line and the checkpoint', () => {
    const proof = inclusionProof(6, entries.length, getNode);
    const expected = [TLOG_PROOF_HEADER, 'index 6', ...proof.map(toBase64), '', checkpoint].join('\n');
    expect(proofText(6)).toBe(expected);
    expect(TLOG_PROOF_HEADER).toBe('c2sp.org/tlog-proof@v1');
  });

  it('puts extra data on the second line', () => {
    expect(proofText(0, new Uint8Array([1, 2, 3])).split('\n').slice(0, 3)).toEqual([TLOG_PROOF_HEADER, 'extra AQID', 'index 0']);
  });

  it('refuses a checkpoint that is not a signed note', () => {
    expect(codeOf(() => formatTlogProof({ index: 0, proof: [], checkpoint: 'nope\n' }))).toBe('TLOG_PROOF_MALFORMED');
  });
});

describe('parseTlogProof', () => {
  it('round-trips what format writes, with and without extra data', () => {
    for (const extra of [undefined, new Uint8Array([9, 8, 7]), new Uint8Array(0)]) {
      const p = parseTlogProof(proofText(3, extra));
      expect(p.index).toBe(3);
      expect(p.proof).toEqual(inclusionProof(3, entries.length, getNode));
      expect(p.checkpoint).toBe(checkpoint);
      expect(p.extra).toEqual(extra);
    }
  });

  const good = proofText(5);
  const lines = good.split('\n');
  const bad: Array<[string, string]> = [
    ['the header is wrong', good.replace(TLOG_PROOF_HEADER, 'c2sp.org/tlog-proof@v2')],
    ['the index line is missing', lines.filter((l) => !l.startsWith('index ')).join('\n')],
    ['the index has a leading zero', good.replace('index 5', 'index 05')],
    ['the index is negative', good.replace('index 5', 'index -5')],
    ['the index is above 2^53 - 1', good.replace('index 5', 'index 9007199254740992')],
    ['a hash is not base64', good.replace(lines[2]!, '!!!')],
    ['a hash is 31 bytes', good.replace(lines[2]!, toBase64(new Uint8Array(31)))],
    ['the extra data is not base64', good.replace('index 5', 'extra !!\nindex 5')],
    ['there is no blank line before the checkpoint', `${TLOG_PROOF_HEADER}\nindex 5\n`],
    ['the checkpoint is not a signed note', `${TLOG_PROOF_HEADER}\nindex 5\n\nnot a note\n`],
  ];
  for (const [why, text] of bad) {
    describe(`when ${why}`, () => {
      it('fails with TLOG_PROOF_MALFORMED', () => {
        expect(codeOf(() => parseTlogProof(text))).toBe('TLOG_PROOF_MALFORMED');
      });
    });
  }
});

describe('verifyTlogProof', () => {
  it('returns the checkpoint for every entry of the log', () => {
    for (const [i, entry] of entries.entries()) {
      const cp = verifyTlogProof(proofText(i), entry, VKEY);
      expect(cp.size).toBe(entries.length);
      expect(cp.origin).toBe(ORIGIN);
    }
  });

  describe('when the entry is not the one at that index', () => {
    it('fails with LOG_PROOF_INVALID', () => {
      expect(codeOf(() => verifyTlogProof(proofText(2), entries[3]!, VKEY))).toBe('LOG_PROOF_INVALID');
      expect(codeOf(() => verifyTlogProof(proofText(2).replace('index 2', 'index 3'), entries[2]!, VKEY))).toBe('LOG_PROOF_INVALID');
    });
  });

  describe('when the checkpoint is signed by another key', () => {
    it('fails with CHECKPOINT_BAD_SIGNATURE', () => {
      const other = keyPairFromSeed(sha256(utf8('other')));
      const forged = signCheckpoint({ origin: ORIGIN, size: entries.length, root: rootFromLeafHashes(leaves) }, other.secretKey);
      const text = formatTlogProof({ index: 1, proof: inclusionProof(1, entries.length, getNode), checkpoint: forged });
      expect(codeOf(() => verifyTlogProof(text, entries[1]!, VKEY))).toBe('CHECKPOINT_BAD_SIGNATURE');
    });
  });

  describe('on the genesis registry mirror', () => {
    it('proves every entry against the mirror checkpoint under the holdout key', async () => {
      const dir = join(VECTORS_DIR, 'registry-mirrors', 'genesis', 'log');
      const note = readFileSync(join(dir, 'checkpoint'), 'utf8');
      const records: LogRecord[] = [];
      for await (const r of readLog(dirFetcher(dir), 15)) records.push(r);
      const mirrorNode = nodeGetter(completeLevels(records.map((r) => r.tileHash)));
      for (const r of records) {
        const text = formatTlogProof({ index: r.index, proof: inclusionProof(r.index, records.length, mirrorNode), checkpoint: note });
        expect(verifyTlogProof(text, r.entry, HOLDOUT_KEY).size).toBe(15);
      }
    });
  });
});
