/**
 * Server-rendered pages (DESIGN section 7): handlebars with one layout, partials and one view per
 * page. Every template is compiled when this module loads, so a broken template, an unknown helper
 * or a missing partial fails the process at boot, never a reader's request (STYLE practice 13,
 * after sunlight's home.html). Output is always escaped: templates use `{{ }}` for every value;
 * the one triple-stash is the layout's `{{{body}}}`, which holds HTML this module rendered itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { HelperDelegate, TemplateDelegate } from 'handlebars';
import { AccordError } from '../core/errors.ts';

/** The repository's views/ folder (src/server/views.ts -> ../../views). */
export const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Parses our timestamp form (DESIGN 2: `YYYY-MM-DDTHH:MM:SSZ`) and ISO strings in general. */
function toDate(v: unknown): Date | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "22 November 2026" (UTC: the log's dates are UTC, a reader's time zone must not shift them). */
export function formatDate(v: unknown): string {
  const d = toDate(v);
  if (!d) return '';
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** "2026-11-22" (badges, CSV, machine-friendly text). */
export function formatDay(v: unknown): string {
  const d = toDate(v);
  return d ? d.toISOString().slice(0, 10) : '';
}

/** "2026-11-22 10:00:00 UTC". */
export function formatDateTime(v: unknown): string {
  const d = toDate(v);
  return d ? `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} UTC` : '';
}

/** Human names of the statement types of DESIGN 2. */
export const TYPE_LABELS: Readonly<Record<string, string>> = {
  AccordPledge: 'Pledge',
  AccordWithdrawal: 'Withdrawal',
  AccordText: 'Accord text',
  DomainAttestation: 'Domain attestation',
  RegistryNotice: 'Registry notice',
};

export const STATUS_LABELS: Readonly<Record<string, string>> = {
  signatory: 'Signatory',
  withdrawn: 'Withdrawn',
  delisted: 'Delisted',
};

// Helpers are called from templates with whatever the data holds: each tolerates any input and
// returns a plain string (which handlebars then escapes), never throws.
const helpers: Record<string, HelperDelegate> = {
  formatDate: (v: unknown) => formatDate(v),
  formatDay: (v: unknown) => formatDay(v),
  formatDateTime: (v: unknown) => formatDateTime(v),
  eq: (a: unknown, b: unknown) => a === b,
  ne: (a: unknown, b: unknown) => a !== b,
  not: (a: unknown) => !a,
  gt: (a: unknown, b: unknown) => typeof a === 'number' && typeof b === 'number' && a > b,
  add: (a: unknown, b: unknown) => Number(a) + Number(b),
  json: (v: unknown) => {
    try {
      return JSON.stringify(v, null, 2) ?? '';
    } catch {
      return '';
    }
  },
  formatNumber: (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString('en-GB') : ''),
  plural: (n: unknown, one: unknown, many: unknown) => (n === 1 ? String(one) : String(many)),
  typeLabel: (t: unknown) => (typeof t === 'string' ? (TYPE_LABELS[t] ?? t) : ''),
  statusLabel: (s: unknown) => (typeof s === 'string' ? (STATUS_LABELS[s] ?? s) : ''),
  /** "sha256:1a2b3c4d…" for tables; the full digest stays in the title attribute and entry page. */
  shortDigest: (d: unknown) => (typeof d === 'string' && d.length > 19 ? `${d.slice(0, 19)}…` : typeof d === 'string' ? d : ''),
};

export const HELPER_NAMES: readonly string[] = Object.keys(helpers);

export type ViewName =
  | 'home'
  | 'accord'
  | 'signatories'
  | 'signatory'
  | 'log'
  | 'entry'
  | 'join'
  | 'about'
  | 'error';

export const VIEW_NAMES: readonly ViewName[] = ['home', 'accord', 'signatories', 'signatory', 'log', 'entry', 'join', 'about', 'error'];

/** What every page passes to the layout besides its own data. */
export interface LayoutData {
  /** Page title (before " - Accord Registry"). */
  title: string;
  /** Which navigation item is the current page ('' for none). */
  nav?: string;
  /** Optional extra module script of this page, e.g. '/assets/verify-bundle.js'. */
  script?: string;
  /** Optional `<meta name="description">`. */
  description?: string;
}

export interface Views {
  render(view: ViewName, data: LayoutData & Record<string, unknown>): string;
}

/** Partial names referenced by a template's AST, so a missing one fails at boot. */
function partialNames(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) partialNames(n, out);
    return out;
  }
  if (node === null || typeof node !== 'object') return out;
  const n = node as Record<string, unknown>;
  if ((n.type === 'PartialStatement' || n.type === 'PartialBlockStatement') && n.name && typeof n.name === 'object') {
    const name = (n.name as Record<string, unknown>).original;
    if (typeof name === 'string') out.add(name);
  }
  for (const [k, v] of Object.entries(n)) {
    if (k !== 'loc' && v && typeof v === 'object') partialNames(v, out);
  }
  return out;
}

/**
 * Reads and compiles every template in `dir` (layout.hbs, partials/*.hbs and one file per view).
 * Throws AccordError VIEWS_INVALID naming the file on a syntax error, an unknown helper, a missing
 * partial or a missing view. Handlebars compiles lazily on first use, so each template is also
 * precompiled here with `knownHelpersOnly`, which runs the full compiler now.
 */
export function compileViews(dir: string = VIEWS_DIR): Views {
  const hbs = Handlebars.create();
  const knownHelpers: Record<string, boolean> = {};
  for (const [name, fn] of Object.entries(helpers)) {
    hbs.registerHelper(name, fn);
    knownHelpers[name] = true;
  }
  // preventIndent: an indented partial call must not indent the partial's output, or a signed note
  // or command line inside <pre> would no longer be the exact text.
  const options = { knownHelpers, knownHelpersOnly: true, strict: false, noEscape: false, preventIndent: true };

  const compileFile = (file: string): TemplateDelegate => {
    const src = readFileSync(file, 'utf8');
    const rel = path.relative(dir, file);
    try {
      hbs.precompile(src, options);
      const ast = hbs.parse(src);
      for (const p of partialNames(ast, new Set())) {
        if (!partialFiles.has(p)) throw new Error(`unknown partial "${p}"`);
      }
    } catch (cause) {
      throw new AccordError('VIEWS_INVALID', `template ${rel} does not compile: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    return hbs.compile(src, options);
  };

  const partialsDir = path.join(dir, 'partials');
  const partialFiles = new Map<string, string>();
  for (const f of readdirSync(partialsDir)) {
    if (f.endsWith('.hbs')) partialFiles.set(f.slice(0, -4), path.join(partialsDir, f));
  }
  for (const [name, file] of partialFiles) hbs.registerPartial(name, compileFile(file));

  const layout = compileFile(path.join(dir, 'layout.hbs'));
  const views = new Map<ViewName, TemplateDelegate>();
  for (const name of VIEW_NAMES) views.set(name, compileFile(path.join(dir, `${name}.hbs`)));

  // Render each template once with empty data: a runtime error in a template (e.g. a partial
  // given a bad context) shows now, not on a request.
  for (const [name, tpl] of views) {
    try {
      layout({ title: 'boot', body: tpl({}) });
    } catch (cause) {
      throw new AccordError('VIEWS_INVALID', `template ${name}.hbs fails to render: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }

  return {
    render(view, data) {
      const tpl = views.get(view);
      if (!tpl) throw new AccordError('VIEWS_INVALID', `no view named ${JSON.stringify(view)}`);
      const body = tpl(data);
      return layout({ ...data, body });
    },
  };
}

/** The application's views, compiled once when the server module graph loads. */
export const views: Views = compileViews();

const ERROR_TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  404: 'Not found',
  405: 'Method not allowed',
  413: 'Too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Something went wrong',
  503: 'Temporarily unavailable',
};

/**
 * The HTML error page, also used by the app's error handler. `message` is shown as text (escaped);
 * for 5xx the caller should pass a generic message, not an internal one.
 */
export function renderErrorPage(status: number, code: string, message: string): string {
  const title = ERROR_TITLES[status] ?? (status >= 500 ? 'Something went wrong' : 'Request refused');
  return views.render('error', { title, status, code, message, nav: '' });
}
