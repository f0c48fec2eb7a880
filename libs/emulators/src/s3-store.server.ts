// s3rver ships no types; the ambient declaration must travel with this file to its importers.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./s3rver.types.d.ts" />
import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';

export interface S3StoreOptions {
  /** Where the objects live (files and metadata, one directory per bucket). */
  directory: string;
  /** 0 picks a free port. */
  port?: number;
  /** Created at start if missing; existing objects are kept. */
  bucket?: string;
}

export interface S3StoreHandle {
  /** `http://127.0.0.1:<port>`, for `S3_ENDPOINT` (path-style addressing). */
  endpoint: string;
  bucket: string;
  /** s3rver's fixed credentials. */
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/**
 * A real S3-compatible server (s3rver) on loopback, for embedded defaults and tests. Objects are
 * files under `directory`, so they survive a restart; stopping never removes them.
 */
export async function startS3Store(options: S3StoreOptions): Promise<S3StoreHandle> {
  const bucket = options.bucket ?? 'wacrm-media';
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    resetOnClose: false,
    configureBuckets: [{ name: bucket }],
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    stop: () => server.close(),
  };
}
