import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, sha256, toBase64, toHex, utf8 } from '../../../src/core/bytes.ts';
import { keyPairFromSeed } from '../../../src/core/crypto/ed25519.ts';
import {
  addSignatures,
  keyId,
  makeVerifierKey,
  MAX_NOTE_SIGNATURES,
  openNote,
  parseNote,
  parseVerifierKey,
  signNote,
} from '../../../src/core/log/note.ts';
import { VECTORS_DIR } from './fixtures.ts';
import { codeOf } from '../../helpers/errors.ts';

const example = JSON.parse(readFileSync(join(VECTORS_DIR, 'signed-note', 'c2sp-example.json'), 'utf8')) as {
  verifierKey: string;
  note: string;
  valid: boolean;
};

const alice = keyPairFromSeed(sha256(utf8('alice seed')));
const bob = keyPairFromSeed(sha256(utf8('bob seed')));
const ALICE = makeVerifierKey('example.org/alice', alice.publicKey);
const BOB = makeVerifierKey('example.org/bob', bob.publicKey);

describe('openNote', () => {
  describe('on the C2SP signed-note example', () => {
    it('verifies with the example verifier key', () => {
      expect(example.valid).toBe(true);
      const opened = openNote(example.note, [example.verifierKey]);
      expect(opened.verifiedBy).toEqual(['example.com/foo']);
      expect(opened.text).toBe('This is an example message.\n');
    });

    it('verifies from the UTF-8 bytes too', () => {
      expect(openNote(utf8(example.note), [example.verifierKey]).verifiedBy).toEqual(['example.com/foo']);
    });
  });

  describe('when a note is signed by a known and an unknown key', () => {
    it('verifies by the known key and keeps the unknown signature', () => {
      const note = addSignatures(signNote('hello\n', 'example.org/alice', alice.secretKey), [
        signNote('hello\n', 'example.org/bob', bob.secretKey).split('\n\n')[1]!,
      ]);
      const opened = openNote(note, [ALICE]);
      expect(opened.verifiedBy).toEqual(['example.org/alice']);
      expect(opened.signatures.map((s) => s.name)).toEqual(['example.org/alice', 'example.org/bob']);
      expect(openNote(note, [ALICE, BOB]).verifiedBy).toEqual(['example.org/alice', 'example.org/bob']);
    });
  });

  describe("when a known key's signature does not verify", () => {
    it('rejects the whole note with NOTE_BAD_SIGNATURE', () => {
      const note = signNote('hello\n', 'example.org/alice', alice.secretKey);
      const [text, sigLine] = note.split('\n\n') as [string, string];
      const raw = fromBase64(sigLine.trim().split(' ')[2]!);
      raw[10] = raw[10]! ^ 1;
      const tampered = `${text}\n\n— example.org/alice ${toBase64(raw)}\n`;
      expect(codeOf(() => openNote(tampered, [ALICE]))).toBe('NOTE_BAD_SIGNATURE');
      // Changing the text breaks it too.
      expect(codeOf(() => openNote(note.replace('hello', 'hellO'), [ALICE]))).toBe('NOTE_BAD_SIGNATURE');
    });
  });

  describe('when no known key signed', () => {
    it('fails with NOTE_UNVERIFIED', () => {
      const note = signNote('hello\n', 'example.org/bob', bob.secretKey);
      expect(codeOf(() => openNote(note, [ALICE]))).toBe('NOTE_UNVERIFIED');
      expect(codeOf(() => openNote(note, []))).toBe('NOTE_UNVERIFIED');
    });

    it('ignores a signature that shares only the name with a known key', () => {
      // Signed by bob's key under alice's name: the key ID differs, so it is an unknown key.
      const note = signNote('hello\n', 'example.org/alice', bob.secretKey);
      expect(codeOf(() => openNote(note, [ALICE]))).toBe('NOTE_UNVERIFIED');
    });
  });
});

describe('parseNote', () => {
  const good = signNote('line one\n\nline three\n', 'example.org/alice', alice.secretKey);
  const sig = good.slice(good.lastIndexOf('\n\n') + 2); // "— name base64\n"

  it('splits at the last blank line, so the text may contain blank lines', () => {
    expect(parseNote(good).text).toBe('line one\n\nline three\n');
    expect(openNote(good, [ALICE]).verifiedBy).toEqual(['example.org/alice']);
  });

  const cases: Array<[string, string | Uint8Array]> = [
    ['there is no blank line', `text\n${sig}`],
    ['it does not end in a newline', `text\n\n${sig.slice(0, -1)}`],
    ['there are no signature lines', 'text\n\n'],
    ['a blank line follows the signatures', `text\n\n${sig}\n`],
    ['a signature line lacks the em dash', `text\n\n${sig.replace('—', '-')}`],
    ['a signature line has no space after the name', `text\n\n— example.org/alice\n`],
    ['a signature is not base64', `text\n\n— example.org/alice !!!!\n`],
    ['a signature is shorter than key ID plus one byte', `text\n\n— example.org/alice ${toBase64(new Uint8Array(4))}\n`],
    ['a signature line has two spaces', `text\n\n— example.org/alice  ${toBase64(new Uint8Array(68))}\n`],
    ['the text has a carriage return', `text\r\n\n${sig}`],
    ['the text has a tab', `te\txt\n\n${sig}`],
    ['the string has a lone surrogate', `te\ud800xt\n\n${sig}`],
    ['the bytes are not UTF-8', concatBytes(utf8('te'), new Uint8Array([0xff]), utf8(`xt\n\n${sig}`))],
    ['there are more than 100 signatures', `text\n\n${sig.repeat(MAX_NOTE_SIGNATURES + 1)}`],
  ];
  for (const [why, input] of cases) {
    describe(`when ${why}`, () => {
      it('fails with NOTE_MALFORMED', () => {
        expect(codeOf(() => parseNote(input))).toBe('NOTE_MALFORMED');
      });
    });
  }

  it('accepts 100 signatures', () => {
    expect(parseNote(`text\n\n${sig.repeat(MAX_NOTE_SIGNATURES)}`).signatures).toHaveLength(MAX_NOTE_SIGNATURES);
  });
});

describe('keyId and verifier keys', () => {
  it('computes the key ID as SHA-256(name || 0x0A || 0x01 || key)[:4]', () => {
    const id = keyId('example.org/alice', alice.publicKey);
    expect(id).toEqual(sha256(concatBytes(utf8('example.org/alice\n'), new Uint8Array([1]), alice.publicKey)).slice(0, 4));
    expect(ALICE.startsWith(`example.org/alice+${toHex(id)}+`)).toBe(true);
  });

  it('parses what it makes, and the example key', () => {
    expect(parseVerifierKey(ALICE)).toEqual({ name: 'example.org/alice', keyId: keyId('example.org/alice', alice.publicKey), publicKey: alice.publicKey });
    const ex = parseVerifierKey(example.verifierKey);
    expect(ex.name).toBe('example.com/foo');
    expect(toHex(ex.keyId)).toBe('530d903a');
  });

  it('parses a key whose base64 contains plus signs', () => {
    // The tessera and registry vector keys both have '+' in their base64 part.
    const k = parseVerifierKey('example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx');
    expect(k.name).toBe('example.com/log/testdata');
    expect(k.publicKey).toHaveLength(32);
  });

  const [name, id, key] = ALICE.split('+') as [string, string, string];
  const bad: Array<[string, string]> = [
    ['the key ID does not match', `${name}+00000000+${key}`],
    ['the key ID is not 8 hex digits', `${name}+${id.slice(1)}+${key}`],
    ['the signature type is not Ed25519', `${name}+${id}+${toBase64(concatBytes(new Uint8Array([2]), alice.publicKey))}`],
    ['the key is 31 bytes', `${name}+${id}+${toBase64(concatBytes(new Uint8Array([1]), alice.publicKey.slice(1)))}`],
    ['the key is not base64', `${name}+${id}+not base64`],
    ['the name has a space', `a b+${id}+${key}`],
    ['the name is empty', `+${id}+${key}`],
    ['a part is missing', `${name}+${id}`],
  ];
  for (const [why, vkey] of bad) {
    describe(`when ${why}`, () => {
      it('fails with NOTE_BAD_VERIFIER_KEY', () => {
        expect(codeOf(() => parseVerifierKey(vkey))).toBe('NOTE_BAD_VERIFIER_KEY');
      });
    });
  }
});

describe('signNote', () => {
  it('produces text, a blank line and one em-dash signature line', () => {
    const note = signNote('hi\n', 'example.org/alice', alice.secretKey);
    expect(note).toMatch(/^hi\n\n— example\.org\/alice [A-Za-z0-9+/]+=*\n$/);
    const sig = parseNote(note).signatures[0]!;
    expect(sig.keyId).toEqual(keyId('example.org/alice', alice.publicKey));
    expect(sig.signature).toHaveLength(64);
  });

  it('refuses text that does not end in a newline, or has control characters', () => {
    expect(codeOf(() => signNote('hi', 'example.org/alice', alice.secretKey))).toBe('NOTE_MALFORMED');
    expect(codeOf(() => signNote('h\ri\n', 'example.org/alice', alice.secretKey))).toBe('NOTE_MALFORMED');
  });

  it('refuses key names with spaces or plus signs', () => {
    expect(codeOf(() => signNote('hi\n', 'a b', alice.secretKey))).toBe('NOTE_BAD_KEY_NAME');
    expect(codeOf(() => signNote('hi\n', 'a+b', alice.secretKey))).toBe('NOTE_BAD_KEY_NAME');
  });
});

describe('addSignatures', () => {
  const note = signNote('hi\n', 'example.org/alice', alice.secretKey);
  const cosig = `— witness.example ${toBase64(new Uint8Array(76).fill(7))}`;

  it('appends cosignature lines once and keeps the note verifiable', () => {
    const more = addSignatures(note, [cosig, `${cosig}\n`]);
    expect(more).toBe(`${note}${cosig}\n`);
    expect(openNote(more, [ALICE]).signatures).toHaveLength(2);
    expect(addSignatures(more, [cosig])).toBe(more);
  });

  it('refuses a line that is not a signature line', () => {
    expect(codeOf(() => addSignatures(note, ['hello']))).toBe('NOTE_MALFORMED');
    expect(codeOf(() => addSignatures(note, [`${cosig}\n${cosig}`]))).toBe('NOTE_MALFORMED');
  });

  it('refuses to go past 100 signatures', () => {
    const lines = Array.from({ length: MAX_NOTE_SIGNATURES }, (_, i) => `— w${i}.example ${toBase64(new Uint8Array(68))}`);
    expect(codeOf(() => addSignatures(note, lines))).toBe('NOTE_MALFORMED');
  });
});
