import { runAudit } from '../src/audit/run-audit.ts';
import { openSource } from '../src/audit/source.ts';
import { readFile } from 'node:fs/promises';
const dir = process.argv[2]!; const workers = Number(process.argv[3] ?? 0);
const m = JSON.parse(await readFile(dir + '/.bench-complete.json', 'utf8'));
const t = performance.now();
const r = await runAudit(await openSource(dir), { logKey: m.logKey, stateCheckpoint: null, workers });
console.log(r.ok, m.size / ((performance.now() - t) / 1000), 'entries/s', 'workers', workers);
