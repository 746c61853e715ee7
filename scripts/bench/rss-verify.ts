/**
 * Runs accord-verify's main function in this process and then reports the process's peak resident
 * memory (worker threads included), for the benchmark's verify_peak_rss_mb: one JSON line on
 * stderr `{ "exitCode": n, "maxRssKb": n }`. Arguments are accord-verify's.
 */
import { verifyMain } from '../../src/cli/verify.ts';

const quiet = { stdout: () => undefined, stderr: () => undefined, stderrIsTty: false };
const exitCode = await verifyMain(process.argv.slice(2), quiet);
process.stderr.write(`${JSON.stringify({ exitCode, maxRssKb: process.resourceUsage().maxRSS })}\n`);
process.exitCode = exitCode;
