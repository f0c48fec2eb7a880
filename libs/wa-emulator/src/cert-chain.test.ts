import { Curve, proto } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import { buildCertChain } from './cert-chain.js';
import { verifyXeddsa } from './signature.js';
import { TEST_ROOT_PRIVATE_KEY, TEST_ROOT_PUBLIC_KEY, TEST_ROOT_SERIAL } from './test-root-key.js';

// WhatsApp's root (Baileys' WA_CERT_DETAILS.PUBLIC_KEY without the preload), serial 0.
const WHATSAPP_ROOT = Buffer.from(
  '142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b',
  'hex',
);

describe('certificate chain', () => {
  it('when the chain is built, then the intermediate is signed by the test root only and the leaf by the intermediate', () => {
    const serverStatic = Curve.generateKeyPair();
    const chain = proto.CertChain.decode(buildCertChain(serverStatic));
    const intermediate = proto.CertChain.NoiseCertificate.Details.decode(
      chain.intermediate!.details!,
    );
    const leaf = proto.CertChain.NoiseCertificate.Details.decode(chain.leaf!.details!);

    expect(intermediate.issuerSerial).toBe(TEST_ROOT_SERIAL);
    expect(TEST_ROOT_SERIAL).not.toBe(0);
    const intermediateSignature = chain.intermediate!.signature!;
    expect(
      verifyXeddsa(TEST_ROOT_PUBLIC_KEY, chain.intermediate!.details!, intermediateSignature),
    ).toBe(true);
    expect(verifyXeddsa(WHATSAPP_ROOT, chain.intermediate!.details!, intermediateSignature)).toBe(
      false,
    );
    expect(verifyXeddsa(intermediate.key!, chain.leaf!.details!, chain.leaf!.signature!)).toBe(
      true,
    );
    expect(Buffer.from(leaf.key!)).toEqual(Buffer.from(serverStatic.public));
  });

  it('when the shipped test root key pair is used, then its halves belong together', () => {
    const other = Curve.generateKeyPair();
    expect(Curve.sharedKey(TEST_ROOT_PRIVATE_KEY, other.public)).toEqual(
      Curve.sharedKey(other.private, TEST_ROOT_PUBLIC_KEY),
    );
  });

  it('when a signature is forged, then verifyXeddsa refuses it (Baileys rc14 Curve.verify accepts it)', () => {
    const message = Buffer.from('device identity');
    const forged = Buffer.alloc(64, 1);
    expect(verifyXeddsa(TEST_ROOT_PUBLIC_KEY, message, forged)).toBe(false);
    // Early warning: when a Baileys upgrade honours the result, the preload's serial swap is no
    // longer the only barrier and this expectation (and test-root-key.ts) should be revisited.
    expect(Curve.verify(TEST_ROOT_PUBLIC_KEY, message, forged)).toBe(true);
  });
});
