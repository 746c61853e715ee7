// Progressive enhancement of the signatory page: fetch the proof bundle and check it here, in the
// reader's browser, with the registry's own core code (/assets/accord-core.js, built from
// src/core/browser-verify.ts). Without JavaScript the page already says everything; this only adds
// a quick verdict. It is not an independent one (the code and the log key come from this site), and
// the box says so. No inline script (strict CSP); all text goes in with textContent.
import { verifyProofBundle } from '/assets/accord-core.js';

const box = document.getElementById('browser-verify');

function show(state, headline, lines) {
  box.dataset.verdict = state;
  const verdict = box.querySelector('.verdict');
  verdict.textContent = headline;
  const old = box.querySelector('ul');
  if (old) old.remove();
  if (lines.length > 0) {
    const ul = document.createElement('ul');
    for (const line of lines) {
      const li = document.createElement('li');
      li.textContent = line;
      ul.append(li);
    }
    box.append(ul);
  }
}

async function run() {
  if (!box) return;
  const url = box.dataset.bundle;
  const logKey = box.dataset.logKey || null;
  show('running', 'Checking the proof bundle in your browser…', []);
  let bundle;
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    bundle = await res.json();
  } catch (e) {
    show('error', `Your browser could not load the proof bundle: ${e instanceof Error ? e.message : String(e)}`, []);
    return;
  }
  const v = verifyProofBundle(bundle, { logKey });
  if (v.error) {
    show('fail', `Verification failed: ${v.error.message} (${v.error.code})`, []);
    return;
  }
  const lines = [
    `Checkpoint of ${v.origin}, size ${v.size}, root ${v.root}: signature valid under the registry's log key${v.pinned ? '' : ' (taken from the bundle, not pinned)'}.`,
  ];
  for (const e of v.entries) {
    const what = e.type ? ` (${e.type})` : '';
    lines.push(`${e.ok ? '✓' : '✗'} Entry ${e.index}${what}: ${e.message}${e.code ? ` [${e.code}]` : ''}`);
  }
  if (v.ok) {
    lines.push(
      'This check ran code served by this registry, against its log key: a convenience, not an independent check. For that, run accord-verify with the log key pinned from a source you trust.',
    );
    show('ok', `Verified in your browser: all ${v.entries.length} entries of the proof bundle are in the log and correctly signed.`, lines);
  } else {
    show('fail', 'Verification failed: see the entries marked ✗ below.', lines);
  }
}

run().catch((e) => {
  if (box) show('error', `The check could not run: ${e instanceof Error ? e.message : String(e)}`, []);
});
