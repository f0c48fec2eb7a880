import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  Curve,
  proto,
  WA_ADV_ACCOUNT_SIG_PREFIX,
  WA_ADV_DEVICE_SIG_PREFIX,
} from '@whiskeysockets/baileys';
import type { StoredAccount } from './emulator-state.store.js';
import { verifyXeddsa } from './signature.js';

/** What a companion shows in its QR: `ref,noiseKey,identityKey,advSecret[,platform]`. */
export interface PairingQr {
  ref: string;
  noiseKey: Buffer;
  identityKey: Buffer;
  advSecret: Buffer;
}

/** Reads a Baileys QR string (with or without the `https://wa.me/settings/linked_devices#` prefix). */
export function parsePairingQr(qr: string): PairingQr | null {
  const body = qr.includes('#') ? qr.slice(qr.indexOf('#') + 1) : qr;
  const [ref, noise, identity, adv] = body.split(',');
  if (!ref || !noise || !identity || !adv) return null;
  const noiseKey = Buffer.from(noise, 'base64');
  const identityKey = Buffer.from(identity, 'base64');
  const advSecret = Buffer.from(adv, 'base64');
  if (noiseKey.length !== 32 || identityKey.length !== 32 || advSecret.length !== 32) return null;
  return { ref, noiseKey, identityKey, advSecret };
}

/**
 * The phone's half of linking a device: the device identity (key index, time) signed with the
 * phone's account key over the companion's identity key, wrapped in an HMAC keyed by the adv
 * secret the QR carried. Baileys checks both before it trusts the pairing.
 */
export function signDeviceIdentity(
  account: StoredAccount,
  keyIndex: number,
  companionIdentity: Buffer,
  advSecret: Buffer,
): { container: Uint8Array; details: Uint8Array } {
  const details = proto.ADVDeviceIdentity.encode({
    rawId: keyIndex,
    timestamp: Math.floor(Date.now() / 1000),
    keyIndex,
    accountType: proto.ADVEncryptionType.E2EE,
    deviceType: proto.ADVEncryptionType.E2EE,
  }).finish();
  const accountPublic = Buffer.from(account.accountKey.public, 'base64');
  const accountPrivate = Buffer.from(account.accountKey.private, 'base64');
  const accountSignature = Curve.sign(
    accountPrivate,
    Buffer.concat([WA_ADV_ACCOUNT_SIG_PREFIX, details, companionIdentity]),
  );
  const signed = proto.ADVSignedDeviceIdentity.encode({
    details,
    accountSignatureKey: accountPublic,
    accountSignature,
  }).finish();
  const hmac = createHmac('sha256', advSecret).update(signed).digest();
  const container = proto.ADVSignedDeviceIdentityHMAC.encode({
    details: signed,
    hmac,
    accountType: proto.ADVEncryptionType.E2EE,
  }).finish();
  return { container, details };
}

/**
 * Checks the companion's answer to pair-success: the same device details, counter-signed with the
 * companion's identity key over the phone's account key.
 */
export function verifyDeviceSignature(
  account: StoredAccount,
  sentDetails: Uint8Array,
  companionIdentity: Buffer,
  reply: Uint8Array,
): boolean {
  let signed: proto.ADVSignedDeviceIdentity;
  try {
    signed = proto.ADVSignedDeviceIdentity.decode(reply);
  } catch {
    return false;
  }
  const details = signed.details;
  const signature = signed.deviceSignature;
  if (!details || !signature || details.length !== sentDetails.length) return false;
  if (!timingSafeEqual(details, sentDetails)) return false;
  const accountPublic = Buffer.from(account.accountKey.public, 'base64');
  return verifyXeddsa(
    companionIdentity,
    Buffer.concat([WA_ADV_DEVICE_SIG_PREFIX, details, companionIdentity, accountPublic]),
    signature,
  );
}
