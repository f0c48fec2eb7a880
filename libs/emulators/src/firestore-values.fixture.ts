import type { Write } from '@firestore-emulator/proto/dist/google/firestore/v1/write.js';

/** Shared by the tests of the store's read encoder and of its packed fields. */
export const ROOT = 'projects/p/databases/(default)/documents';

export type V1Fields = Parameters<typeof Write.fromObject>[0]['update'] extends infer U
  ? U extends { fields?: infer F }
    ? F
    : never
  : never;

/** Every value case, at its edges: defaults, negatives, non-finite, nesting, integer-like keys. */
export const EVERY_VALUE: V1Fields = {
  nil: { null_value: 0 },
  yes: { boolean_value: true },
  no: { boolean_value: false },
  zero: { integer_value: 0 },
  negative: { integer_value: -5 },
  big: { integer_value: 9_007_199_254_740_991 },
  small: { integer_value: -9_007_199_254_740_991 },
  half: { double_value: 1.5 },
  dzero: { double_value: 0 },
  nzero: { double_value: -0 },
  nan: { double_value: NaN },
  inf: { double_value: -Infinity },
  epoch: { timestamp_value: { seconds: 0, nanos: 0 } },
  before: { timestamp_value: { seconds: -86_400, nanos: 5_000_000 } },
  at: { timestamp_value: { seconds: 1_733_500_000, nanos: 123_000_000 } },
  empty: { string_value: '' },
  text: { string_value: 'Ștefan ţ ă â î 😀 \u0000 end' },
  bytes: { bytes_value: new Uint8Array([0, 255, 16, 128]) },
  nobytes: { bytes_value: new Uint8Array([]) },
  ref: { reference_value: `${ROOT}/threads/t1` },
  origin: { geo_point_value: { latitude: 0, longitude: 0 } },
  place: { geo_point_value: { latitude: 44.4268, longitude: -26.1025 } },
  list: {
    array_value: {
      values: [
        { string_value: 'a' },
        { integer_value: 2 },
        { null_value: 0 },
        { array_value: { values: [] } },
        { map_value: { fields: { k: { boolean_value: false } } } },
      ],
    },
  },
  nolist: { array_value: { values: [] } },
  nomap: { map_value: { fields: {} } },
  nested: {
    map_value: {
      fields: {
        '2024': { string_value: 'week' },
        '10': { integer_value: 10 },
        'a b': { map_value: { fields: { deep: { double_value: 2.25 } } } },
      },
    },
  },
  '7': { string_value: 'an integer-like top-level key' },
};
