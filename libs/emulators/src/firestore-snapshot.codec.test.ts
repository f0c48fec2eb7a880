import { FirestoreState } from '@firestore-emulator/server';
import { Write } from '@firestore-emulator/proto/dist/google/firestore/v1/write.js';
import { describe, expect, it } from 'vitest';
import {
  captureSnapshot,
  decodeValue,
  encodeStoredFields,
  encodeValue,
  restoreSnapshot,
  SNAPSHOT_FORMAT,
  type SnapshotValue,
} from './firestore-snapshot.codec.js';
import type { StoredField } from './firestore-read-encoder.js';
import { EVERY_VALUE, ROOT } from './firestore-values.fixture.js';

const DOC = 'projects/p/databases/(default)/documents/users/u1';

describe('firestore snapshot codec', () => {
  it('when values that JSON cannot hold are encoded, then they become strings and decode back exactly', () => {
    const cases: [Parameters<typeof encodeValue>[0], SnapshotValue][] = [
      [{ double_value: NaN }, { doubleValue: 'NaN' }],
      [{ double_value: -Infinity }, { doubleValue: '-Infinity' }],
      [{ double_value: -0 }, { doubleValue: '-0' }],
      [{ integer_value: -9_007_199_254_740_991 }, { integerValue: '-9007199254740991' }],
      [{ bytes_value: new Uint8Array([0, 255, 16]) }, { bytesValue: 'AP8Q' }],
      [{ null_value: 0 }, { nullValue: null }],
    ];
    for (const [value, encoded] of cases) {
      expect(encodeValue(value)).toEqual(encoded);
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
      Object.entries(doc.toV1DocumentObject().fields ?? {}).map(([k, v]) => [k, encodeValue(v)]),
    );

    expect(Object.keys(stored).at(-1)).toBe('aaa');
    expect(JSON.stringify(encodeStoredFields(stored))).toBe(JSON.stringify(libraryPath));
  });
});
