import type { Value } from '@firestore-emulator/proto/dist/google/firestore/v1/document.js';
import { Write } from '@firestore-emulator/proto/dist/google/firestore/v1/write.js';
import type { FirestoreState } from '@firestore-emulator/server';

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
  version: typeof SNAPSHOT_VERSION;
  savedAt: string;
  documents: SnapshotDocument[];
}

export const SNAPSHOT_FORMAT = 'wacrm.firestore-emulator.snapshot';
export const SNAPSHOT_VERSION = 1;

interface CollectionNode {
  documents: Record<string, DocumentNode>;
}
interface DocumentNode {
  path: string;
  collections: Record<string, CollectionNode>;
}

/** Reads every existing document (all projects, databases and subcollections) out of the state. */
export function captureSnapshot(state: FirestoreState, now = new Date()): FirestoreSnapshot {
  const documents: SnapshotDocument[] = [];
  const visit = (collection: CollectionNode): void => {
    for (const node of Object.values(collection.documents)) {
      const document = state.getDocument(node.path);
      const { metadata } = document;
      if (metadata.hasExist) {
        const fields = document.toV1DocumentObject().fields ?? {};
        documents.push({
          path: node.path,
          createTime: metadata.createdAt.toISOString(),
          updateTime: metadata.updatedAt.toISOString(),
          fields: mapValues(fields, encodeValue),
        });
      }
      // Documents that only exist as parents of subcollections still lead to data.
      for (const child of Object.values(node.collections)) visit(child);
    }
  };
  for (const project of Object.values(state.toJSON().projects)) {
    for (const database of Object.values(project.databases)) {
      for (const collection of Object.values(database.collections)) visit(collection);
    }
  }
  documents.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    savedAt: now.toISOString(),
    documents,
  };
}

/** Validates a parsed snapshot file and loads its documents into the state; returns how many. */
export function restoreSnapshot(state: FirestoreState, snapshot: unknown): number {
  const documents = validateSnapshot(snapshot);
  for (const doc of documents) {
    const createdAt = parseTime(doc.createTime, `${doc.path} createTime`);
    const updatedAt = parseTime(doc.updateTime, `${doc.path} updateTime`);
    // The write path converts values with the emulator's own field classes, which are not exported.
    state.writeV1Document(
      updatedAt,
      Write.fromObject({ update: { name: doc.path, fields: mapValues(doc.fields, decodeValue) } }),
    );
    state.getDocument(doc.path).metadata = { hasExist: true, createdAt, updatedAt };
  }
  return documents.length;
}

/** Converts an emulator value object to its JSON-safe snapshot form. */
export function encodeValue(value: V1Value): SnapshotValue {
  if (value.null_value !== undefined) return { nullValue: null };
  if (value.boolean_value !== undefined) return { booleanValue: value.boolean_value };
  if (value.integer_value !== undefined) return { integerValue: String(value.integer_value) };
  if (value.double_value !== undefined) return { doubleValue: encodeDouble(value.double_value) };
  if (value.timestamp_value !== undefined) {
    const { seconds = 0, nanos = 0 } = value.timestamp_value;
    return { timestampValue: { seconds, nanos } };
  }
  if (value.string_value !== undefined) return { stringValue: value.string_value };
  if (value.bytes_value !== undefined) {
    const bytes = value.bytes_value;
    return {
      bytesValue: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    };
  }
  if (value.reference_value !== undefined) return { referenceValue: value.reference_value };
  if (value.geo_point_value !== undefined) {
    const { latitude = 0, longitude = 0 } = value.geo_point_value;
    return { geoPointValue: { latitude, longitude } };
  }
  if (value.array_value !== undefined) {
    return { arrayValue: { values: (value.array_value.values ?? []).map(encodeValue) } };
  }
  if (value.map_value !== undefined) {
    return { mapValue: { fields: mapValues(value.map_value.fields ?? {}, encodeValue) } };
  }
  throw new Error(`Unsupported Firestore value: ${JSON.stringify(value)}`);
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

function validateSnapshot(snapshot: unknown): SnapshotDocument[] {
  if (!isRecord(snapshot) || snapshot.format !== SNAPSHOT_FORMAT) {
    throw new Error(`Not a Firestore emulator snapshot (expected format "${SNAPSHOT_FORMAT}")`);
  }
  if (snapshot.version !== SNAPSHOT_VERSION) {
    throw new Error(
      `Unsupported snapshot version ${String(snapshot.version)} (expected ${SNAPSHOT_VERSION})`,
    );
  }
  if (!Array.isArray(snapshot.documents)) throw new Error('Snapshot has no documents array');
  return snapshot.documents.map((doc: unknown, i) => {
    if (
      !isRecord(doc) ||
      typeof doc.path !== 'string' ||
      typeof doc.createTime !== 'string' ||
      typeof doc.updateTime !== 'string' ||
      !isRecord(doc.fields)
    ) {
      throw new Error(`Malformed snapshot document at index ${i}`);
    }
    return doc as unknown as SnapshotDocument;
  });
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
