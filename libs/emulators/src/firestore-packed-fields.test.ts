import { FirestoreState } from '@firestore-emulator/server';
import {
  StructuredQuery,
  StructuredQueryDirection,
  StructuredQueryFieldFilterOperator,
} from '@firestore-emulator/proto/dist/google/firestore/v1/query.js';
import { Write } from '@firestore-emulator/proto/dist/google/firestore/v1/write.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  configureUnpackedFields,
  DEFAULT_UNPACKED_BUDGET,
  packFields,
  unpackFields,
  unpackedFieldsStats,
} from './firestore-packed-fields.js';
import type { StoredField } from './firestore-read-encoder.js';
import { iterateDocuments } from './firestore-snapshot.codec.js';
import { EVERY_VALUE, ROOT, type V1Fields } from './firestore-values.fixture.js';

type Fields = Record<string, StoredField>;
const fieldsOf = (state: FirestoreState, path: string): Fields =>
  (state.getDocument(`${ROOT}/${path}`) as unknown as { fields: Fields }).fields;

function write(state: FirestoreState, path: string, fields: V1Fields, mask?: string[]): void {
  state.writeV1Document(
    new Date(),
    Write.fromObject({
      update: { name: `${ROOT}/${path}`, fields },
      ...(mask ? { update_mask: { field_paths: mask } } : {}),
    }),
  );
}

afterEach(() => configureUnpackedFields(DEFAULT_UNPACKED_BUDGET));

describe('the store keeps document fields packed', () => {
  it('when every value type is packed and unpacked, then the library’s own field objects come back in their key order', () => {
    const state = new FirestoreState();
    write(state, 'c/every', EVERY_VALUE);
    // Just written, so these are the objects the library built and assigned.
    const built = fieldsOf(state, 'c/every');
    const again = unpackFields(packFields(built));

    expect(Object.keys(again)).toEqual(Object.keys(built));
    expect(again).toStrictEqual(built);
    for (const [key, field] of Object.entries(built)) {
      expect(again[key]?.constructor, key).toBe(field.constructor);
    }
    // The comparisons the library's filters use still hold between stored and unpacked values.
    const eq = (f: StoredField, g: StoredField) =>
      (f as unknown as { eq(o: unknown): boolean }).eq(g);
    expect(eq(again.text as StoredField, built.text as StoredField)).toBe(true);
    expect(eq(again.bytes as StoredField, built.bytes as StoredField)).toBe(true);
    expect(eq(again.list as StoredField, built.list as StoredField)).toBe(true);
    expect(eq(again.nested as StoredField, built.nested as StoredField)).toBe(true);
  });

  it('when no document may stay unpacked, then reads, masked updates and queries answer as the library does', () => {
    configureUnpackedFields({ maxBytes: 1024 * 1024, maxDocuments: 0 });
    const state = new FirestoreState();
    for (let n = 0; n < 20; n++) {
      write(state, `c/d${n}`, {
        n: { integer_value: n },
        text: { string_value: `Ștefan ${n}` },
        nested: {
          map_value: { fields: { x: { integer_value: n }, keep: { boolean_value: true } } },
        },
      });
    }
    write(state, 'c/d3', { nested: { map_value: { fields: { x: { integer_value: 300 } } } } }, [
      'nested.x',
    ]);

    expect(unpackedFieldsStats().documents).toBe(0);
    const d3 = state.getDocument(`${ROOT}/c/d3`).toV1DocumentObject().fields;
    expect(d3).toEqual({
      n: { integer_value: 3 },
      text: { string_value: 'Ștefan 3' },
      nested: {
        map_value: { fields: { x: { integer_value: 300 }, keep: { boolean_value: true } } },
      },
    });
    const query = StructuredQuery.fromObject({
      from: [{ collection_id: 'c' }],
      where: {
        field_filter: {
          field: { field_path: 'n' },
          op: StructuredQueryFieldFilterOperator.GREATER_THAN_OR_EQUAL,
          value: { integer_value: 15 },
        },
      },
      order_by: [{ field: { field_path: 'n' }, direction: StructuredQueryDirection.DESCENDING }],
    });
    const found = state.v1Query(ROOT, query).map((doc) => doc.name);
    expect(found).toEqual(['d19', 'd18', 'd17', 'd16', 'd15']);
  });

  it('when the unpacked set is full, then a document read again since the hand passed stays and one never read again goes', () => {
    configureUnpackedFields({ maxBytes: 1024 * 1024, maxDocuments: 3 });
    const state = new FirestoreState();
    for (let n = 0; n < 12; n++) write(state, `c/d${n}`, { n: { integer_value: n } });
    configureUnpackedFields({ maxBytes: 1024 * 1024, maxDocuments: 3 });

    const hot = fieldsOf(state, 'c/d0');
    const once = fieldsOf(state, 'c/d1');
    for (let n = 2; n < 12; n++) {
      fieldsOf(state, `c/d${n}`);
      // The same object while it stays unpacked; a new one after an eviction.
      expect(fieldsOf(state, 'c/d0'), `after d${n}`).toBe(hot);
    }
    expect(fieldsOf(state, 'c/d1')).not.toBe(once);
    expect(fieldsOf(state, 'c/d1')).toStrictEqual(once);
    expect(unpackedFieldsStats().documents).toBeLessThanOrEqual(3);
  });

  it('when a document is larger than the whole budget, then it is unpacked for each read and never kept', () => {
    configureUnpackedFields({ maxBytes: 64, maxDocuments: 10 });
    const state = new FirestoreState();
    write(state, 'c/big', { text: { string_value: 'x'.repeat(200) } });
    const first = fieldsOf(state, 'c/big');
    expect(fieldsOf(state, 'c/big')).not.toBe(first);
    expect(fieldsOf(state, 'c/big')).toStrictEqual(first);
    expect(unpackedFieldsStats()).toEqual({ documents: 0, bytes: 0 });
  });

  it('when a snapshot reads every document, then the documents in use stay unpacked', () => {
    configureUnpackedFields({ maxBytes: 1024 * 1024, maxDocuments: 3 });
    const state = new FirestoreState();
    for (let n = 0; n < 10; n++) write(state, `c/d${n}`, { n: { integer_value: n } });
    const inUse = fieldsOf(state, 'c/d0');
    expect(fieldsOf(state, 'c/d0')).toBe(inUse);

    const snapshot = [...iterateDocuments(state)];

    expect(snapshot).toHaveLength(10);
    expect(snapshot[9]?.fields).toEqual({ n: { integerValue: '9' } });
    expect(fieldsOf(state, 'c/d0')).toBe(inUse);
  });
});
