import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileTypeFromFile } from 'file-type';

/** More bytes than the cap: the file is not kept. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`larger than the cap of ${maxBytes} bytes`);
    this.name = 'FileTooLargeError';
  }
}

/**
 * Writes a stream to `path` while hashing and counting it, failing past `maxBytes` (a declared
 * size is never trusted): the SHA-256 and size of what was written, for `ObjectStore.putFile`.
 */
export async function spoolToFile(
  source: Readable,
  path: string,
  maxBytes: number,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      size += chunk.length;
      if (size > maxBytes) {
        callback(new FileTooLargeError(maxBytes));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(source, counter, createWriteStream(path, { mode: 0o600 }));
  return { sha256: hash.digest('hex'), size };
}

/** The type read from the bytes (`file-type`), or null when they do not say. */
export async function sniffMime(path: string): Promise<string | null> {
  return (await fileTypeFromFile(path))?.mime ?? null;
}
