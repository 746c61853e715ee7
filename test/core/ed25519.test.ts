import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../../src/core/bytes.ts';
import { generateKeyPair, keyPairFromSeed, sign, verify } from '../../src/core/crypto/ed25519.ts';
import { KEY_CACHE_MAX, keyPassesScreen, verifyFast } from '../../src/node/ed25519-fast.ts';

const VECTORS = new URL('../../../shared/vectors/ed25519/', import.meta.url);
const L = 2n ** 252n + 27742317777372353535851937790883648493n; // RFC 8032 5.1
const P = 2n ** 255n - 19n;

type Verifier = (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array) => boolean;
const VERIFIERS: Array<[string, Verifier]> = [
  ['verify (core)', verify],
  ['verifyFast (node:crypto)', verifyFast],
];

interface SpeccheckCase { message: string; pub_key: string; signature: string }
interface WycheproofTest { tcId: number; comment: string; msg: string; sig: string; result: 'valid' | 'invalid' }
interface WycheproofFile { testGroups: Array<{ publicKey: { pk: string }; tests: WycheproofTest[] }> }

const speccheck = JSON.parse(readFileSync(new URL('speccheck_cases.json', VECTORS), 'utf8')) as SpeccheckCase[];
const wycheproof = JSON.parse(readFileSync(new URL('wycheproof_ed25519_test.json', VECTORS), 'utf8')) as WycheproofFile;

// --- little helpers over scalars and points -------------------------------------------------

function leToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number);
  return n;
}

function bigIntToLe(n: bigint, len = 32): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function challenge(R: Uint8Array, A: Uint8Array, msg: Uint8Array): bigint {
  return leToBigInt(sha512(concatBytes(R, A, msg))) % L; // RFC 8032 5.1.7 step 2
}

function mulBase(n: bigint): ed.Point {
  return n === 0n ? ed.Point.ZERO : ed.Point.BASE.multiply(n, false);
}

/** The eight points of small order, from the order-8 point used by speccheck case 0's key. */
const TORSION: ed.Point[] = (() => {
  const t8 = ed.Point.fromBytes(fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa'), false);
  const pts = [ed.Point.ZERO];
  for (let i = 1; i < 8; i++) pts.push((pts[i - 1] as ed.Point).add(t8));
  return pts;
})();

/** Canonical encodings of the small-order points plus their non-canonical variants (y + p, x = 0 with sign bit). */
const SMALL_ORDER_ENCODINGS: Uint8Array[] = (() => {
  const out: Uint8Array[] = TORSION.map((t) => t.toBytes());
  for (const t of TORSION) {
    const { x, y } = t.toAffine();
    if (x === 0n) {
      const b = t.toBytes();
      b[31] = (b[31] as number) | 0x80;
      out.push(b);
    }
    if (y + P < 2n ** 255n) {
      for (const sign of [0, 0x80]) {
        const b = bigIntToLe(y + P);
        b[31] = (b[31] as number) | sign;
        out.push(b);
      }
    }
  }
  return out;
})();

/** Non-canonical encodings (y + p, y < 19) of points that are on the curve and NOT of small order. */
const NON_CANONICAL_ENCODINGS: Uint8Array[] = (() => {
  const out: Uint8Array[] = [];
  for (let y = 0n; y < 19n; y++) {
    for (const sign of [0, 0x80]) {
      const b = bigIntToLe(y + P);
      b[31] = (b[31] as number) | sign;
      try {
        if (!ed.Point.fromBytes(b, true).isSmallOrder()) out.push(b);
      } catch {
        // not on the curve
      }
    }
  }
  return out;
})();

// --- the vectors ------------------------------------------------------------------------------

describe.each(VERIFIERS)('%s', (_name, verifyFn) => {
  describe('on the speccheck cases ("Taming the many EdDSAs")', () => {
    it('has the 12 cases', () => {
      expect(speccheck).toHaveLength(12);
    });

    speccheck.forEach((c, i) => {
      const expected = i === 2 || i === 3;
      it(`case ${i} is ${expected ? 'valid' : 'invalid'}`, () => {
        expect(verifyFn(fromHex(c.signature), fromHex(c.message), fromHex(c.pub_key))).toBe(expected);
      });
    });
  });

  describe('on the Wycheproof EdDSA vectors', () => {
    const cases = wycheproof.testGroups.flatMap((g) => g.tests.map((t) => ({ pk: g.publicKey.pk, ...t })));

    it('reads every case of the file', () => {
      expect(cases.length).toBeGreaterThanOrEqual(150);
      expect(cases.some((c) => c.result === 'valid')).toBe(true);
      expect(cases.some((c) => c.result === 'invalid')).toBe(true);
    });

    for (const c of cases) {
      it(`tcId ${c.tcId} (${c.comment || 'no comment'}) is ${c.result}`, () => {
        expect(verifyFn(fromHex(c.sig), fromHex(c.msg), fromHex(c.pk))).toBe(c.result === 'valid');
      });
    }
  });

  describe('on a fresh key', () => {
    const kp = generateKeyPair();
    const msg = new TextEncoder().encode('six principles of cyber-peace');
    const sig = sign(msg, kp.secretKey);

    it('verifies its own signature', () => {
      expect(verifyFn(sig, msg, kp.publicKey)).toBe(true);
    });

    it('refuses the signature on another message or under another key', () => {
      expect(verifyFn(sig, msg.subarray(1), kp.publicKey)).toBe(false);
      expect(verifyFn(sig, msg, generateKeyPair().publicKey)).toBe(false);
    });

    it('returns false, without throwing, on wrong lengths and types', () => {
      expect(verifyFn(sig.subarray(0, 63), msg, kp.publicKey)).toBe(false);
      expect(verifyFn(concatBytes(sig, new Uint8Array(1)), msg, kp.publicKey)).toBe(false);
      expect(verifyFn(sig, msg, kp.publicKey.subarray(0, 31))).toBe(false);
      expect(verifyFn(new Uint8Array(0), msg, kp.publicKey)).toBe(false);
      expect(verifyFn('sig' as unknown as Uint8Array, msg, kp.publicKey)).toBe(false);
      expect(verifyFn(sig, null as unknown as Uint8Array, kp.publicKey)).toBe(false);
      expect(verifyFn(sig, msg, [...kp.publicKey] as unknown as Uint8Array)).toBe(false);
    });

    it('accepts a signature that sits at an offset inside a larger buffer', () => {
      const buf = concatBytes(new Uint8Array(7), sig, kp.publicKey, msg);
      expect(verifyFn(buf.subarray(7, 71), buf.subarray(103), buf.subarray(71, 103))).toBe(true);
    });
  });
});

describe('sign and keyPairFromSeed', () => {
  it('round-trips: a signature by a seed verifies under the public key derived from it', () => {
    const seed = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'); // RFC 8032 7.1 TEST 1
    const kp = keyPairFromSeed(seed);
    expect(toHex(kp.publicKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const sig = sign(new Uint8Array(0), kp.secretKey);
    expect(toHex(sig)).toBe('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');
    expect(verify(sig, new Uint8Array(0), kp.publicKey)).toBe(true);
    expect(verifyFast(sig, new Uint8Array(0), kp.publicKey)).toBe(true);
  });

  it('refuses a secret key that is not 32 bytes with BAD_SECRET_KEY', () => {
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'BAD_SECRET_KEY' }));
    expect(() => sign(new Uint8Array(1), new Uint8Array(64))).toThrow(expect.objectContaining({ code: 'BAD_SECRET_KEY' }));
  });
});

describe('verifyFast key cache', () => {
  it(`keeps giving the right verdicts after more than ${KEY_CACHE_MAX} distinct keys evicted the first ones`, () => {
    const keys = Array.from({ length: KEY_CACHE_MAX + 100 }, () => {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
      return { raw, privateKey };
    });
    const msg = new TextEncoder().encode('bulk audit');
    const sigs = keys.map((k) => new Uint8Array(nodeSign(null, msg, k.privateKey)));
    let ok = 0;
    keys.forEach((k, i) => {
      if (verifyFast(sigs[i] as Uint8Array, msg, k.raw)) ok++;
    });
    expect(ok).toBe(keys.length);
    // The first key was evicted; it must still verify, and must not be confused with its neighbour.
    const first = keys[0]!;
    expect(verifyFast(sigs[0]!, msg, first.raw)).toBe(true);
    expect(verifyFast(sigs[1]!, msg, first.raw)).toBe(false);
    expect(verify(sigs[0]!, msg, first.raw)).toBe(true);
  });
});

// --- differential test --------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, so a failure names a reproducible seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Signer { seed: Uint8Array; pub: Uint8Array; scalar: bigint; point: ed.Point }
interface Case { kind: string; sig: Uint8Array; msg: Uint8Array; pub: Uint8Array }

function makeCases(count: number, seed: number): Case[] {
  const rand = prng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const scalar = (): bigint => leToBigInt(bytes(64)) % L;
  const flip = (b: Uint8Array, from = 0, to = b.length): Uint8Array => {
    const c = Uint8Array.from(b);
    const i = from + int(to - from);
    c[i] = (c[i] as number) ^ (1 << int(8));
    return c;
  };
  const withS = (sig: Uint8Array, s: bigint): Uint8Array => concatBytes(sig.subarray(0, 32), bigIntToLe(s));

  const signers: Signer[] = Array.from({ length: 6 }, () => {
    const s = bytes(32);
    const e = ed.utils.getExtendedPublicKey(s);
    return { seed: s, pub: e.pointBytes, scalar: e.scalar, point: e.point };
  });
  const pool = Array.from({ length: 48 }, () => {
    const signer = pick(signers);
    const msg = bytes(int(80));
    return { signer, msg, sig: sign(msg, signer.seed), pub: signer.pub };
  });

  /** A signature computed by hand: R = [r]B + tR, key bytes `pub` (maybe A + tA), S = r + k*a. */
  const craft = (signer: Signer, msg: Uint8Array, tR: ed.Point, pub: Uint8Array): Uint8Array => {
    const r = scalar();
    const Rb = mulBase(r).add(tR).toBytes();
    const k = challenge(Rb, pub, msg);
    return concatBytes(Rb, bigIntToLe((r + k * signer.scalar) % L));
  };

  // Weights (percent). Cases that pass every encoding check cost two scalar multiplications of
  // an arbitrary point in the core path (milliseconds each in pure JS); they carry the valid
  // verdicts and the mixed-order subtleties, and are kept to about a fifth so the test stays fast.
  // The rest aim at what the fast path screens itself: S range, encodings, small-order keys.
  const mutations: Array<[string, number, () => Omit<Case, 'kind'>]> = [
    ['valid', 3, () => pick(pool)],
    ['mixed-order key (A + T), S recomputed', 2.5, () => {
      const signer = pick(signers);
      const msg = bytes(int(40));
      const pub = signer.point.add(pick(TORSION)).toBytes();
      return { msg, pub, sig: craft(signer, msg, rand() < 0.5 ? ed.Point.ZERO : pick(TORSION), pub) };
    }],
    ['mixed-order R ([r]B + T), S recomputed', 1.5, () => {
      const signer = pick(signers);
      const msg = bytes(int(40));
      return { msg, pub: signer.pub, sig: craft(signer, msg, pick(TORSION), signer.pub) };
    }],
    ['small-order R, S recomputed (identity R is valid)', 1.5, () => {
      const signer = pick(signers);
      const msg = bytes(int(40));
      const Rb = rand() < 0.3 ? ed.Point.ZERO.toBytes() : pick(SMALL_ORDER_ENCODINGS);
      return { msg, pub: signer.pub, sig: concatBytes(Rb, bigIntToLe((challenge(Rb, signer.pub, msg) * signer.scalar) % L)) };
    }],
    ['flip a low S bit', 0.75, () => { const b = pick(pool); return { ...b, sig: flip(b.sig, 32, 63) }; }],
    ['flip a message bit', 0.75, () => { const b = pick(pool); return { ...b, msg: b.msg.length ? flip(b.msg) : Uint8Array.of(int(256)) }; }],
    ['shorten or extend the message', 0.75, () => {
      const b = pick(pool);
      return { ...b, msg: b.msg.length > 0 && rand() < 0.5 ? b.msg.subarray(0, int(b.msg.length)) : concatBytes(b.msg, bytes(1 + int(3))) };
    }],
    ['negate the key (flip its sign bit)', 0.75, () => { const b = pick(pool); const pub = Uint8Array.from(b.pub); pub[31] = (pub[31] as number) ^ 0x80; return { ...b, pub }; }],
    ['another signer\'s key', 0.75, () => { const b = pick(pool); return { ...b, pub: pick(signers.filter((s) => s !== b.signer)).pub }; }],
    ['S at the low edges (0, 1, L-1)', 0.75, () => { const b = pick(pool); return { ...b, sig: withS(b.sig, pick([0n, 1n, L - 1n])) }; }],
    ['flip a signature bit', 2, () => { const b = pick(pool); return { ...b, sig: flip(b.sig) }; }],
    ['flip an R bit', 2, () => { const b = pick(pool); return { ...b, sig: flip(b.sig, 0, 32) }; }],
    ['replace a signature byte', 2, () => { const b = pick(pool); const sig = Uint8Array.from(b.sig); sig[int(64)] = int(256); return { ...b, sig }; }],
    ['flip a key bit', 2, () => { const b = pick(pool); return { ...b, pub: flip(b.pub) }; }],
    ['speccheck case with a flipped bit', 3, () => {
      const c = pick(speccheck);
      const sig = fromHex(c.signature);
      const pub = fromHex(c.pub_key);
      const msg = fromHex(c.message);
      return int(2) === 0 ? { sig: flip(sig), pub, msg } : { sig, pub: flip(pub), msg };
    }],
    ['S + L (same equation mod L)', 8, () => { const b = pick(pool); return { ...b, sig: withS(b.sig, leToBigInt(b.sig.subarray(32)) + L) }; }],
    ['S + n*L below 2^256', 8, () => {
      const b = pick(pool);
      const s = leToBigInt(b.sig.subarray(32));
      const n = BigInt(1 + int(15));
      return { ...b, sig: withS(b.sig, s + n * L < 2n ** 256n ? s + n * L : s + L) };
    }],
    ['S at the high edges (L, L+1, 2^255, 2^256-1)', 6, () => { const b = pick(pool); return { ...b, sig: withS(b.sig, pick([L, L + 1n, 2n ** 255n, 2n ** 256n - 1n])) }; }],
    ['swap R and S', 6, () => { const b = pick(pool); return { ...b, sig: concatBytes(b.sig.subarray(32), b.sig.subarray(0, 32)) }; }],
    ['truncate or extend the signature or key', 8, () => {
      const b = pick(pool);
      switch (int(4)) {
        case 0: return { ...b, sig: b.sig.subarray(0, int(64)) };
        case 1: return { ...b, sig: concatBytes(b.sig, bytes(1)) };
        case 2: return { ...b, pub: b.pub.subarray(0, int(32)) };
        default: return { ...b, pub: concatBytes(b.pub, bytes(1)) };
      }
    }],
    ['small-order key, a valid signature by another key', 8, () => { const b = pick(pool); return { ...b, pub: pick(SMALL_ORDER_ENCODINGS) }; }],
    ['small-order key, S = 0 forgery with small-order R', 8, () => ({
      msg: bytes(int(40)), pub: pick(SMALL_ORDER_ENCODINGS), sig: concatBytes(pick(SMALL_ORDER_ENCODINGS), new Uint8Array(32)),
    })],
    ['small-order key, R = [r]B + T, S = r forgery', 6, () => {
      const r = scalar();
      return { msg: bytes(int(40)), pub: pick(SMALL_ORDER_ENCODINGS), sig: concatBytes(mulBase(r).add(pick(TORSION)).toBytes(), bigIntToLe(r)) };
    }],
    ['non-canonical key encoding (y + p)', 8, () => { const b = pick(pool); return { ...b, pub: pick(NON_CANONICAL_ENCODINGS) }; }],
    ['non-canonical or small-order R encoding', 8, () => {
      const b = pick(pool);
      return { ...b, sig: concatBytes(pick([...NON_CANONICAL_ENCODINGS, ...SMALL_ORDER_ENCODINGS]), b.sig.subarray(32)) };
    }],
    ['random bytes', 6, () => ({ sig: bytes(64), msg: bytes(int(40)), pub: rand() < 0.5 ? bytes(32) : pick(signers).pub })],
  ];
  const total = mutations.reduce((n, [, w]) => n + w, 0);
  const choose = (): [string, () => Omit<Case, 'kind'>] => {
    let x = rand() * total;
    for (const [name, w, make] of mutations) {
      x -= w;
      if (x < 0) return [name, make];
    }
    const last = mutations[mutations.length - 1]!;
    return [last[0], last[2]];
  };

  return Array.from({ length: count }, () => {
    const [kind, make] = choose();
    const { sig, msg, pub } = make();
    return { kind, sig, msg, pub };
  });
}

describe('verifyFast against verify (differential)', () => {
  it('builds its edge-case encodings as described (small order; non-canonical but on the curve)', () => {
    expect(new Set(SMALL_ORDER_ENCODINGS.map(toHex)).size).toBeGreaterThanOrEqual(14);
    for (const b of SMALL_ORDER_ENCODINGS) expect(ed.Point.fromBytes(b, true).isSmallOrder()).toBe(true);
    expect(NON_CANONICAL_ENCODINGS.length).toBeGreaterThan(0);
    for (const b of NON_CANONICAL_ENCODINGS) {
      expect(() => ed.Point.fromBytes(b, false)).toThrow();
      expect(ed.Point.fromBytes(b, true).isSmallOrder()).toBe(false);
    }
  });

  const SEED = 0x5eed_2026;
  // ED25519_DIFF_COUNT / ED25519_DIFF_SEED run a longer or different campaign by hand.
  const COUNT = Math.max(10_000, Number(process.env.ED25519_DIFF_COUNT ?? 0) || 0);
  const seed = Number(process.env.ED25519_DIFF_SEED ?? SEED) >>> 0;

  it(`gives the same verdict on ${COUNT} mutated signatures, keys and messages (seed ${seed})`, () => {
    const cases = makeCases(COUNT, seed);
    const verdicts = { valid: 0, invalid: 0 };
    const byKind = new Map<string, { valid: number; invalid: number }>();
    const disagreements: string[] = [];
    for (const c of cases) {
      const slow = verify(c.sig, c.msg, c.pub);
      const fast = verifyFast(c.sig, c.msg, c.pub);
      if (slow !== fast && disagreements.length < 5) {
        disagreements.push(`${c.kind}: core ${slow}, fast ${fast}; sig ${toHex(c.sig)} msg ${toHex(c.msg)} pub ${toHex(c.pub)}`);
      }
      verdicts[slow ? 'valid' : 'invalid']++;
      const k = byKind.get(c.kind) ?? { valid: 0, invalid: 0 };
      k[slow ? 'valid' : 'invalid']++;
      byKind.set(c.kind, k);
    }
    expect(disagreements).toEqual([]);
    expect(verdicts.valid).toBeGreaterThan(COUNT / 50);
    expect(verdicts.invalid).toBeGreaterThan(COUNT / 2);
    // The crafted cases reach both verdicts, so the checks that separate them really ran.
    expect(byKind.get('mixed-order key (A + T), S recomputed')?.valid).toBeGreaterThan(0);
    expect(byKind.get('mixed-order key (A + T), S recomputed')?.invalid).toBeGreaterThan(0);
    expect(byKind.get('small-order R, S recomputed (identity R is valid)')?.valid).toBeGreaterThan(0);
    expect(byKind.get('valid')?.invalid).toBe(0);
  }, Math.max(60_000, COUNT * 10)); // a ceiling for loaded machines and long campaigns, not a timing assertion

  it('refuses small-order keys even where the cofactorless equation holds (what OpenSSL alone would accept)', () => {
    // A forgery needing no secret: A small-order, S = 0, R = -[k]A. OpenSSL's equation holds for it.
    let found = 0;
    const msg = new Uint8Array(8);
    for (let n = 0; n < 256 && found < 8; n++) {
      msg[0] = n;
      const A = TORSION[1 + (n % 7)] as ed.Point;
      const pub = A.toBytes();
      for (const R of TORSION) {
        const Rb = R.toBytes();
        if (!R.add(A.multiply(challenge(Rb, pub, msg), false)).is0()) continue;
        const sig = concatBytes(Rb, new Uint8Array(32));
        expect(verify(sig, msg, pub)).toBe(false);
        expect(verifyFast(sig, msg, pub)).toBe(false);
        found++;
      }
    }
    expect(found).toBeGreaterThan(0);
  });
});

describe('keyPassesScreen (what verifyFast checks of A before OpenSSL)', () => {
  /** noble's verdict on A: strict decoding (RFC 8032 5.1.3 with y < p) and not of small order. */
  const nobleAccepts = (b: Uint8Array): boolean | 'not on the curve' => {
    try {
      return !ed.Point.fromBytes(b, false).isSmallOrder();
    } catch {
      try {
        ed.Point.fromBytes(b, true); // on the curve under lenient (zip215) decoding?
        return false;
      } catch {
        return 'not on the curve';
      }
    }
  };

  it('refuses exactly what noble refuses, among keys that are on the curve', () => {
    const rand = prng(0xacc0);
    const cases: Uint8Array[] = [...SMALL_ORDER_ENCODINGS, ...NON_CANONICAL_ENCODINGS];
    for (let i = 0; i < 400; i++) cases.push(keyPairFromSeed(Uint8Array.from({ length: 32 }, () => Math.floor(rand() * 256))).publicKey);
    // x = 0 with either sign bit, and y = p - 1, p, p + 1 with either sign.
    for (const y of [1n, P - 1n, P, P + 1n, 2n ** 255n - 1n]) {
      for (const sign of [0, 0x80]) {
        const b = bigIntToLe(y % 2n ** 255n);
        b[31] = (b[31] as number) | sign;
        cases.push(b);
      }
    }
    let onCurve = 0;
    for (const b of cases) {
      const noble = nobleAccepts(b);
      if (noble === 'not on the curve') continue; // left to OpenSSL, which refuses it too (verify returns false)
      onCurve++;
      expect(keyPassesScreen(b)).toBe(noble);
    }
    expect(onCurve).toBeGreaterThan(420);
  });

  it('lets through keys that are not on the curve, which then never verify', () => {
    const rand = prng(0xacc1);
    const msg = new Uint8Array(64);
    let offCurve = 0;
    for (let i = 0; i < 200 && offCurve < 20; i++) {
      const b = Uint8Array.from({ length: 32 }, () => Math.floor(rand() * 256));
      b[31] = (b[31] as number) & 0x7f;
      if (nobleAccepts(b) !== 'not on the curve') continue;
      offCurve++;
      expect(verifyFast(new Uint8Array(64), msg, b)).toBe(false);
      expect(verify(new Uint8Array(64), msg, b)).toBe(false);
    }
    expect(offCurve).toBeGreaterThan(0);
  });
});
