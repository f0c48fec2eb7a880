import { FirestoreState } from '@firestore-emulator/server';
import { Write } from '@firestore-emulator/proto/dist/google/firestore/v1/write.js';
import { describe, expect, it } from 'vitest';
import {
  captureSnapshot,
  decodeValue,
  encodeStoredFields,
  restoreSnapshot,
  SNAPSHOT_FORMAT,
  type SnapshotValue,
} from './firestore-snapshot.codec.js';
import type { StoredField } from './firestore-read-encoder.js';
import { EVERY_VALUE, ROOT } from './firestore-values.fixture.js';

const DOC = 'projects/p/databases/(default)/documents/users/u1';

/** An emulator value object, as the library converts it. */
type V1Value = ReturnType<typeof decodeValue>;

/**
 * The oracle: how the codec encoded a value from the library's `toV1DocumentObject()` before it
 * read the stored fields directly (21a9a17).
 */
function libraryPathValue(value: V1Value): SnapshotValue {
  if (value.null_value !== undefined) return { nullValue: null };
  if (value.boolean_value !== undefined) return { booleanValue: value.boolean_value };
  if (value.integer_value !== undefined) return { integerValue: String(value.integer_value) };
  if (value.double_value !== undefined) {
    const n = value.double_value;
    const special = Number.isNaN(n)
      ? 'NaN'
      : n === Infinity
        ? 'Infinity'
        : n === -Infinity
          ? '-Infinity'
          : Object.is(n, -0)
            ? '-0'
            : undefined;
    return { doubleValue: special ?? n };
  }
  if (value.timestamp_value !== undefined) {
    const { seconds = 0, nanos = 0 } = value.timestamp_value;
    return { timestampValue: { seconds, nanos } };
  }
  if (value.string_value !== undefined) return { stringValue: value.string_value };
  if (value.bytes_value !== undefined) {
    return { bytesValue: Buffer.from(value.bytes_value).toString('base64') };
  }
  if (value.reference_value !== undefined) return { referenceValue: value.reference_value };
  if (value.geo_point_value !== undefined) {
    const { latitude = 0, longitude = 0 } = value.geo_point_value;
    return { geoPointValue: { latitude, longitude } };
  }
  if (value.array_value !== undefined) {
    return { arrayValue: { values: (value.array_value.values ?? []).map(libraryPathValue) } };
  }
  if (value.map_value !== undefined) {
    const fields = value.map_value.fields ?? {};
    return {
      mapValue: {
        fields: Object.fromEntries(
          Object.entries(fields).map(([k, v]) => [k, libraryPathValue(v)]),
        ),
      },
    };
  }
  throw new Error(`Unsupported Firestore value: ${JSON.stringify(value)}`);
}

/** The stored fields of a document the library wrote with `fields`. */
function storedAfterWrite(fields: Record<string, V1Value>): Record<string, StoredField> {
  const state = new FirestoreState();
  state.writeV1Document(new Date(), Write.fromObject({ update: { name: DOC, fields } }));
  return (state.getDocument(DOC) as unknown as { fields: Record<string, StoredField> }).fields;
}

describe('firestore snapshot codec', () => {
  it('when values that JSON cannot hold are encoded, then they become strings and decode back exactly', () => {
    const cases: [V1Value, SnapshotValue][] = [
      [{ double_value: NaN }, { doubleValue: 'NaN' }],
      [{ double_value: -Infinity }, { doubleValue: '-Infinity' }],
      [{ double_value: -0 }, { doubleValue: '-0' }],
      [{ integer_value: -9_007_199_254_740_991 }, { integerValue: '-9007199254740991' }],
      [{ bytes_value: new Uint8Array([0, 255, 16]) }, { bytesValue: 'AP8Q' }],
      [{ null_value: 0 }, { nullValue: null }],
    ];
    for (const [value, encoded] of cases) {
      expect(encodeStoredFields(storedAfterWrite({ v: value })).v).toEqual(encoded);
      expect(decodeValue(JSON.parse(JSON.stringify(encoded)) as SnapshotValue)).toEqual(value);
    }
  });

  it('when a snapshot value is malformed, then decoding throws instead of guessing', () => {
    expect(() => decodeValue({ integerValue: '1.5' })).toThrow(/Malformed/);
    expect(() => decodeValue({ unknownValue: 1 } as unknown as SnapshotValue)).toThrow(/Malformed/);
  });

  it('when a state is captured and restored into a new state, then documents, subcollections and times match', () => {
    const source = new FirestoreState();
    const created = new Date('2024-01-02T03:04:05.678Z');
    const updated = new Date('2024-05-06T07:08:09.012Z');
    source.writeV1Document(
      created,
      Write.fromObject({ update: { name: DOC, fields: { n: { integer_value: 1 } } } }),
    );
    source.writeV1Document(
      updated,
      Write.fromObject({ update: { name: DOC, fields: { n: { integer_value: 2 } } } }),
    );
    source.writeV1Document(
      created,
      Write.fromObject({
        update: {
          name: `${DOC}/notes/n1`,
          fields: { body: { map_value: { fields: { text: { string_value: 'hi' } } } } },
        },
      }),
    );
    const snapshot = captureSnapshot(source);

    const target = new FirestoreState();
    const restored = restoreSnapshot(target, JSON.parse(JSON.stringify(snapshot)));

    expect(restored).toBe(2);
    expect(snapshot.format).toBe(SNAPSHOT_FORMAT);
    expect(target.getDocument(DOC).toV1DocumentObject()).toEqual(
      source.getDocument(DOC).toV1DocumentObject(),
    );
    expect(target.getDocument(DOC).metadata).toEqual({
      hasExist: true,
      createdAt: created,
      updatedAt: updated,
    });
    expect(target.getDocument(`${DOC}/notes/n1`).toV1DocumentObject()).toEqual(
      source.getDocument(`${DOC}/notes/n1`).toV1DocumentObject(),
    );
    expect(captureSnapshot(target, new Date(snapshot.savedAt))).toEqual(snapshot);
  });

  it('when the file has another format or version, then restoring fails with the reason', () => {
    const state = new FirestoreState();
    expect(() => restoreSnapshot(state, { documents: [] })).toThrow(
      /Not a Firestore emulator snapshot/,
    );
    expect(() =>
      restoreSnapshot(state, { format: SNAPSHOT_FORMAT, version: 99, documents: [] }),
    ).toThrow(/Unsupported snapshot version 99/);
  });

  it('when stored fields are encoded directly, then the JSON is the library path’s to the byte, keys out of order included', () => {
    const state = new FirestoreState();
    const name = `${ROOT}/c/every`;
    state.writeV1Document(new Date(), Write.fromObject({ update: { name, fields: EVERY_VALUE } }));
    // A masked update adds keys after the stored ones: out of sorted order in the stored object.
    state.writeV1Document(
      new Date(),
      Write.fromObject({
        update: {
          name,
          fields: {
            aaa: { string_value: 'added last' },
            nested: { map_value: { fields: { '0': { integer_value: 0 }, zz: { null_value: 0 } } } },
          },
        },
        update_mask: { field_paths: ['aaa', 'nested.0', 'nested.zz'] },
      }),
    );
    const doc = state.getDocument(name);
    const stored = (doc as unknown as { fields: Record<string, StoredField> }).fields;
    const libraryPath = Object.fromEntries(
      Object.entries(doc.toV1DocumentObject().fields ?? {}).map(([k, v]) => [
        k,
        libraryPathValue(v),
      ]),
    );

    expect(Object.keys(stored).at(-1)).toBe('aaa');
    expect(JSON.stringify(encodeStoredFields(stored))).toBe(JSON.stringify(libraryPath));
  });
});
