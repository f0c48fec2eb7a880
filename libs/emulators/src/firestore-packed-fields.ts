import { FirestoreState, FirestoreStateDocument } from '@firestore-emulator/server';
import { Write } from '@firestore-emulator/proto/dist/google/firestore/v1/write.js';
import protobuf from 'protobufjs/minimal.js';
import { writeFields, type StoredField } from './firestore-read-encoder.js';

/**
 * Each stored document's fields held as their wire bytes (`google.firestore.v1.Document.fields`,
 * one map entry after another) outside the JavaScript heap, and as the library's field objects
 * only while they are in use. `@firestore-emulator/server` 0.3.15 keeps every field of every
 * document as an object of one of its field classes (a message: ~21 fields, with their values,
 * maps and timestamps, ~60 objects). On embedded defaults this emulator is the database: at
 * bench:api's 100,000 messages and their search index (199,000 documents) its heap held 404 MB of
 * live objects, 283 MB of them fields, and every major collection marked them all: 0.3–1.5 s of
 * main-thread marking steps, during which answers waited (the search p99 misses of bench:api).
 *
 * A document's fields are packed whenever the library assigns them (create, update, transform,
 * restore) and unpacked when it reads them, into the same classes it builds itself (taken from a
 * probe document, as the package exports none of them), so its filters, ordering and updates
 * work unchanged. Recently read or written documents keep their unpacked fields in a bounded
 * set, evicted in CLOCK order (a document read again since the hand last passed stays a round
 * longer): the thread list's threads and a search's index documents are read over and over and
 * are not unpacked each time. A test compares every value type with the library's own objects.
 */

type FieldMap = Record<string, StoredField>;
type FieldClass = new (value?: unknown) => StoredField;

const FIELD_TYPES = [
  'null_value',
  'boolean_value',
  'integer_value',
  'double_value',
  'timestamp_value',
  'string_value',
  'bytes_value',
  'reference_value',
  'geo_point_value',
  'array_value',
  'map_value',
] as const;
type FieldType = (typeof FIELD_TYPES)[number];

/** The library's field classes, from a document it converted itself (before fields are packed). */
function probeFieldClasses(): Record<FieldType, FieldClass> {
  const state = new FirestoreState();
  const name = 'projects/probe/databases/(default)/documents/probe/probe';
  state.writeV1Document(
    new Date(0),
    Write.fromObject({
      update: {
        name,
        fields: {
          n: { null_value: 0 },
          b: { boolean_value: true },
          i: { integer_value: 1 },
          d: { double_value: 1.5 },
          t: { timestamp_value: { seconds: 1, nanos: 0 } },
          s: { string_value: 's' },
          y: { bytes_value: new Uint8Array([1]) },
          r: { reference_value: name },
          g: { geo_point_value: { latitude: 1, longitude: 1 } },
          a: { array_value: { values: [] } },
          m: { map_value: { fields: {} } },
        },
      },
    }),
  );
  const fields = (state.getDocument(name) as unknown as { fields: FieldMap }).fields;
  const classes: Partial<Record<FieldType, FieldClass>> = {};
  for (const field of Object.values(fields)) {
    classes[field.type as FieldType] = field.constructor as FieldClass;
  }
  for (const type of FIELD_TYPES) {
    if (classes[type] === undefined) {
      throw new Error(`@firestore-emulator/server converted no ${type} field`);
    }
  }
  return classes as Record<FieldType, FieldClass>;
}

const Field = probeFieldClasses();
const { Reader, Writer } = protobuf;
type R = protobuf.Reader;

/** The fields as wire bytes: the `fields` entries of a `Document`, in the object's key order. */
export function packFields(fields: FieldMap): Uint8Array {
  const w = Writer.create();
  writeFields(w, 2, Object.entries(fields));
  return w.finish();
}

/** The library's field objects for packed bytes, keys in the order they were packed. */
export function unpackFields(bytes: Uint8Array): FieldMap {
  const r = Reader.create(bytes);
  return readEntries(r, r.len);
}

const WIRE_LENGTH_DELIMITED = 2;

/** Length-delimited map entries (key 1, value 2) up to `end`, whatever their field number. */
function readEntries(r: R, end: number): FieldMap {
  const out: FieldMap = {};
  while (r.pos < end) {
    const tag = r.uint32();
    if ((tag & 7) !== WIRE_LENGTH_DELIMITED) {
      r.skipType(tag & 7);
      continue;
    }
    const stop = r.uint32() + r.pos;
    let key = '';
    let value: StoredField | undefined;
    while (r.pos < stop) {
      const inner = r.uint32();
      if (inner === ((1 << 3) | 2)) key = r.string();
      else if (inner === ((2 << 3) | 2)) value = readValue(r, r.uint32() + r.pos);
      else r.skipType(inner & 7);
    }
    out[key] = value ?? new Field.null_value();
  }
  return out;
}

/** int64 as the library keeps it: a JS number. */
const toNumber = (v: number | protobuf.Long): number =>
  typeof v === 'number' ? v : protobuf.util.LongBits.from(v).toNumber(false);

/** One `google.firestore.v1.Value` ending at `end`. */
function readValue(r: R, end: number): StoredField {
  let field: StoredField | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 11:
        r.int32();
        field = new Field.null_value();
        break;
      case 1:
        field = new Field.boolean_value(r.bool());
        break;
      case 2:
        field = new Field.integer_value(toNumber(r.int64()));
        break;
      case 3:
        field = new Field.double_value(r.double());
        break;
      case 10:
        field = new Field.timestamp_value(readTimestamp(r, r.uint32() + r.pos));
        break;
      case 17:
        field = new Field.string_value(r.string());
        break;
      case 18:
        // A copy as a plain Uint8Array, as the library holds bytes (its comparisons call toString).
        field = new Field.bytes_value(new Uint8Array(r.bytes()));
        break;
      case 5:
        field = new Field.reference_value(r.string());
        break;
      case 8:
        field = new Field.geo_point_value(readGeoPoint(r, r.uint32() + r.pos));
        break;
      case 9:
        field = new Field.array_value(readArray(r, r.uint32() + r.pos));
        break;
      case 6:
        field = new Field.map_value(readEntries(r, r.uint32() + r.pos));
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  if (field === undefined) throw new Error('a packed Firestore value holds no value');
  return field;
}

function readArray(r: R, end: number): StoredField[] {
  const values: StoredField[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | 2)) values.push(readValue(r, r.uint32() + r.pos));
    else r.skipType(tag & 7);
  }
  return values;
}

function readTimestamp(r: R, end: number): { nanos: number; seconds: number } {
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 1 << 3) seconds = toNumber(r.int64());
    else if (tag === 2 << 3) nanos = r.int32();
    else r.skipType(tag & 7);
  }
  return { nanos, seconds };
}

function readGeoPoint(r: R, end: number): { latitude: number; longitude: number } {
  let latitude = 0;
  let longitude = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | 1)) latitude = r.double();
    else if (tag === ((2 << 3) | 1)) longitude = r.double();
    else r.skipType(tag & 7);
  }
  return { latitude, longitude };
}

const PACKED = Symbol('packed fields');
const UNPACKED = Symbol('unpacked fields');
const USED = Symbol('read since the hand passed');
const HOT_SIZE = Symbol('packed size counted while unpacked');

interface Packable {
  [PACKED]?: Uint8Array;
  [UNPACKED]?: FieldMap;
  [USED]?: boolean;
  [HOT_SIZE]?: number;
}

export interface UnpackedBudget {
  /** Packed bytes of the documents kept unpacked (their objects take about 2–3 times that). */
  maxBytes: number;
  /** Documents kept unpacked. */
  maxDocuments: number;
}

/** The documents whose fields stay unpacked: a CLOCK queue bounded in bytes and documents. */
class UnpackedSet {
  private queue: Array<Packable | undefined> = [];
  private head = 0;
  private length = 0;
  private bytes = 0;

  constructor(private budget: UnpackedBudget) {
    this.queue = new Array<Packable | undefined>(budget.maxDocuments);
  }

  configure(budget: UnpackedBudget): void {
    while (this.length > 0) this.evict(this.shift());
    this.budget = budget;
    this.queue = new Array<Packable | undefined>(budget.maxDocuments);
    this.head = 0;
  }

  stats(): { documents: number; bytes: number } {
    return { documents: this.length, bytes: this.bytes };
  }

  /** Keeps `fields` unpacked on `doc` (already in the set: its size is recounted). */
  keep(doc: Packable, fields: FieldMap, size: number): void {
    if (doc[UNPACKED] !== undefined) {
      this.bytes += size - (doc[HOT_SIZE] ?? 0);
      doc[UNPACKED] = fields;
      doc[HOT_SIZE] = size;
      doc[USED] = true;
      return;
    }
    const { maxBytes, maxDocuments } = this.budget;
    if (maxDocuments <= 0 || size > maxBytes) return;
    while (this.length > 0 && (this.length >= maxDocuments || this.bytes + size > maxBytes)) {
      const oldest = this.shift();
      if (oldest[USED] === true) {
        oldest[USED] = false;
        this.push(oldest);
      } else {
        this.evict(oldest);
      }
    }
    doc[UNPACKED] = fields;
    doc[HOT_SIZE] = size;
    doc[USED] = false;
    this.bytes += size;
    this.push(doc);
  }

  private evict(doc: Packable): void {
    this.bytes -= doc[HOT_SIZE] ?? 0;
    doc[UNPACKED] = undefined;
    doc[HOT_SIZE] = 0;
  }

  private push(doc: Packable): void {
    this.queue[(this.head + this.length) % this.queue.length] = doc;
    this.length += 1;
  }

  private shift(): Packable {
    const doc = this.queue[this.head] as Packable;
    this.queue[this.head] = undefined;
    this.head = (this.head + 1) % this.queue.length;
    this.length -= 1;
    return doc;
  }
}

/** 32 MiB packed (~80 MB of objects): a thread list's threads, open chats and hot index words. */
export const DEFAULT_UNPACKED_BUDGET: UnpackedBudget = {
  maxBytes: 32 * 1024 * 1024,
  maxDocuments: 50_000,
};

const unpacked = new UnpackedSet(DEFAULT_UNPACKED_BUDGET);

/** Sets how many documents stay unpacked (a test's small budget); the set starts empty again. */
export function configureUnpackedFields(budget: UnpackedBudget): void {
  unpacked.configure(budget);
}

/** Documents kept unpacked now and their packed bytes. */
export function unpackedFieldsStats(): { documents: number; bytes: number } {
  return unpacked.stats();
}

const NO_FIELDS = new Uint8Array(0);
let keepOnRead = true;

/**
 * Runs `read` without keeping what it unpacks: a snapshot reads every document once, and would
 * otherwise push every document in use out of the unpacked set.
 */
export function readingOnce<T>(read: () => T): T {
  const was = keepOnRead;
  keepOnRead = false;
  try {
    return read();
  } finally {
    keepOnRead = was;
  }
}

Object.defineProperty(FirestoreStateDocument.prototype, 'fields', {
  configurable: true,
  get(this: Packable): FieldMap {
    const hot = this[UNPACKED];
    if (hot !== undefined) {
      this[USED] = true;
      return hot;
    }
    const packed = this[PACKED] ?? NO_FIELDS;
    const fields = unpackFields(packed);
    if (keepOnRead && packed.length > 0) unpacked.keep(this, fields, packed.length);
    return fields;
  },
  set(this: Packable, fields: FieldMap) {
    const packed = packFields(fields);
    this[PACKED] = packed;
    if (packed.length > 0) unpacked.keep(this, fields, packed.length);
    else if (this[UNPACKED] !== undefined) unpacked.keep(this, fields, 0);
  },
});
