import type { Value } from '@firestore-emulator/proto/dist/google/firestore/v1/document.js';
import { Write } from '@firestore-emulator/proto/dist/google/firestore/v1/write.js';
import type { FirestoreState, FirestoreStateDocument } from '@firestore-emulator/server';
import { readingOnce } from './firestore-packed-fields.js';
import type { StoredField } from './firestore-read-encoder.js';

type V1Value = ReturnType<typeof Value.prototype.toObject>;

/** One Firestore value, shaped like the Firestore REST API's JSON (int64 as a string, bytes as base64). */
export type SnapshotValue =
  | { nullValue: null }
  | { booleanValue: boolean }
  | { integerValue: string }
  /** Non-finite numbers and negative zero are strings because JSON cannot hold them. */
  | { doubleValue: number | 'NaN' | 'Infinity' | '-Infinity' | '-0' }
  | { timestampValue: { seconds: number; nanos: number } }
  | { stringValue: string }
  | { bytesValue: string }
  | { referenceValue: string }
  | { geoPointValue: { latitude: number; longitude: number } }
  | { arrayValue: { values: SnapshotValue[] } }
  | { mapValue: { fields: Record<string, SnapshotValue> } };

/** One stored document; times are ISO-8601 (the emulator keeps millisecond precision). */
export interface SnapshotDocument {
  /** Full resource name: `projects/P/databases/D/documents/col/doc[/sub/doc…]`. */
  path: string;
  createTime: string;
  updateTime: string;
  fields: Record<string, SnapshotValue>;
}

/** The snapshot file written by the Firestore emulator. */
export interface FirestoreSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  /** 1: written before the write-ahead log (still read); 2: one document per line, with a log generation. */
  version: 1 | typeof SNAPSHOT_VERSION;
  savedAt: string;
  /** The first write-ahead log generation whose records are not in this snapshot (0 when absent). */
  logGeneration?: number;
  documents: SnapshotDocument[];
}

export const SNAPSHOT_FORMAT = 'wacrm.firestore-emulator.snapshot';
export const SNAPSHOT_VERSION = 2;

/** The emulator's tree, reached through fields TypeScript calls private (the package is pinned). */
interface StateTree {
  projects: Record<string, { databases: Record<string, { collections: CollectionMap }> }>;
}
type CollectionMap = Record<string, { documents: Record<string, FirestoreStateDocument> }>;

/**
 * Every document node, existing or only a parent of subcollections. Each level's children are
 * taken with `Object.values` when the walk reaches it (children are added to the level's map in
 * place: firestore-own-names.ts), so a walk that yields between documents sees each document as
 * it is when visited and misses none that existed when it started.
 */
function* walkDocuments(state: FirestoreState): Generator<FirestoreStateDocument> {
  function* visit(collections: CollectionMap): Generator<FirestoreStateDocument> {
    for (const collection of Object.values(collections)) {
      for (const node of Object.values(collection.documents)) {
        yield node;
        yield* visit((node as unknown as { collections: CollectionMap }).collections);
      }
    }
  }
  const { projects } = state as unknown as StateTree;
  for (const project of Object.values(projects)) {
    for (const database of Object.values(project.databases)) yield* visit(database.collections);
  }
}

/** Yields every existing document (all projects, databases and subcollections), one at a time. */
export function* iterateDocuments(state: FirestoreState): Generator<SnapshotDocument> {
  for (const node of walkDocuments(state)) {
    const document = readingOnce(() => encodeDocument(node));
    if (document !== undefined) yield document;
  }
}

/** How many documents exist. */
export function countDocuments(state: FirestoreState): number {
  let count = 0;
  for (const node of walkDocuments(state)) if (node.metadata.hasExist) count += 1;
  return count;
}

/** The stored form of one document, or undefined when it does not exist (or the path is invalid). */
export function captureDocument(state: FirestoreState, path: string): SnapshotDocument | undefined {
  try {
    return encodeDocument(state.getDocument(path));
  } catch {
    return undefined;
  }
}

function encodeDocument(node: FirestoreStateDocument): SnapshotDocument | undefined {
  const { metadata } = node;
  if (!metadata.hasExist) return undefined;
  return {
    path: node.getPath(),
    createTime: metadata.createdAt.toISOString(),
    updateTime: metadata.updatedAt.toISOString(),
    fields: encodeStoredFields((node as unknown as { fields: Record<string, StoredField> }).fields),
  };
}

/**
 * A document's stored fields in snapshot form, straight from the library's field objects: what
 * the codec made of its `toV1DocumentObject()` before (keys in the stored object's order; a test
 * compares the two), without building the document as google-protobuf messages twice on the way. Every compaction and every
 * logged commit encodes documents; in a bench:send profile the store spent a third of its busy
 * CPU writing snapshots, much of it in that conversion.
 */
export function encodeStoredFields(
  fields: Record<string, StoredField>,
): Record<string, SnapshotValue> {
  const out: Record<string, SnapshotValue> = {};
  for (const [key, field] of Object.entries(fields)) out[key] = encodeStored(field);
  return out;
}

function encodeStored(field: StoredField): SnapshotValue {
  const v = field.value;
  switch (field.type) {
    case 'null_value':
      return { nullValue: null };
    case 'boolean_value':
      return { booleanValue: v as boolean };
    case 'integer_value':
      return { integerValue: String(v) };
    case 'double_value':
      return { doubleValue: encodeDouble(v as number) };
    case 'timestamp_value': {
      const { seconds = 0, nanos = 0 } = v as { seconds?: number; nanos?: number };
      return { timestampValue: { seconds, nanos } };
    }
    case 'string_value':
      return { stringValue: v as string };
    case 'bytes_value': {
      const bytes = v as Uint8Array;
      return {
        bytesValue: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
          'base64',
        ),
      };
    }
    case 'reference_value':
      return { referenceValue: v as string };
    case 'geo_point_value': {
      const { latitude = 0, longitude = 0 } = v as { latitude?: number; longitude?: number };
      return { geoPointValue: { latitude, longitude } };
    }
    case 'array_value':
      return { arrayValue: { values: (v as StoredField[]).map(encodeStored) } };
    case 'map_value':
      return { mapValue: { fields: encodeStoredFields(v as Record<string, StoredField>) } };
    default:
      throw new Error(`Unsupported Firestore value: ${JSON.stringify(field)}`);
  }
}

/** Makes the document exactly `doc`: fields it had before and `doc` lacks are gone. */
export function restoreDocument(state: FirestoreState, doc: SnapshotDocument): void {
  const createdAt = parseTime(doc.createTime, `${doc.path} createTime`);
  const updatedAt = parseTime(doc.updateTime, `${doc.path} updateTime`);
  // A set merges into existing fields in this emulator; delete first so the result is exact.
  removeDocument(state, doc.path);
  // The write path converts values with the emulator's own field classes, which are not exported.
  state.writeV1Document(
    updatedAt,
    Write.fromObject({ update: { name: doc.path, fields: mapValues(doc.fields, decodeValue) } }),
  );
  state.getDocument(doc.path).metadata = { hasExist: true, createdAt, updatedAt };
}

/** Deletes the document when it exists. */
export function removeDocument(state: FirestoreState, path: string): void {
  if (state.getDocument(path).metadata.hasExist) {
    state.writeV1Document(new Date(), Write.fromObject({ delete: path }));
  }
}

/** Reads every existing document out of the state, sorted by path. */
export function captureSnapshot(state: FirestoreState, now = new Date()): FirestoreSnapshot {
  const documents = [...iterateDocuments(state)];
  documents.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    savedAt: now.toISOString(),
    logGeneration: 0,
    documents,
  };
}

/** Validates a parsed snapshot file and loads its documents into the state; returns how many. */
export function restoreSnapshot(state: FirestoreState, snapshot: unknown): number {
  validateSnapshotHeader(snapshot);
  if (!isRecord(snapshot) || !Array.isArray(snapshot.documents)) {
    throw new Error('Snapshot has no documents array');
  }
  const documents = snapshot.documents.map((doc: unknown, i) => validateSnapshotDocument(doc, i));
  for (const doc of documents) restoreDocument(state, doc);
  return documents.length;
}

/**
 * One write-ahead log record: the documents a commit touched, each as it is after the commit
 * (so replaying a record twice, or over a snapshot that already holds it, changes nothing), or
 * the clearing of every document.
 */
export type LogRecord =
  { documents: Array<SnapshotDocument | { path: string; deleted: true }> } | { clear: true };

/** The log record of a commit that touched `paths`, read from the state after the commit. */
export function encodeCommitRecord(state: FirestoreState, paths: Iterable<string>): Buffer {
  const documents: Array<SnapshotDocument | { path: string; deleted: true }> = [];
  for (const path of paths) {
    documents.push(captureDocument(state, path) ?? { path, deleted: true });
  }
  return Buffer.from(JSON.stringify({ documents } satisfies LogRecord), 'utf8');
}

export function encodeClearRecord(): Buffer {
  return Buffer.from(JSON.stringify({ clear: true } satisfies LogRecord), 'utf8');
}

/** Applies one log record (its checksum already verified) to the state. */
export function applyLogRecord(state: FirestoreState, payload: Buffer): void {
  const record: unknown = JSON.parse(payload.toString('utf8'));
  if (isRecord(record) && record.clear === true) {
    state.clear();
    return;
  }
  if (!isRecord(record) || !Array.isArray(record.documents)) {
    throw new Error('Malformed log record: neither documents nor clear');
  }
  for (const [i, doc] of record.documents.entries()) {
    if (isRecord(doc) && doc.deleted === true && typeof doc.path === 'string') {
      // A path the emulator rejected at commit time is rejected here too: nothing to delete.
      try {
        removeDocument(state, doc.path);
      } catch {
        // Invalid path.
      }
    } else {
      restoreDocument(state, validateSnapshotDocument(doc, `log record document ${i}`));
    }
  }
}

/** Converts a snapshot value back to the emulator's value object; throws on malformed input. */
export function decodeValue(value: SnapshotValue): V1Value {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`Malformed snapshot value: ${JSON.stringify(value)}`);
  }
  if ('nullValue' in value) return { null_value: 0 };
  if ('booleanValue' in value && typeof value.booleanValue === 'boolean') {
    return { boolean_value: value.booleanValue };
  }
  if ('integerValue' in value && /^-?\d+$/.test(String(value.integerValue))) {
    // The emulator stores int64 as a JS number, so this is as exact as its own state.
    return { integer_value: Number(value.integerValue) };
  }
  if ('doubleValue' in value) return { double_value: decodeDouble(value.doubleValue) };
  if ('timestampValue' in value && isTimestamp(value.timestampValue)) {
    return {
      timestamp_value: { seconds: value.timestampValue.seconds, nanos: value.timestampValue.nanos },
    };
  }
  if ('stringValue' in value && typeof value.stringValue === 'string') {
    return { string_value: value.stringValue };
  }
  if ('bytesValue' in value && typeof value.bytesValue === 'string') {
    return { bytes_value: new Uint8Array(Buffer.from(value.bytesValue, 'base64')) };
  }
  if ('referenceValue' in value && typeof value.referenceValue === 'string') {
    return { reference_value: value.referenceValue };
  }
  if ('geoPointValue' in value && isGeoPoint(value.geoPointValue)) {
    const { latitude, longitude } = value.geoPointValue;
    return { geo_point_value: { latitude, longitude } };
  }
  if ('arrayValue' in value && Array.isArray(value.arrayValue?.values)) {
    return { array_value: { values: value.arrayValue.values.map(decodeValue) } };
  }
  if ('mapValue' in value && isRecord(value.mapValue?.fields)) {
    return { map_value: { fields: mapValues(value.mapValue.fields, decodeValue) } };
  }
  throw new Error(`Malformed snapshot value: ${JSON.stringify(value)}`);
}

function encodeDouble(n: number): number | 'NaN' | 'Infinity' | '-Infinity' | '-0' {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Object.is(n, -0)) return '-0';
  return n;
}

function decodeDouble(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (raw === 'NaN') return NaN;
  if (raw === 'Infinity') return Infinity;
  if (raw === '-Infinity') return -Infinity;
  if (raw === '-0') return -0;
  throw new Error(`Malformed snapshot double: ${JSON.stringify(raw)}`);
}

/** Checks format and version of a snapshot (or of the header line of a version 2 file). */
export function validateSnapshotHeader(header: unknown): { version: 1 | 2; logGeneration: number } {
  if (!isRecord(header) || header.format !== SNAPSHOT_FORMAT) {
    throw new Error(`Not a Firestore emulator snapshot (expected format "${SNAPSHOT_FORMAT}")`);
  }
  if (header.version !== 1 && header.version !== SNAPSHOT_VERSION) {
    throw new Error(
      `Unsupported snapshot version ${String(header.version)} (expected 1 or ${SNAPSHOT_VERSION})`,
    );
  }
  const logGeneration = header.logGeneration ?? 0;
  if (!Number.isSafeInteger(logGeneration) || (logGeneration as number) < 0) {
    throw new Error(`Malformed snapshot logGeneration: ${JSON.stringify(logGeneration)}`);
  }
  return { version: header.version, logGeneration: logGeneration as number };
}

/** Checks the shape of one stored document; `where` names it in the error. */
export function validateSnapshotDocument(doc: unknown, where: number | string): SnapshotDocument {
  if (
    !isRecord(doc) ||
    typeof doc.path !== 'string' ||
    typeof doc.createTime !== 'string' ||
    typeof doc.updateTime !== 'string' ||
    !isRecord(doc.fields)
  ) {
    throw new Error(`Malformed snapshot document at ${where}`);
  }
  return doc as unknown as SnapshotDocument;
}

function parseTime(iso: string, what: string): Date {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`Invalid ${what}: ${iso}`);
  return date;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTimestamp(value: unknown): value is { seconds: number; nanos: number } {
  return isRecord(value) && Number.isInteger(value.seconds) && Number.isInteger(value.nanos);
}

function isGeoPoint(value: unknown): value is { latitude: number; longitude: number } {
  return (
    isRecord(value) && typeof value.latitude === 'number' && typeof value.longitude === 'number'
  );
}

function mapValues<T, U>(record: Record<string, T>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}
