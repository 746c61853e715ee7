/**
 * What a pledge changed, against the same signatory's pledge before it, in words for the pages and
 * the feed, the key it was signed with included (a pledge signed with a new key after a rotation).
 * `previous` and the dates always differ, so they are not counted: a pledge that changes nothing
 * else renews the earlier one, and the feed and the home page leave it out (it is not news; the
 * signatory page and the log still show it).
 */
import { LINK_KEYS, type LinkKey, type PledgeSubject } from '../core/statements/types.ts';

const LINK_NAMES: Readonly<Record<LinkKey, string>> = {
  website: 'website',
  securityTxt: 'security.txt',
  disclosurePolicy: 'disclosure policy',
  patchPolicy: 'patch policy',
};

/** A pledge's subject and the verification method that signed it. */
export interface SignedPledge {
  subject: PledgeSubject;
  method: string;
}

export function pledgeChanges(earlier: SignedPledge, later: SignedPledge): string[] {
  const before = earlier.subject;
  const after = later.subject;
  const changes: string[] = [];
  if (before.accord !== after.accord) changes.push('accord version');
  if (before.principles.join(',') !== after.principles.join(',')) changes.push('principles');
  if (before.name !== after.name) changes.push('name');
  if ((before.country ?? null) !== (after.country ?? null)) changes.push('country');
  for (const key of LINK_KEYS) {
    if ((before.links?.[key] ?? null) !== (after.links?.[key] ?? null)) changes.push(LINK_NAMES[key]);
  }
  if (earlier.method !== later.method) changes.push('signing key');
  return changes;
}
