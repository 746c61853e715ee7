/**
 * Tests act as auditors (STYLE 10): the registry's own storage is audited with accord-verify's
 * engine (src/audit/run-audit.ts over core/audit/auditor.ts), served through the log reader's
 * tile fetcher at the registry's URL paths, exactly as a mirror or the HTTP API would serve it.
 */
import { runAudit, WELL_KNOWN_PATH, type RunAuditResult } from '../../src/audit/run-audit.ts';
import { utf8 } from '../../src/core/bytes.ts';
import type { StoredLogReader } from '../../src/log/log-reader.ts';
import type { RegistryKeys } from '../../src/storage/registry-keys.ts';

export async function auditStorage(
  reader: StoredLogReader,
  keys: Pick<RegistryKeys, 'origin' | 'logVerifierKey' | 'attestationDid'>,
  opts: { stateCheckpoint?: string | null } = {},
): Promise<RunAuditResult> {
  const fetchTile = reader.tileFetcher();
  const wellKnown = utf8(JSON.stringify({ origin: keys.origin, logKey: keys.logVerifierKey, attestationKey: keys.attestationDid }));
  return runAudit(
    {
      kind: 'registry',
      label: 'registry storage',
      fetchFile: async (path) => {
        if (path === WELL_KNOWN_PATH) return wellKnown;
        if (path.startsWith('log/')) return fetchTile(path.slice('log/'.length));
        return null;
      },
    },
    { logKey: keys.logVerifierKey, stateCheckpoint: opts.stateCheckpoint ?? null, workers: 0 },
  );
}
