import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAddress } from 'node:dns';
import { connect } from 'node:net';
import { parseDidWebHosts } from '../../src/config.ts';
import { digestOf, utf8 } from '../../src/core/bytes.ts';
import { generateKeyPair } from '../../src/core/crypto/ed25519.ts';
import { encodePublicMultikey } from '../../src/core/crypto/multikey.ts';
import { isAccordError } from '../../src/core/errors.ts';
import { createDidWebFetcher, didDocumentUrl, guardedLookup, isPublicAddress, methodsFromDidDocument, type DidWebFetcher, type LookupFn } from '../../src/server/did-web.ts';
import { Company, DidHost } from '../helpers/company.ts';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isAccordError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a refusal');
}

function codeOfSync(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isAccordError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a refusal');
}

const DOMAINS = ['good.test', 'plain.test', 'ld.test', 'html.test', 'redirect.test', 'gone.test', 'broken.test', 'big.test', 'declared.test', 'slow.test', 'slowbody.test', 'wrongid.test', 'none.test'];

describe('the guarded did:web fetch', () => {
  let host: DidHost;
  let fetcher: DidWebFetcher;

  beforeAll(async () => {
    host = await DidHost.start();
    const { hosts } = parseDidWebHosts(host.didWebHosts(DOMAINS));
    // A short timeout keeps the stalling-server case quick; the default is 5 s (DESIGN 4).
    fetcher = createDidWebFetcher({ hosts, timeoutMs: 400 });
  });

  afterAll(async () => {
    await fetcher.close();
    await host.close();
  });

  describe('when the mapped host serves a valid document', () => {
    it('returns the URL fetched, the bytes, their digest and the assertion methods', async () => {
      const c = new Company('good.test', host);
      const doc = await fetcher.fetch(c.did);
      expect(doc.url).toBe(host.documentUrl('good.test'));
      expect(doc.documentDigest).toBe(digestOf(doc.bytes));
      expect(new TextDecoder().decode(doc.bytes)).toBe(JSON.stringify(c.didDocument(), null, 2));
      expect(doc.methods).toEqual([{ id: `${c.did}#key-1`, publicKeyMultibase: encodePublicMultikey(c.key.publicKey) }]);
    });

    it.each([
      ['plain.test', 'application/json'],
      ['ld.test', 'application/did+ld+json; charset=utf-8'],
    ])('accepts %s served as %s', async (domain, contentType) => {
      const c = new Company(domain, host);
      host.set(domain, { kind: 'document', body: JSON.stringify(c.didDocument()), contentType });
      const doc = await fetcher.fetch(c.did);
      expect(doc.methods.map((m) => m.id)).toEqual([`${c.did}#key-1`]);
    });
  });

  describe('when the host answers badly', () => {
    it('refuses a redirect with DID_WEB_REDIRECT and does not follow it', async () => {
      const c = new Company('redirect.test', host);
      host.set('redirect.test', { kind: 'document', status: 302, body: '', headers: { location: '/good.test/.well-known/did.json' } });
      const before = host.requests.length;
      expect(await codeOf(fetcher.fetch(c.did))).toBe('DID_WEB_REDIRECT');
      expect(host.requests.slice(before)).toEqual(['/redirect.test/.well-known/did.json']);
    });

    it('refuses a wrong content type with DID_WEB_BAD_CONTENT_TYPE', async () => {
      const c = new Company('html.test', host);
      host.set('html.test', { kind: 'document', body: JSON.stringify(c.didDocument()), contentType: 'text/html' });
      expect(await codeOf(fetcher.fetch(c.did))).toBe('DID_WEB_BAD_CONTENT_TYPE');
    });

    it('refuses a missing document with DID_WEB_NOT_FOUND', async () => {
      expect(await codeOf(fetcher.fetch('did:web:gone.test'))).toBe('DID_WEB_NOT_FOUND');
    });

    it('refuses a server error with DID_WEB_FETCH_FAILED', async () => {
      host.set('broken.test', { kind: 'document', status: 500, body: 'oops', contentType: 'text/plain' });
      expect(await codeOf(fetcher.fetch('did:web:broken.test'))).toBe('DID_WEB_FETCH_FAILED');
    });

    it('refuses a body past 64 KiB while streaming with DID_WEB_TOO_LARGE', async () => {
      host.set('big.test', { kind: 'endless', bytes: 200_000 });
      expect(await codeOf(fetcher.fetch('did:web:big.test'))).toBe('DID_WEB_TOO_LARGE');
    });

    it('refuses a declared Content-Length past 64 KiB with DID_WEB_TOO_LARGE', async () => {
      host.set('declared.test', { kind: 'document', body: `{"id":"did:web:declared.test","x":"${'a'.repeat(70_000)}"}` });
      expect(await codeOf(fetcher.fetch('did:web:declared.test'))).toBe('DID_WEB_TOO_LARGE');
    });

    it('gives up on a stalling host with DID_WEB_TIMEOUT', async () => {
      host.set('slow.test', { kind: 'stall' });
      expect(await codeOf(fetcher.fetch('did:web:slow.test'))).toBe('DID_WEB_TIMEOUT');
    });

    it('gives up on a host that stalls in the middle of the body with DID_WEB_TIMEOUT', async () => {
      host.set('slowbody.test', { kind: 'stallBody' });
      expect(await codeOf(fetcher.fetch('did:web:slowbody.test'))).toBe('DID_WEB_TIMEOUT');
    });

    it('still fetches from a host after refusing and abandoning answers of it', async () => {
      // The refusals above abandon requests part way (headers read, body cut, timer fired); the
      // connections they leave must not keep the next fetch from the same host waiting.
      host.set('slow.test', { kind: 'stall' });
      host.set('big.test', { kind: 'endless', bytes: 200_000 });
      host.set('html.test', { kind: 'document', body: '{}', contentType: 'text/html' });
      const good = new Company('good.test', host);
      const refused = await Promise.all(['slow.test', 'big.test', 'html.test', 'gone.test'].map((d) => codeOf(fetcher.fetch(`did:web:${d}`))));
      expect(refused).toEqual(['DID_WEB_TIMEOUT', 'DID_WEB_TOO_LARGE', 'DID_WEB_BAD_CONTENT_TYPE', 'DID_WEB_NOT_FOUND']);
      const docs = await Promise.all(Array.from({ length: 8 }, () => fetcher.fetch(good.did)));
      expect(docs.map((d) => d.methods)).toEqual(Array.from({ length: 8 }, () => [{ id: `${good.did}#key-1`, publicKeyMultibase: encodePublicMultikey(good.key.publicKey) }]));
    });

    it('refuses a document about another DID with DID_WEB_BAD_DOCUMENT', async () => {
      const other = new Company('good.test');
      host.set('wrongid.test', { kind: 'document', body: JSON.stringify(other.didDocument()) });
      expect(await codeOf(fetcher.fetch('did:web:wrongid.test'))).toBe('DID_WEB_BAD_DOCUMENT');
    });
  });

  describe('when nothing listens on the mapped port', () => {
    it('fails with DID_WEB_FETCH_FAILED', async () => {
      const closed = await DidHost.start();
      const { hosts } = parseDidWebHosts(closed.didWebHosts(['none.test']));
      await closed.close();
      const f = createDidWebFetcher({ hosts, timeoutMs: 2000 });
      try {
        expect(await codeOf(f.fetch('did:web:none.test'))).toBe('DID_WEB_FETCH_FAILED');
      } finally {
        await f.close();
      }
    });
  });
});

describe('the address guard for unmapped hosts', () => {
  const fixed =
    (answers: Record<string, string[]>): LookupFn =>
    (hostname, _options, callback) => {
      const list = answers[hostname];
      if (list === undefined) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
        return;
      }
      callback(null, list.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
    };

  it.each([
    ['evil.test', ['127.0.0.1']],
    ['private.test', ['10.1.2.3']],
    ['mixed.test', ['93.184.215.14', '192.168.1.10']],
    ['v6.test', ['::1']],
    ['mapped.test', ['::ffff:127.0.0.1']],
    ['linklocal.test', ['169.254.169.254']],
  ])('refuses %s resolving to %o with DID_WEB_FORBIDDEN_ADDRESS, at connect time', async (name, addresses) => {
    const f = createDidWebFetcher({ hosts: new Map(), timeoutMs: 2000, lookup: fixed({ [name]: addresses }) });
    try {
      expect(await codeOf(f.fetch(`did:web:${name}`))).toBe('DID_WEB_FORBIDDEN_ADDRESS');
    } finally {
      await f.close();
    }
  });

  it('refuses a name that does not resolve with DID_WEB_FETCH_FAILED', async () => {
    const f = createDidWebFetcher({ hosts: new Map(), timeoutMs: 2000, lookup: fixed({}) });
    try {
      expect(await codeOf(f.fetch('did:web:nowhere.test'))).toBe('DID_WEB_FETCH_FAILED');
    } finally {
      await f.close();
    }
  });

  it('fetches https://<domain>/.well-known/did.json for an unmapped DID', () => {
    expect(didDocumentUrl('did:web:example.com', new Map())).toEqual({ url: new URL('https://example.com/.well-known/did.json'), mapped: false });
  });

  it('refuses a DID that is not a bare domain with DID_WEB_BAD_DID', () => {
    expect(codeOfSync(() => didDocumentUrl('did:web:localhost', new Map()))).toBe('DID_WEB_BAD_DID');
    expect(codeOfSync(() => didDocumentUrl('did:web:example.com%3A8443', new Map()))).toBe('DID_WEB_BAD_DID');
  });
});

describe('guardedLookup', () => {
  const toLoopback: LookupFn = (_hostname, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);

  it.each([true, false])('hands net.connect the checked addresses (autoSelectFamily %s)', async (autoSelectFamily) => {
    const host = await DidHost.start();
    try {
      // Allowing loopback here only to see a real connection go through the guard's answer.
      const lookup = guardedLookup(toLoopback, () => true);
      const socket = connect({ host: 'public-name.test', port: host.port, lookup, autoSelectFamily });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      expect(socket.remoteAddress).toBe('127.0.0.1');
      socket.destroy();
    } finally {
      await host.close();
    }
  });

  it('fails the connection with DID_WEB_FORBIDDEN_ADDRESS when an address is refused', async () => {
    const socket = connect({ host: 'public-name.test', port: 9, lookup: guardedLookup(toLoopback) });
    const err = await new Promise<unknown>((resolve) => socket.once('error', resolve));
    expect(isAccordError(err, 'DID_WEB_FORBIDDEN_ADDRESS')).toBe(true);
  });
});

describe('isPublicAddress', () => {
  it.each(['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.0.1', '169.254.1.1', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:10.0.0.1', 'not an address'])(
    'is false for %s',
    (a) => {
      expect(isPublicAddress(a)).toBe(false);
    },
  );

  it.each(['8.8.8.8', '93.184.215.14', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('is true for %s', (a) => {
    expect(isPublicAddress(a)).toBe(true);
  });
});

describe('methodsFromDidDocument', () => {
  const did = 'did:web:example.com';
  const k1 = encodePublicMultikey(generateKeyPair().publicKey);
  const k2 = encodePublicMultikey(generateKeyPair().publicKey);
  const bytes = (doc: unknown) => utf8(JSON.stringify(doc));

  it('keeps Ed25519 Multikey methods referenced from assertionMethod, ids in full form', () => {
    const methods = methodsFromDidDocument(
      did,
      bytes({
        id: did,
        verificationMethod: [
          { id: '#key-1', type: 'Multikey', controller: did, publicKeyMultibase: k1 },
          { id: `${did}#key-2`, type: 'Multikey', controller: did, publicKeyMultibase: k2 },
          { id: '#auth-only', type: 'Multikey', controller: did, publicKeyMultibase: k2 },
          { id: '#jwk', type: 'JsonWebKey2020', controller: did, publicKeyJwk: {} },
          { id: '#not-ed25519', type: 'Multikey', controller: did, publicKeyMultibase: 'zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169' },
          { id: 'did:web:other.example#key-1', type: 'Multikey', controller: 'did:web:other.example', publicKeyMultibase: k1 },
        ],
        assertionMethod: ['#key-1', `${did}#key-2`, '#jwk', '#not-ed25519', 'did:web:other.example#key-1', { id: '#embedded', type: 'Multikey', publicKeyMultibase: k1 }],
        authentication: ['#auth-only'],
      }),
    );
    expect(methods).toEqual([
      { id: `${did}#key-1`, publicKeyMultibase: k1 },
      { id: `${did}#key-2`, publicKeyMultibase: k2 },
    ]);
  });

  it('returns no methods when assertionMethod is absent', () => {
    expect(methodsFromDidDocument(did, bytes({ id: did, verificationMethod: [{ id: '#key-1', type: 'Multikey', publicKeyMultibase: k1 }] }))).toEqual([]);
  });

  it.each([
    ['not JSON', utf8('{"id": ')],
    ['a duplicate member', utf8(`{"id":"${did}","id":"${did}"}`)],
    ['an array', utf8('[]')],
    ['another id', utf8('{"id":"did:web:other.example"}')],
    ['verificationMethod not an array', utf8(`{"id":"${did}","verificationMethod":{}}`)],
    ['one method id with two keys', bytes({ id: did, verificationMethod: [{ id: '#k', type: 'Multikey', publicKeyMultibase: k1 }, { id: `${did}#k`, type: 'Multikey', publicKeyMultibase: k2 }], assertionMethod: ['#k'] })],
  ])('refuses %s with DID_WEB_BAD_DOCUMENT', (_what, b) => {
    expect(codeOfSync(() => methodsFromDidDocument(did, b))).toBe('DID_WEB_BAD_DOCUMENT');
  });
});
