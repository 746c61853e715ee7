import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig, mappedDocumentUrl, parseDidWebHosts } from '../../src/config.ts';
import { isAccordError } from '../../src/core/errors.ts';

function configError(env: Record<string, string>): { code: string; message: string } {
  try {
    loadConfig(env);
  } catch (e) {
    if (isAccordError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  describe('with an empty environment', () => {
    it('uses the defaults of DESIGN section 9', () => {
      const c = loadConfig({});
      expect(c).toMatchObject({
        port: 3000,
        dataDir: 'data/registry/',
        databaseUrl: null,
        origin: 'localhost/log',
        submitRateLimit: DEFAULTS.submitRateLimit,
        trustProxy: null,
        logLevel: 'info',
      });
      expect(c.didWebHosts.size).toBe(0);
      // No HOST: listen on every interface, as servers usually do.
      expect(c.host).toBeNull();
    });

    it('treats empty variables as unset', () => {
      const c = loadConfig({ PORT: '', DATABASE_URL: '', DID_WEB_HOSTS: '', HOST: '' });
      expect(c.port).toBe(3000);
      expect(c.host).toBeNull();
      expect(c.databaseUrl).toBeNull();
    });
  });

  describe('with every variable set', () => {
    it('reads each one', () => {
      const c = loadConfig({
        PORT: '8080',
        HOST: '127.0.0.1',
        DATA_DIR: '/var/lib/accord',
        DATABASE_URL: 'postgres://u:p@db:5432/accord',
        REGISTRY_ORIGIN: 'registry.example.org/log',
        DID_WEB_HOSTS: 'example.com=http://127.0.0.1:4100, acme.test=https://10.0.0.5/acme',
        SUBMIT_RATE_LIMIT: '0',
        TRUST_PROXY: 'loopback, 10.0.0.0/8',
        LOG_LEVEL: 'debug',
      });
      expect(c.port).toBe(8080);
      expect(c.host).toBe('127.0.0.1');
      expect(c.dataDir).toBe('/var/lib/accord');
      expect(c.databaseUrl).toBe('postgres://u:p@db:5432/accord');
      expect(c.origin).toBe('registry.example.org/log');
      expect(c.submitRateLimit).toBe(0);
      expect(c.trustProxy).toEqual(['loopback', '10.0.0.0/8']);
      expect(c.logLevel).toBe('debug');
      expect([...c.didWebHosts.keys()]).toEqual(['example.com', 'acme.test']);
      expect(mappedDocumentUrl(c.didWebHosts.get('example.com')!).href).toBe('http://127.0.0.1:4100/.well-known/did.json');
      expect(mappedDocumentUrl(c.didWebHosts.get('acme.test')!).href).toBe('https://10.0.0.5/acme/.well-known/did.json');
    });
  });

  describe('when a value is invalid', () => {
    it.each([
      [{ PORT: 'eighty' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ PORT: '-1' }, 'PORT'],
      [{ SUBMIT_RATE_LIMIT: '1.5' }, 'SUBMIT_RATE_LIMIT'],
      [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
      [{ REGISTRY_ORIGIN: 'has space/log' }, 'REGISTRY_ORIGIN'],
      [{ REGISTRY_ORIGIN: 'a+b/log' }, 'REGISTRY_ORIGIN'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ HOST: 'http://127.0.0.1' }, 'HOST'],
      [{ HOST: '127.0.0.1:3000' }, 'HOST'],
      [{ HOST: '256.0.0.1' }, 'HOST'],
      [{ HOST: 'two words' }, 'HOST'],
      [{ HOST: '-leading.example' }, 'HOST'],
      [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY'],
      [{ TRUST_PROXY: '*' }, 'TRUST_PROXY'],
      [{ TRUST_PROXY: '1.2.3' }, 'TRUST_PROXY'],
      [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
      [{ TRUST_PROXY: 'loopback,,10.0.0.1' }, 'TRUST_PROXY'],
      [{ TRUST_PROXY: '100' }, 'TRUST_PROXY'],
    ])('refuses %o with CONFIG_INVALID naming %s', (env, name) => {
      const e = configError(env);
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.message).toContain(name);
    });

    it.each(['127.0.0.1', '0.0.0.0', '::1', '::', 'localhost', 'registry.example.org'])('accepts HOST=%s', (host) => {
      expect(loadConfig({ HOST: host }).host).toBe(host);
    });

    it.each([
      ['1', 1],
      ['2', 2],
      ['0', null],
      ['loopback', ['loopback']],
      ['127.0.0.1,::1', ['127.0.0.1', '::1']],
      ['uniquelocal, 192.0.2.0/24, 2001:db8::/32', ['uniquelocal', '192.0.2.0/24', '2001:db8::/32']],
    ])('reads TRUST_PROXY=%s as %o', (value, expected) => {
      expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
    });

    it('lists every problem at once', () => {
      const e = configError({ PORT: 'x', LOG_LEVEL: 'y', DID_WEB_HOSTS: 'nonsense' });
      expect(e.message).toContain('PORT');
      expect(e.message).toContain('LOG_LEVEL');
      expect(e.message).toContain('DID_WEB_HOSTS');
    });
  });
});

describe('parseDidWebHosts', () => {
  it.each([
    ['example.com', 'not domain=base-URL'],
    ['=http://127.0.0.1:1', 'not domain=base-URL'],
    ['localhost=http://127.0.0.1:1', 'not a domain'],
    ['example.com:8080=http://127.0.0.1:1', 'not a domain'],
    ['example.com=127.0.0.1:4100', 'not a URL'],
    ['example.com=localhost:4100', 'http or https'],
    ['example.com=not a url', 'not a URL'],
    ['example.com=ftp://127.0.0.1/', 'http or https'],
    ['example.com=http://u:p@127.0.0.1/', 'no credentials'],
    ['example.com=http://127.0.0.1/?x=1', 'no credentials, query or fragment'],
    ['example.com=http://127.0.0.1/#f', 'no credentials, query or fragment'],
    ['example.com=http://127.0.0.1:1,example.com=http://127.0.0.1:2', 'more than once'],
  ])('refuses %s', (value, problem) => {
    const { problems } = parseDidWebHosts(value);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('lowercases domains and ignores blanks around entries', () => {
    const { hosts, problems } = parseDidWebHosts(' Example.COM = http://127.0.0.1:4100/ ');
    expect(problems).toEqual([]);
    expect(mappedDocumentUrl(hosts.get('example.com')!).href).toBe('http://127.0.0.1:4100/.well-known/did.json');
  });
});
