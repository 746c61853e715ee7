/**
 * accord-admin (DESIGN section 8): the operator's own statements, signed with the registry's
 * attestation key and appended through the sequencer on the registry's own database (configured
 * as for `npm start`: DATA_DIR, DATABASE_URL, REGISTRY_ORIGIN). It may run while the server runs:
 * the sequencer takes the database's write lock, so the log has one writer at a time.
 *
 *   accord-admin accord FILE                                  a new accord version (AccordText)
 *   accord-admin notice delist|relist DOMAIN --reason TEXT    moderation in the open (RegistryNotice)
 *
 * The registry's rules (core/audit/registry-state.ts) decide, under the write lock, exactly as
 * they do for the auditor: an accord id already in the log is refused, a notice must name a DID
 * that pledged, and a relist must follow a delist.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { applyStatement, type RegistryView } from '../core/audit/registry-state.ts';
import { digestOf } from '../core/bytes.ts';
import { AccordError, describeValue, isAccordError } from '../core/errors.ts';
import { canonicalBytes } from '../core/json/canonical.ts';
import { buildAccordText, buildNotice, nowTimestamp, secureStatement } from '../core/statements/build.ts';
import { didWebFromDomain, isDidWeb } from '../core/statements/did.ts';
import type { Statement, UnsecuredStatement } from '../core/statements/types.ts';
import type { Receipt } from '../log/sequencer.ts';
import type { Registry } from '../registry.ts';
import { parseCli, runCli, usageError } from './args.ts';
import { refusal } from './exit.ts';
import { assertRegistryExists } from './export.ts';

const USAGE = `usage: accord-admin accord FILE [--json]
       accord-admin notice delist|relist DOMAIN --reason TEXT [--json]

The operator's statements, on the registry's own database (DATA_DIR / DATABASE_URL /
REGISTRY_ORIGIN, as for npm start), signed with the registry's attestation key:
  accord FILE       append a new accord version (an accord file like data/accords/tech-sector-1.json)
  notice delist     delist a signatory: shown as delisted, cannot submit until relisted
  notice relist     relist a delisted signatory
  --json            print only the receipt, as JSON

Exit 0: appended; 1: refused by the registry's rules; 2: could not run.`;

/** Rule violations (registry-state.ts) are the registry refusing: exit 1. */
const RULE_CODES = new Set(['ACCORD_DUPLICATE', 'UNKNOWN_SIGNATORY', 'ALREADY_DELISTED', 'NOT_DELISTED', 'ISSUER_NOT_REGISTRY', 'FIRST_ENTRY_NOT_ACCORD']);

/**
 * Appends one registry statement through the sequencer. Its `admit` runs the registry's rules
 * against the state read under the write lock, so a concurrent writer cannot slip in between.
 */
export async function appendRegistryStatement(registry: Registry, statement: Statement): Promise<Receipt> {
  const bytes = canonicalBytes(statement);
  const digest = digestOf(bytes);
  const subject = statement.credentialSubject.id;
  const [receipt] = await registry.sequencer.append({
    entries: [{ bytes, digest, type: statement.type[1], subject, validFrom: statement.validFrom }],
    admit: async (ctx) => {
      const signatory = statement.type[1] === 'RegistryNotice' ? await ctx.getSignatory(subject) : undefined;
      const byDigest = await ctx.getAccord(digest);
      const byId = statement.type[1] === 'AccordText' ? await ctx.getAccordById(subject) : undefined;
      const view: RegistryView = {
        attestationDid: registry.keys.attestationDid,
        signatory: (did) => (did === subject ? signatory : undefined),
        accord: (d) => (d === digest ? byDigest : undefined),
        accordById: (id) => (id === subject ? byId : undefined),
      };
      const change = applyStatement(view, { index: ctx.nextIndex, statement, digest });
      return change.signatory === undefined ? [] : [change.signatory];
    },
  });
  if (receipt === undefined) throw new AccordError('INTERNAL', `the sequencer returned no receipt for ${digest}`);
  return receipt;
}

/** Opens the configured registry, refusing to create one: the operator's tools act on an existing log. */
async function openExistingRegistry(config: Config): Promise<Registry> {
  await assertRegistryExists(config);
  // Loaded here, not at the top: usage errors and --help answer without loading the storage stack.
  const { openRegistry } = await import('../registry.ts');
  return openRegistry({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, origin: config.origin });
}

function sign(registry: Registry, unsecured: UnsecuredStatement, now: string): Statement {
  return secureStatement(unsecured, registry.keys.attestationKey, registry.keys.attestationMethod, now);
}

export async function admin(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseCli(argv, USAGE, { reason: { type: 'string' }, json: { type: 'boolean' } }, 3);
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  let build: (registry: Registry, now: string) => Statement;
  let what: string;
  if (command === 'accord') {
    if (rest.length !== 1) throw usageError('accord takes one FILE', USAGE);
    if (values.reason !== undefined) throw usageError('--reason is for notices', USAGE);
    const file = rest[0] as string;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      throw new AccordError('FILE_UNREADABLE', `cannot read ${file}: ${(cause as Error).message}`, { cause });
    }
    what = `the accord in ${file}`;
    build = (registry, now) => sign(registry, buildAccordText(text, { issuerDid: registry.keys.attestationDid, validFrom: now }), now);
  } else if (command === 'notice') {
    const [action, target] = rest;
    if ((action !== 'delist' && action !== 'relist') || target === undefined || rest.length !== 2) {
      throw usageError('notice takes delist or relist and a DOMAIN', USAGE);
    }
    if (typeof values.reason !== 'string' || values.reason.trim() === '') throw usageError('a notice needs --reason TEXT (it is published)', USAGE);
    const did = isDidWeb(target) ? target : didWebFromDomain(target);
    if (did === null) throw usageError(`not a signatory domain: ${describeValue(target)}`, USAGE);
    const reason = values.reason;
    what = `the ${action} notice for ${did}`;
    build = (registry, now) => sign(registry, buildNotice({ registryDid: registry.keys.attestationDid, did, action, reason, validFrom: now }), now);
  } else {
    throw usageError(command === undefined ? 'name a command: accord or notice' : `unknown command ${describeValue(command)}`, USAGE);
  }

  const { loadConfig } = await import('../config.ts');
  const registry = await openExistingRegistry(loadConfig(process.env));
  try {
    const now = nowTimestamp();
    let statement: Statement;
    try {
      statement = build(registry, now);
    } catch (e) {
      if (isAccordError(e)) throw new AccordError(e.code, `${what} is not a valid statement: ${e.message}`, { cause: e });
      throw e;
    }
    let receipt: Receipt;
    try {
      receipt = await appendRegistryStatement(registry, statement);
    } catch (e) {
      if (isAccordError(e) && RULE_CODES.has(e.code)) throw refusal(e.code, `the registry refused ${what}: ${e.message}`, { cause: e });
      throw e;
    }
    if (values.json) {
      out(JSON.stringify(receipt, null, 2));
    } else {
      out(`Logged ${statement.type[1]} ${statement.credentialSubject.id} as entry ${receipt.index} (${receipt.digest}).`);
      out(JSON.stringify(receipt, null, 2));
    }
    return 0;
  } finally {
    await registry.close();
  }
}

await runCli(import.meta.url, admin);
