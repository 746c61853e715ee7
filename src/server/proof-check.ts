/**
 * Admission step 9 (DESIGN 7): the statement's eddsa-jcs-2022 proof under the key its DID document
 * lists, with the project's signature rule through node:crypto (src/node/ed25519-fast.ts: the
 * same verdict as the core rule on every input, DESIGN 3). The same function runs on the main
 * thread and in the proof worker (proof-verifier.ts), so both give the same answer.
 */
import { isAccordError } from '../core/errors.ts';
import { parseStrictJson } from '../core/json/strict-parse.ts';
import { verifyProof } from '../core/statements/proof.ts';
import { MAX_ENTRY_BYTES } from '../core/statements/types.ts';
import { verifyFast } from '../node/ed25519-fast.ts';

/** `null`: the proof verifies; otherwise the refusal's code and message (PROOF_*). */
export type ProofRefusal = { code: string; message: string } | null;

/** Checks the proof of an already validated statement, given as a value. */
export function refuseProof(statement: unknown, publicKey: Uint8Array): ProofRefusal {
  try {
    verifyProof(statement, publicKey, verifyFast);
    return null;
  } catch (e) {
    if (!isAccordError(e)) throw e;
    return { code: e.code, message: e.message };
  }
}

/**
 * The same check on the statement's canonical bytes (what a worker thread is sent): parsed again
 * with the strict parser, which gives back the value they are the canonical form of; a proof
 * covers the canonical form (DESIGN 7), so the verdict is the one for the submitted value.
 */
export function refuseProofOfBytes(canonical: Uint8Array, publicKey: Uint8Array): ProofRefusal {
  return refuseProof(parseStrictJson(canonical, { maxBytes: MAX_ENTRY_BYTES }), publicKey);
}
