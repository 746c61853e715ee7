/**
 * Base58-btc decoding of a 64-byte Ed25519 signature (a proofValue without its multibase "z"), for
 * the audit's fast path: the generic decoder (@scure/base, used by proof.ts) converts digit by
 * digit through arrays and shows in a profile of a large audit. Here digits are taken three at a
 * time into 32-bit limbs held as doubles (a limb times 58^3 plus a carry stays below 2^50: exact).
 *
 * Base58 (Bitcoin alphabet): each leading "1" is one leading zero byte, the remaining digits are a
 * big-endian number written in its fewest bytes. The result is returned only when it is exactly 64
 * bytes, the one case the caller needs; anything else is null, and the caller uses the generic
 * decoder. test/audit/entry-check.test.ts checks it against @scure/base.
 */
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;

const BASE = 2 ** 32;
/** 17 limbs: 68 bytes, room for any value of 64 bytes and a little more. */
const LIMBS = 17;
const limbs = new Float64Array(LIMBS);
const wide = new Uint8Array(4 * LIMBS);
const view = new DataView(wide.buffer);

/**
 * The last value decoded: a statement's proofValue is decoded by the schema check and then again
 * for the signature (in the server and in the audit), and the second time costs a comparison.
 * A private copy, so what a caller does with its result cannot change a later one.
 */
let lastInput: string | null = null;
let lastFrom = -1;
let lastResult: Uint8Array | null = null;

/** The 64 bytes that `s.slice(from)` encodes in base58-btc, or null if that is not exactly 64 bytes. */
export function decodeBase58Signature(s: string, from = 0): Uint8Array | null {
  if (s === lastInput && from === lastFrom) return lastResult === null ? null : lastResult.slice();
  const result = decode(s, from);
  lastInput = s;
  lastFrom = from;
  lastResult = result === null ? null : result.slice();
  return result;
}

function decode(s: string, from: number): Uint8Array | null {
  limbs.fill(0);
  let i = from;
  let zeros = 0;
  while (i < s.length && s.charCodeAt(i) === 0x31) {
    zeros++;
    i++;
  }
  let used = 0; // limbs in use: the number grows from the low end
  while (i < s.length) {
    let group = 0;
    let scale = 1;
    for (let k = 0; k < 3 && i < s.length; k++, i++) {
      const c = s.charCodeAt(i);
      const d = c < 128 ? (DIGIT[c] as number) : -1;
      if (d < 0) return null;
      group = group * 58 + d;
      scale *= 58;
    }
    let carry = group;
    for (let j = 0; j < used; j++) {
      const x = (limbs[j] as number) * scale + carry;
      carry = Math.floor(x / BASE);
      limbs[j] = x - carry * BASE;
    }
    // carry < 58^3 here, so one more limb holds it.
    if (carry !== 0) {
      if (used === LIMBS) return null;
      limbs[used++] = carry;
    }
  }
  for (let j = 0; j < LIMBS; j++) view.setUint32(wide.length - 4 - 4 * j, limbs[j] as number);
  let lead = 0;
  while (lead < wide.length && wide[lead] === 0) lead++;
  // Leading "1"s plus the number's own bytes make the decoded length.
  if (zeros + (wide.length - lead) !== 64) return null;
  return wide.slice(wide.length - 64);
}
