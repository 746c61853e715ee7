/**
 * The project's one error type. Every refusal, in the core, the server and the command line,
 * is an AccordError with a stable UPPER_SNAKE code; HTTP status and exit codes are derived from
 * the code in one place (src/server/http-errors.ts, src/cli/exit.ts), never at the throw site.
 */
export class AccordError extends Error {
  readonly code: string;
  /** Extra members for API clients, e.g. `head` for PREVIOUS_MISMATCH (DESIGN section 7). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AccordError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isAccordError(e: unknown, code?: string): e is AccordError {
  return e instanceof AccordError && (code === undefined || e.code === code);
}

/** "a DomainAttestation", "an AccordText": a statement type (or any word) with its English article. */
export function withArticle(word: string): string {
  return `${/^[AEIOUaeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

/** Describes a hostile value briefly for an error message, without echoing megabytes back. */
export function describeValue(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : v instanceof Uint8Array ? `${v.length} bytes` : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
