import type { FirestoreState } from '@firestore-emulator/server';
import protobuf from 'protobufjs/minimal.js';

/**
 * The wire bytes of the emulator's read answers (`RunQueryResponse`, `BatchGetDocumentsResponse`),
 * written straight from its stored documents. `@firestore-emulator/server` 0.3.15 builds each
 * answered document three times before sending it: its fields as plain objects, those as a
 * google-protobuf `Document`, that back to plain objects (`toV1DocumentObject`), then the whole
 * response as a google-protobuf message again, serialised field by field. On embedded defaults
 * this emulator is the database: in bench:api that conversion and serialisation were the larger
 * part of the store's CPU for a thread list (50 threads) or a search's reads.
 *
 * Field numbers and order follow `google/firestore/v1` as the library's generated code writes
 * them (a oneof member always written, a scalar left out at its default, a nested message always
 * written when present); a test decodes these bytes with the library's own classes and compares
 * them with what the library sends.
 */

/** A stored field as the library keeps it: its v1 `Value` case and a value of that case. */
export interface StoredField {
  type: string;
  value: unknown;
}

type StateDocument = ReturnType<FirestoreState['getDocument']>;

export interface Timestamp {
  seconds: number;
  nanos: number;
}

const { Writer } = protobuf;
type W = protobuf.Writer;

// Tags: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited).
const tag = (field: number, wire: 0 | 1 | 2) => (field << 3) | wire;

function writeTimestamp(w: W, t: Timestamp): void {
  if (t.seconds !== 0) w.uint32(tag(1, 0)).int64(t.seconds);
  if (t.nanos !== 0) w.uint32(tag(2, 0)).int32(t.nanos);
}

/** The content of one `google.firestore.v1.Value`. */
function writeValue(w: W, field: StoredField): void {
  const v = field.value;
  switch (field.type) {
    case 'null_value':
      w.uint32(tag(11, 0)).int32(0);
      return;
    case 'boolean_value':
      w.uint32(tag(1, 0)).bool(v as boolean);
      return;
    case 'integer_value':
      w.uint32(tag(2, 0)).int64(v as number);
      return;
    case 'double_value':
      w.uint32(tag(3, 1)).double(v as number);
      return;
    case 'timestamp_value':
      w.uint32(tag(10, 2)).fork();
      writeTimestamp(w, v as Timestamp);
      w.ldelim();
      return;
    case 'string_value':
      w.uint32(tag(17, 2)).string(v as string);
      return;
    case 'bytes_value':
      w.uint32(tag(18, 2)).bytes(v as Uint8Array);
      return;
    case 'reference_value':
      w.uint32(tag(5, 2)).string(v as string);
      return;
    case 'geo_point_value': {
      const { latitude, longitude } = v as { latitude: number; longitude: number };
      w.uint32(tag(8, 2)).fork();
      if (latitude !== 0) w.uint32(tag(1, 1)).double(latitude);
      if (longitude !== 0) w.uint32(tag(2, 1)).double(longitude);
      w.ldelim();
      return;
    }
    case 'array_value':
      w.uint32(tag(9, 2)).fork();
      for (const element of v as StoredField[]) {
        w.uint32(tag(1, 2)).fork();
        writeValue(w, element);
        w.ldelim();
      }
      w.ldelim();
      return;
    case 'map_value':
      w.uint32(tag(6, 2)).fork();
      writeFields(w, 1, Object.entries(v as Record<string, StoredField>));
      w.ldelim();
      return;
    default:
      throw new Error(`the Firestore emulator stores a field of unknown type ${field.type}`);
  }
}

/** A `map<string, Value>` as field `number`: one entry message (key 1, value 2) per field. */
export function writeFields(w: W, number: number, fields: Iterable<[string, StoredField]>): void {
  for (const [key, field] of fields) {
    w.uint32(tag(number, 2)).fork();
    w.uint32(tag(1, 2)).string(key);
    w.uint32(tag(2, 2)).fork();
    writeValue(w, field);
    w.ldelim();
    w.ldelim();
  }
}

export function timestampOf(at: Date): Timestamp {
  return { seconds: Math.floor(at.getTime() / 1000), nanos: at.getMilliseconds() * 1e6 };
}

/**
 * An existing document as field `number` of the response: all its fields, or only the named
 * top-level ones (a query's `select`, a batch get's mask; `__name__`, not a field, selects none).
 */
function writeDocument(w: W, number: number, doc: StateDocument, names?: readonly string[]): void {
  const stored = (doc as unknown as { fields: Record<string, StoredField> }).fields;
  w.uint32(tag(number, 2)).fork();
  const name = doc.getPath();
  if (name.length > 0) w.uint32(tag(1, 2)).string(name);
  if (names === undefined) {
    writeFields(w, 2, Object.entries(stored));
  } else {
    const picked: Array<[string, StoredField]> = [];
    for (const n of names) {
      const field = Object.hasOwn(stored, n) ? stored[n] : undefined;
      if (field !== undefined) picked.push([n, field]);
    }
    writeFields(w, 2, picked);
  }
  const meta = doc.metadata;
  if (meta.hasExist && meta.createdAt !== null && meta.updatedAt !== null) {
    writeTimestampField(w, 3, timestampOf(meta.createdAt));
    writeTimestampField(w, 4, timestampOf(meta.updatedAt));
  }
  w.ldelim();
}

function writeTimestampField(w: W, number: number, t: Timestamp): void {
  w.uint32(tag(number, 2)).fork();
  writeTimestamp(w, t);
  w.ldelim();
}

const finish = (w: W): Buffer => {
  const bytes = w.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
};

/**
 * One `RunQueryResponse`: a document found (existing; only `names` when given) or none (the
 * answer to a query with no results), the read time, the transaction echoed, `done` on the last.
 */
export function encodeRunQueryResponse(answer: {
  document?: StateDocument;
  names?: readonly string[];
  readTime: Timestamp;
  transaction: Uint8Array;
  done: boolean;
}): Buffer {
  const w = Writer.create();
  if (answer.transaction.length > 0) w.uint32(tag(2, 2)).bytes(answer.transaction);
  if (answer.document !== undefined) writeDocument(w, 1, answer.document, answer.names);
  writeTimestampField(w, 3, answer.readTime);
  w.uint32(tag(6, 0)).bool(answer.done);
  return finish(w);
}

/** One `BatchGetDocumentsResponse`: the document found (only `names` when given) or its path missing. */
export function encodeBatchGetResponse(
  path: string,
  doc: StateDocument,
  readTime: Timestamp,
  names?: readonly string[],
): Buffer {
  const w = Writer.create();
  if (doc.metadata.hasExist) writeDocument(w, 1, doc, names);
  else w.uint32(tag(2, 2)).string(path);
  writeTimestampField(w, 4, readTime);
  return finish(w);
}
