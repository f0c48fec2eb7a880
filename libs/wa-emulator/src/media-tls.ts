import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';

/**
 * A self-signed ECDSA P-256 certificate for the emulator's media server. Baileys uploads media to
 * `https://<media_conn host><path>` and downloads history chunks from `https://mmg.whatsapp.net`,
 * so the media server must speak TLS; a client trusts this certificate through its own options
 * (`fetchAgent`, `options.dispatcher`) or `NODE_EXTRA_CA_CERTS`, never by default.
 *
 * Node can make keys but not certificates, hence the small DER writer below.
 */
export interface MediaTlsIdentity {
  certPem: string;
  keyPem: string;
}

/** Host names the certificate is valid for, besides 127.0.0.1 and ::1. */
export const MEDIA_CERT_DNS_NAMES = ['localhost', 'mmg.whatsapp.net'];

export function createMediaTlsIdentity(
  now = new Date(),
  serialBytes: Buffer = randomBytes(16),
): MediaTlsIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = seq(set(seq(oid('2.5.4.3'), utf8('wa-emulator media (test only)'))));
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  const notAfter = new Date(now.getTime() + 20 * 365 * 24 * 60 * 60 * 1000);
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  // A positive serial of 16 bytes (RFC 5280 4.1.2.2): never zero, never needing a sign byte.
  const serial = Buffer.from(serialBytes);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const san = seq(
    ...MEDIA_CERT_DNS_NAMES.map((dns) => tlv(0x82, Buffer.from(dns, 'ascii'))),
    tlv(0x87, Buffer.from([127, 0, 0, 1])),
    tlv(0x87, Buffer.from([...Array<number>(15).fill(0), 1])),
  );
  const extensions = tlv(
    0xa3,
    seq(
      // basicConstraints CA:TRUE (critical): the certificate is its own trust anchor.
      seq(
        oid('2.5.29.19'),
        tlv(0x01, Buffer.from([0xff])),
        octets(seq(tlv(0x01, Buffer.from([0xff])))),
      ),
      // keyUsage: digitalSignature, keyCertSign.
      seq(
        oid('2.5.29.15'),
        tlv(0x01, Buffer.from([0xff])),
        octets(tlv(0x03, Buffer.from([0x02, 0x84]))),
      ),
      seq(oid('2.5.29.17'), octets(san)),
    ),
  );
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaWithSha256,
    name,
    seq(generalizedTime(notBefore), generalizedTime(notAfter)),
    name,
    spki,
    extensions,
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const certPem = toPem('CERTIFICATE', der);
  // Proves the DER is well formed and self-signed before anything serves it.
  const parsed = new X509Certificate(certPem);
  if (!parsed.verify(publicKey)) throw new Error('media certificate does not verify');
  return {
    certPem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function tlv(tag: number, value: Buffer): Buffer {
  const length = value.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else if (length < 0x100) header = Buffer.from([tag, 0x81, length]);
  else if (length < 0x10000) header = Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  else throw new Error('DER value too long');
  return Buffer.concat([header, value]);
}

function seq(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

function set(...parts: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(parts));
}

function octets(value: Buffer): Buffer {
  return tlv(0x04, value);
}

function utf8(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

/** A non-negative DER INTEGER in its minimal form (X.690 8.3.2): no redundant leading zero byte. */
function integer(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  const digits = value.subarray(start);
  return tlv(0x02, digits[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), digits]) : digits);
}

function generalizedTime(date: Date): Buffer {
  const text = `${date.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
  return tlv(0x18, Buffer.from(text, 'ascii'));
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let rest = part >>> 7; rest > 0; rest >>>= 7) chunk.unshift((rest & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
