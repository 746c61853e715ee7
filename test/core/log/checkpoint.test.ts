import { describe, expect, it } from 'vitest';
import { sha256, toBase64, utf8 } from '../../../src/core/bytes.ts';
import { keyPairFromSeed } from '../../../src/core/crypto/ed25519.ts';
import { formatCheckpoint, parseCheckpoint, signCheckpoint, verifyCheckpoint } from '../../../src/core/log/checkpoint.ts';
import { addSignatures, makeVerifierKey, signNote } from '../../../src/core/log/note.ts';
import { codeOf } from '../../helpers/errors.ts';

const ORIGIN = 'registry.example.org/log';
const logKey = keyPairFromSeed(sha256(utf8('log key seed')));
const VKEY = makeVerifierKey(ORIGIN, logKey.publicKey);
const ROOT = sha256(utf8('some root'));

describe('formatCheckpoint and parseCheckpoint', () => {
  it('format origin, size and base64 root, one per line', () => {
    expect(formatCheckpoint({ origin: ORIGIN, size: 42, root: ROOT })).toBe(`${ORIGIN}\n42\n${toBase64(ROOT)}\n`);
  });

  it('round-trip, extension lines included', () => {
    for (const cp of [
      { origin: ORIGIN, size: 0, root: ROOT, extensions: [] },
      { origin: ORIGIN, size: Number.MAX_SAFE_INTEGER, root: ROOT, extensions: ['ext one', 'two'] },
    ]) {
      expect(parseCheckpoint(formatCheckpoint(cp))).toEqual(cp);
    }
  });

  it('parse the tlog-checkpoint spec example', () => {
    const cp = parseCheckpoint('example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
    expect(cp.origin).toBe('example.com/behind-the-sofa');
    expect(cp.size).toBe(20852163);
    expect(cp.root).toHaveLength(32);
  });

  const r = toBase64(ROOT);
  const bad: Array<[string, string]> = [
    ['the size has a leading zero', `${ORIGIN}\n042\n${r}\n`],
    ['the size is negative', `${ORIGIN}\n-1\n${r}\n`],
    ['the size has a sign', `${ORIGIN}\n+1\n${r}\n`],
    ['the size is not an integer', `${ORIGIN}\n1.0\n${r}\n`],
    ['the size has a space', `${ORIGIN}\n 1\n${r}\n`],
    ['the size is above 2^53 - 1', `${ORIGIN}\n9007199254740992\n${r}\n`],
    ['the origin is empty', `\n1\n${r}\n`],
    ['the root is 31 bytes', `${ORIGIN}\n1\n${toBase64(ROOT.slice(1))}\n`],
    ['the root is not canonical base64', `${ORIGIN}\n1\n${r.slice(0, -1)}\n`],
    ['a line is missing', `${ORIGIN}\n1\n`],
    ['an extension line is empty', `${ORIGIN}\n1\n${r}\n\n`],
    ['the text does not end in a newline', `${ORIGIN}\n1\n${r}`],
    ['the text has a carriage return', `${ORIGIN}\r\n1\n${r}\n`],
  ];
  for (const [why, text] of bad) {
    describe(`when ${why}`, () => {
      it('parse fails with CHECKPOINT_MALFORMED', () => {
        expect(codeOf(() => parseCheckpoint(text))).toBe('CHECKPOINT_MALFORMED');
      });
    });
  }

  it('format refuses what parse would refuse', () => {
    expect(codeOf(() => formatCheckpoint({ origin: '', size: 1, root: ROOT }))).toBe('CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpoint({ origin: ORIGIN, size: -1, root: ROOT }))).toBe('CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpoint({ origin: ORIGIN, size: 2 ** 53, root: ROOT }))).toBe('CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpoint({ origin: ORIGIN, size: 1, root: ROOT.slice(1) }))).toBe('CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpoint({ origin: ORIGIN, size: 1, root: ROOT, extensions: ['a\nb'] }))).toBe('CHECKPOINT_MALFORMED');
  });
});

describe('verifyCheckpoint', () => {
  const note = signCheckpoint({ origin: ORIGIN, size: 7, root: ROOT }, logKey.secretKey);

  it('returns the checkpoint signed by the log key, named by the origin', () => {
    expect(note.startsWith(`${ORIGIN}\n7\n${toBase64(ROOT)}\n\n— ${ORIGIN} `)).toBe(true);
    expect(verifyCheckpoint(note, VKEY)).toEqual({ origin: ORIGIN, size: 7, root: ROOT, extensions: [] });
  });

  it('ignores witness cosignatures', () => {
    const cosigned = addSignatures(note, [`— witness.example ${toBase64(new Uint8Array(76))}`]);
    expect(verifyCheckpoint(cosigned, VKEY).size).toBe(7);
  });

  describe('when the key name is not the origin', () => {
    it('fails with CHECKPOINT_ORIGIN_MISMATCH', () => {
      const other = makeVerifierKey('other.example/log', logKey.publicKey);
      expect(codeOf(() => verifyCheckpoint(note, other))).toBe('CHECKPOINT_ORIGIN_MISMATCH');
    });
  });

  describe('when the size was changed after signing', () => {
    it('fails with CHECKPOINT_BAD_SIGNATURE', () => {
      expect(codeOf(() => verifyCheckpoint(note.replace(`${ORIGIN}\n7\n`, `${ORIGIN}\n8\n`), VKEY))).toBe('CHECKPOINT_BAD_SIGNATURE');
    });
  });

  describe('when another key signed under the same name', () => {
    it('fails with CHECKPOINT_BAD_SIGNATURE', () => {
      const impostor = keyPairFromSeed(sha256(utf8('impostor')));
      const forged = signCheckpoint({ origin: ORIGIN, size: 7, root: ROOT }, impostor.secretKey);
      expect(codeOf(() => verifyCheckpoint(forged, VKEY))).toBe('CHECKPOINT_BAD_SIGNATURE');
    });
  });

  describe('when the signed text is not a checkpoint', () => {
    it('fails with CHECKPOINT_MALFORMED', () => {
      expect(codeOf(() => verifyCheckpoint(signNote(`${ORIGIN}\n07\n${toBase64(ROOT)}\n`, ORIGIN, logKey.secretKey), VKEY))).toBe('CHECKPOINT_MALFORMED');
      expect(codeOf(() => verifyCheckpoint('not a note', VKEY))).toBe('CHECKPOINT_MALFORMED');
    });
  });

  describe('when the verifier key is malformed', () => {
    it('fails with NOTE_BAD_VERIFIER_KEY', () => {
      expect(codeOf(() => verifyCheckpoint(note, 'nonsense'))).toBe('NOTE_BAD_VERIFIER_KEY');
    });
  });
});
