/**
 * Admission step 9 (DESIGN 7): the statement's eddsa-jcs-2022 proof under the key its DID document
 * lists, with the project's signature rule through node:crypto (src/node/ed25519-fast.ts: the
 * same verdict as the core rule on every input, DESIGN 3). The same function runs on the main
 * thread and in the proof worker (proof-verifier.ts), so both give the same answer.
 */
import { prepareEntry } from '../core/audit/entry-check.ts';
import { isAccordError } from '../core/errors.ts';
import { parseStrictJson } from '../core/json/strict-parse.ts';
import { verifyProof } from '../core/statements/proof.ts';
import { MAX_ENTRY_BYTES } from '../core/statements/types.ts';
import { verifyFast } from '../node/ed25519-fast.ts';
import { nodeSha256 } from '../node/sha256.ts';

/** `null`: the proof verifies; otherwise the refusal's code and message (PROOF_*). */
export type ProofRefusal = { code: string; message: string } | null;

/** Checks the proof of an already validated statement, given as a value. */
function refuseProof(statement: unknown, publicKey: Uint8Array): ProofRefusal {
  try {
    verifyProof(statement, publicKey, verifyFast);
    return null;
  } catch (e) {
    if (!isAccordError(e)) throw e;
    return { code: e.code, message: e.message };
  }
}

/**
 * The same check on the statement's canonical bytes (what a worker thread is sent); a proof
 * covers the canonical form (DESIGN 7), so the verdict is the one for the submitted value.
 *
 * First as the audit checks an entry (core/audit/entry-check.ts): the proof's hash data hashed
 * from byte ranges of the canonical text, by node:crypto, with no parse-and-serialize round trip;
 * for a statement the schema accepts, that is exactly what verifyProof hands to the signature
 * check, so a signature that verifies there verifies here. Anything else (another text, a
 * signature that does not verify) takes verifyProof on the value parsed again, which gives the
 * refusal with its exact code and message.
 */
export function refuseProofOfBytes(canonical: Uint8Array, publicKey: Uint8Array): ProofRefusal {
  const prepared = prepareEntry(0, canonical, { sha256: nodeSha256 });
  if (prepared.canonical && prepared.hashData !== null && prepared.signature !== null && publicKey.length === 32 && verifyFast(prepared.signature, prepared.hashData, publicKey)) {
    return null;
  }
  return refuseProof(parseStrictJson(canonical, { maxBytes: MAX_ENTRY_BYTES }), publicKey);
}
