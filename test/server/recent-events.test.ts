/**
 * The feed's and the home page's events (read-model.ts recentEvents) when renewals (pledges that
 * change nothing) crowd the log: they are left out, but never to the point of an empty list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryForPages } from '../../src/server/app.ts';
import { ReadModel, RENEWAL_SCAN_ROUNDS } from '../../src/server/read-model.ts';
import { Company } from '../helpers/company.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
let model: ReadModel;
const indexes: number[] = [];

beforeAll(async () => {
  h = await startHarness({ domains: ['renew.test', 'other.test'] });
  const renew = new Company('renew.test', h.host);
  const other = new Company('other.test', h.host);
  const submit = async (body: unknown): Promise<string> => {
    const res = await h.submit(body).expect(201);
    indexes.push(res.body.index as number);
    return res.body.digest as string;
  };
  await submit(other.pledge({ accord: h.accord, previous: null, name: 'Other' }));
  let head = await submit(renew.pledge({ accord: h.accord, previous: null, name: 'Renew' }));
  head = await submit(renew.pledge({ accord: h.accord, previous: head, name: 'Renew', country: 'CH' }));
  // More renewals than recentEvents(1) reads (RENEWAL_SCAN_ROUNDS pages of 2).
  for (let i = 0; i < RENEWAL_SCAN_ROUNDS * 2 + 1; i++) head = await submit(renew.pledge({ accord: h.accord, previous: head, name: 'Renew', country: 'CH' }));
  model = new ReadModel(registryForPages(h.registry));
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('recentEvents', () => {
  it('leaves renewals out and reports the update and the pledges before them', async () => {
    const events = await model.recentEvents(8);
    expect(events.map((e) => [e.domain, e.changes])).toEqual([
      ['renew.test', ['country']],
      ['renew.test', null],
      ['other.test', null],
    ]);
  });

  it('shows the newest renewal of each signatory when renewals fill all it reads', async () => {
    const [only] = await model.recentEvents(1);
    expect(only?.index).toBe(indexes[indexes.length - 1]);
    expect(only?.changes).toEqual([]);
  });
});
