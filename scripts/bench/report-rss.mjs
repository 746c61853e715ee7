/**
 * Preload for the benchmark's verify_peak_rss_mb: `node --import ./scripts/bench/report-rss.mjs
 * bin/accord-verify.js ...` runs the tool exactly as a user does and, as the process exits, prints
 * its peak resident memory (getrusage: the whole process, worker threads included) as the last
 * line on stderr: `{ "exitCode": n, "maxRssKb": n }`. Plain JavaScript, so nothing loads tsx.
 */
process.on('exit', (code) => {
  // On Linux, writes to a pipe are synchronous, so the line is out before the process ends.
  process.stderr.write(`${JSON.stringify({ exitCode: code, maxRssKb: process.resourceUsage().maxRSS })}\n`);
});
