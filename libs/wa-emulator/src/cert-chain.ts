import { Curve, proto, type KeyPair } from '@whiskeysockets/baileys';
import { TEST_ROOT_PRIVATE_KEY, TEST_ROOT_SERIAL } from './test-root-key.js';

const INTERMEDIATE_SERIAL = 1;
const LEAF_SERIAL = 2;
const VALIDITY_SECONDS = 365 * 24 * 3600;

/**
 * Builds the Noise certificate chain the server hello carries: an intermediate signed by the test
 * root (issuer serial 0, as Baileys requires) and a leaf for the server's static key signed by the
 * intermediate. The intermediate key is fresh per emulator; only the root must be shared.
 */
export function buildCertChain(serverStatic: KeyPair): Uint8Array {
  const intermediate = Curve.generateKeyPair();
  const now = Math.floor(Date.now() / 1000);
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: INTERMEDIATE_SERIAL,
    issuerSerial: TEST_ROOT_SERIAL,
    key: intermediate.public,
    notBefore: now - 60,
    notAfter: now + VALIDITY_SECONDS,
  }).finish();
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: LEAF_SERIAL,
    issuerSerial: INTERMEDIATE_SERIAL,
    key: serverStatic.public,
    notBefore: now - 60,
    notAfter: now + VALIDITY_SECONDS,
  }).finish();
  return proto.CertChain.encode({
    intermediate: {
      details: intermediateDetails,
      signature: Curve.sign(TEST_ROOT_PRIVATE_KEY, intermediateDetails),
    },
    leaf: { details: leafDetails, signature: Curve.sign(intermediate.private, leafDetails) },
  }).finish();
}
