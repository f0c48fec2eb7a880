import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';

export interface ObjectStoreConfig {
  bucket: string;
  region: string;
  /** Any S3-compatible endpoint (MinIO, R2, GCS interoperability, s3rver); unset means AWS. */
  endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`): MinIO and s3rver need them. */
  forcePathStyle?: boolean;
  /** Unset: the SDK's default chain (environment, instance role, workload identity). */
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** The `S3_*` settings every service that touches media reads (libs/config `S3Env`). */
export interface S3Settings {
  S3_BUCKET: string;
  S3_REGION: string;
  S3_FORCE_PATH_STYLE: boolean;
  S3_ENDPOINT?: string | undefined;
  S3_ACCESS_KEY_ID?: string | undefined;
  S3_SECRET_ACCESS_KEY?: string | undefined;
}

/** The store's configuration from a service's `S3_*` settings. */
export function objectStoreConfig(env: S3Settings): ObjectStoreConfig {
  return {
    bucket: env.S3_BUCKET,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    ...(env.S3_ENDPOINT !== undefined ? { endpoint: env.S3_ENDPOINT } : {}),
    ...(env.S3_ACCESS_KEY_ID !== undefined ? { accessKeyId: env.S3_ACCESS_KEY_ID } : {}),
    ...(env.S3_SECRET_ACCESS_KEY !== undefined
      ? { secretAccessKey: env.S3_SECRET_ACCESS_KEY }
      : {}),
  };
}

/** A loopback S3 server (libs/emulators `startS3Store`): path-style, its own keys. */
export function localObjectStoreConfig(server: {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}): ObjectStoreConfig {
  return {
    bucket: server.bucket,
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
  };
}

export interface StoredObject {
  key: string;
  size: number;
  /** Hex SHA-256 of the content; the key is derived from it. */
  sha256: string;
  mime: string;
  /** False when the same content was already stored: it is stored once. */
  created: boolean;
}

export interface ObjectHead {
  size: number;
  mime: string | null;
}

export interface ObjectRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface ObjectRead {
  body: Readable;
  /** Bytes in `body`. */
  length: number;
  /** Size of the whole object. */
  size: number;
  mime: string | null;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Where content with this SHA-256 lives: `sha256/ab/abcdef…`. The same bytes always map to the
 * same key, so a second copy of a file is never stored.
 */
export function contentKey(sha256Hex: string): string {
  if (!SHA256_HEX.test(sha256Hex)) throw new Error('content key needs a lower-case hex SHA-256');
  return `sha256/${sha256Hex.slice(0, 2)}/${sha256Hex}`;
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.$metadata.httpStatusCode === 404 ||
      error.name === 'NotFound' ||
      error.name === 'NoSuchKey')
  );
}

/**
 * Media files in S3-compatible object storage, content-addressed by SHA-256. There is no delete:
 * nothing in the media path removes a stored file.
 */
export class ObjectStore {
  readonly bucket: string;
  private readonly client: S3Client;

  constructor(config: ObjectStoreConfig) {
    this.bucket = config.bucket;
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle ?? false,
      ...(config.accessKeyId !== undefined && config.secretAccessKey !== undefined
        ? {
            credentials: {
              accessKeyId: config.accessKeyId,
              secretAccessKey: config.secretAccessKey,
            },
          }
        : {}),
      // Checksums only where S3 requires them: MinIO, R2 and s3rver do not all speak the
      // aws-chunked trailers the SDK otherwise adds to streamed uploads.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Resolves when the bucket answers; for health checks. */
  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async head(key: string): Promise<ObjectHead | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: head.ContentLength ?? 0, mime: head.ContentType ?? null };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * Stores a file whose SHA-256 the caller computed while writing it; a file already stored under
   * that hash is left as it is (`created: false`).
   */
  async putFile(
    path: string,
    meta: { sha256: string; size: number; mime: string },
  ): Promise<StoredObject> {
    const key = contentKey(meta.sha256);
    if ((await this.head(key)) !== null) return { ...meta, key, created: false };
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: createReadStream(path),
        ContentLength: meta.size,
        ContentType: meta.mime,
      }),
    );
    return { ...meta, key, created: true };
  }

  async putBuffer(data: Buffer, mime: string): Promise<StoredObject> {
    const sha256 = sha256Hex(data);
    const key = contentKey(sha256);
    const meta = { sha256, size: data.length, mime };
    if ((await this.head(key)) !== null) return { ...meta, key, created: false };
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: data,
        ContentLength: data.length,
        ContentType: mime,
      }),
    );
    return { ...meta, key, created: true };
  }

  /** The object, or the inclusive byte range of it; null when there is no such object. */
  async read(key: string, range?: ObjectRange): Promise<ObjectRead | null> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range !== undefined ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      const length = out.ContentLength ?? 0;
      const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
      return {
        body: out.Body as Readable,
        length,
        size: total !== undefined ? Number(total) : length,
        mime: out.ContentType ?? null,
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** The whole object in memory; for small objects (thumbnails) and tests. */
  async readBuffer(key: string): Promise<Buffer | null> {
    const read = await this.read(key);
    if (read === null) return null;
    const chunks: Buffer[] = [];
    for await (const chunk of read.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  close(): void {
    this.client.destroy();
  }
}
