/**
 * How a signatory's statements are paged, on its page (pages.ts) and in the JSON API (api.ts):
 * page 1 holds the latest HISTORY_PER_PAGE statements, page 2 the ones before them, and so on;
 * each page lists its statements oldest first, so a busy signatory's answer stays small and the
 * first page is the news.
 */

/** Statements on one page of a signatory's history. */
export const HISTORY_PER_PAGE = 50;

/** Pages of a history of `total` statements (at least 1, an empty first page). */
export function historyPageCount(total: number): number {
  return Math.max(1, Math.ceil(total / HISTORY_PER_PAGE));
}

/**
 * The positions `start <= i < end` (in the history, oldest at 0) of page `page`; a page past the
 * last is empty (start = end = 0).
 */
export function historyPageWindow(total: number, page: number): { start: number; end: number } {
  const end = Math.max(0, total - (page - 1) * HISTORY_PER_PAGE);
  return { start: Math.max(0, end - HISTORY_PER_PAGE), end };
}
