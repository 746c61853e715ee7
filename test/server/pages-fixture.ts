/**
 * A registry with a small, telling history for the page, feed and browser tests: real SQLite in a
 * temp dir, real did:web documents served from 127.0.0.1 (test/helpers/company.ts), statements
 * admitted through the real POST API, and a delisting appended by the registry's own key.
 *
 *   acme.test    pledged (profile with country and links), rotated its key, pledged again
 *   evil.test    pledged under the name `<script>alert(1)</script>`, then (last of all) added a
 *                country, then renewed that pledge unchanged
 *   quit.test    pledged, then withdrew with a reason full of markup
 *   =, +, -, @   four signatories whose names start with a spreadsheet formula character
 *   gone.test    pledged, then was delisted by the registry
 *               (the first of them, RELISTED, was delisted and then relisted by the registry)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { applyStatement } from '../../src/core/audit/registry-state.ts';
import { digestOf } from '../../src/core/bytes.ts';
import { canonicalBytes } from '../../src/core/json/canonical.ts';
import { buildNotice, nowTimestamp, secureStatement } from '../../src/core/statements/build.ts';
import type { Statement } from '../../src/core/statements/types.ts';
import { loadConfig } from '../../src/config.ts';
import { openRegistry, type Registry } from '../../src/registry.ts';
import { createApp, type AppHandler } from '../../src/server/app.ts';
import { getEntry } from '../../src/storage/entries-repo.ts';
import { Company, DidHost } from '../helpers/company.ts';

export const XSS_NAME = '<script>alert(1)</script>';
export const XSS_REASON = '<img src=x onerror=alert(2)> "quoted" & done';
export const DELIST_REASON = 'Sold <b>exploits</b> to an offensive programme';
export const RELIST_REASON = 'Reviewed: the complaint was unfounded';
export const FORMULA_NAMES: Record<string, string> = {
  'eq.test': '=HYPERLINK("https://evil.example/","click")',
  'plus.test': '+41 Security AG',
  'minus.test': '-1+1 Ltd',
  'at.test': '@SUM(A1:A9)',
};

/** A current signatory that was delisted and then relisted. */
export const RELISTED = Object.keys(FORMULA_NAMES)[0] as string;

export interface PagesFixture {
  app: AppHandler;
  registry: Registry;
  host: DidHost;
  accord: string;
  companies: Record<string, Company>;
  /** Digest of each company's latest statement. */
  heads: Record<string, string>;
  /** Log index of each statement, by label. */
  indexes: Record<string, number>;
  close(): Promise<void>;
}

export async function startPagesFixture(): Promise<PagesFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'accord-pages-'));
  const host = await DidHost.start();
  const domains = ['acme.test', 'evil.test', 'quit.test', 'gone.test', ...Object.keys(FORMULA_NAMES)];
  const companies: Record<string, Company> = {};
  for (const d of domains) companies[d] = new Company(d, host);
  const config = loadConfig({ DATA_DIR: dir, DID_WEB_HOSTS: host.didWebHosts(domains), SUBMIT_RATE_LIMIT: '0', REGISTRY_ORIGIN: 'pages.test/log' });
  const registry = await openRegistry({ dataDir: dir, origin: config.origin });
  const app = createApp({ registry, config, logger: pino({ level: 'silent' }) });
  const accord = (await getEntry(registry.handle.db, 0))!.digest;
  const heads: Record<string, string> = {};
  const indexes: Record<string, number> = {};

  const submit = async (label: string, domain: string, body: Statement): Promise<void> => {
    const res = await request(app).post('/api/v1/statements').set('content-type', 'application/json').send(JSON.stringify(body));
    if (res.status !== 201) throw new Error(`${label}: ${res.status} ${JSON.stringify(res.body)}`);
    heads[domain] = res.body.digest as string;
    indexes[label] = res.body.index as number;
  };
  const c = (d: string): Company => companies[d]!;

  await submit('acme-pledge', 'acme.test', c('acme.test').pledge({
    accord,
    previous: null,
    name: 'Acme Corp',
    country: 'CH',
    links: { website: 'https://acme.test/', securityTxt: 'https://acme.test/.well-known/security.txt' },
  }));
  c('acme.test').rotate();
  await submit('acme-update', 'acme.test', c('acme.test').pledge({
    accord,
    previous: heads['acme.test']!,
    name: 'Acme Corp',
    country: 'CH',
    links: { website: 'https://acme.test/' },
  }));
  await submit('evil-pledge', 'evil.test', c('evil.test').pledge({ accord, previous: null, name: XSS_NAME }));
  await submit('quit-pledge', 'quit.test', c('quit.test').pledge({ accord, previous: null, name: 'Quitter GmbH' }));
  await submit('quit-withdraw', 'quit.test', c('quit.test').withdrawal({ accord, previous: heads['quit.test']!, reason: XSS_REASON }));
  for (const [d, name] of Object.entries(FORMULA_NAMES)) {
    await submit(`${d}-pledge`, d, c(d).pledge({ accord, previous: null, name }));
  }
  await submit('gone-pledge', 'gone.test', c('gone.test').pledge({ accord, previous: null, name: 'Gone Ltd' }));
  indexes['gone-delist'] = await notice(registry, 'did:web:gone.test', 'delist', DELIST_REASON);
  indexes['relisted-delist'] = await notice(registry, `did:web:${RELISTED}`, 'delist', 'Under review');
  indexes['relisted-relist'] = await notice(registry, `did:web:${RELISTED}`, 'relist', RELIST_REASON);
  await submit('evil-update', 'evil.test', c('evil.test').pledge({ accord, previous: heads['evil.test']!, name: XSS_NAME, country: 'CH' }));
  await submit('evil-renewal', 'evil.test', c('evil.test').pledge({ accord, previous: heads['evil.test']!, name: XSS_NAME, country: 'CH' }));

  return {
    app,
    registry,
    host,
    accord,
    companies,
    heads,
    indexes,
    async close() {
      await registry.close();
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A RegistryNotice, signed by the registry's attestation key and appended under its rules. */
async function notice(registry: Registry, did: string, action: 'delist' | 'relist', reason: string): Promise<number> {
  const validFrom = nowTimestamp();
  const keys = registry.keys;
  const unsecured = buildNotice({ registryDid: keys.attestationDid, did, action, reason, validFrom });
  const statement = secureStatement(unsecured, keys.attestationKey, keys.attestationMethod, validFrom);
  const bytes = canonicalBytes(statement);
  const digest = digestOf(bytes);
  const [receipt] = await registry.sequencer.append({
    entries: [{ bytes, digest, type: 'RegistryNotice', subject: did, validFrom }],
    admit: async (ctx) => {
      const prev = (await ctx.getSignatory(did)) ?? null;
      const view = { attestationDid: keys.attestationDid, signatory: (d: string) => (d === did ? prev : null), accord: () => null };
      const change = applyStatement(view, { index: ctx.nextIndex, statement, digest });
      return change.signatory === undefined ? [] : [change.signatory];
    },
  });
  return receipt!.index;
}
