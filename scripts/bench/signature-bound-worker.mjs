// One thread of signature-bound.ts (plain JavaScript: it needs no loader, so none runs in it).
// Records: public key (32), signature (64), hashData (64). Each thread first checks the records
// routed to it (by key, so a key is imported by one thread), then helps with the others' lists.
import { createPublicKey, verify } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const RECORD = 160;
const CHUNK = 64;
const records = new Uint8Array(workerData.records);
const lists = workerData.lists.map((b) => new Int32Array(b));
const next = new Int32Array(workerData.next);
const self = workerData.self;

parentPort.postMessage('ready');
parentPort.once('message', () => {
  const keys = new Map();
  let checked = 0;
  let valid = 0;
  for (let k = 0; k < lists.length; k++) {
    const t = (self + k) % lists.length;
    const list = lists[t];
    for (let from = Atomics.add(next, t, CHUNK); from < list.length; from = Atomics.add(next, t, CHUNK)) {
      for (let j = from; j < Math.min(from + CHUNK, list.length); j++) {
        const o = list[j] * RECORD;
        const x = Buffer.from(records.buffer, o, 32).toString('base64url');
        let key = keys.get(x);
        if (key === undefined) {
          key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
          keys.set(x, key);
        }
        checked++;
        if (verify(null, records.subarray(o + 96, o + 160), key, records.subarray(o + 32, o + 96))) valid++;
      }
    }
  }
  parentPort.postMessage({ checked, valid, imports: keys.size });
});
