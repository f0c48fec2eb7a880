import { FirestoreState } from '@firestore-emulator/server';
import type { StructuredQuery } from '@firestore-emulator/proto/dist/google/firestore/v1/query.js';
import { StructuredQueryFieldFilterOperator } from '@firestore-emulator/proto/dist/google/firestore/v1/query.js';

/**
 * `where(field, 'array-contains', 'text')` without `orderBy`, the shape of a thread search.
 * `@firestore-emulator/server` 0.3.15 answers every query by sorting the whole collection,
 * then testing each document with a filter that converts the query's value again for that
 * document and compares it to each element through the field classes; only then is the limit
 * applied. On embedded defaults this emulator is the database, and a thread search (1,000
 * index documents of ~65 prefixes each) spent ~4 ms of CPU there per search (bench:api).
 *
 * The answer is the same: with no `orderBy` the library's (stable) sort keeps the collection's
 * order, a document matches when its field is an array holding a string element equal to the
 * value (the library's `eq` for a string), and the first `limit` matches are returned — found
 * here in one pass that stops at the limit, each array's strings looked up in a set. Any other query, a value other than a string or a
 * path with `.` or backquotes goes to the library as before.
 */
type StateDocument = ReturnType<FirestoreState['getDocument']>;
type V1Query = (this: FirestoreState, parent: string, query: StructuredQuery) => StateDocument[];

interface ElementLike {
  type: string;
  value: unknown;
}

const proto = FirestoreState.prototype as unknown as { v1Query: V1Query };
const libraryQuery = proto.v1Query;
if (typeof libraryQuery !== 'function') {
  throw new Error('@firestore-emulator/server lacks FirestoreState.v1Query');
}

proto.v1Query = function v1Query(this: FirestoreState, parent: string, query: StructuredQuery) {
  const wanted = arrayContainsString(query);
  if (wanted === undefined) return libraryQuery.call(this, parent, query);
  const collection = this.getCollection(`${parent}/${wanted.collectionId}`);
  const limit = query.has_limit ? query.limit.value : Infinity;
  const out: StateDocument[] = [];
  if (limit <= 0) return out;
  for (const doc of collection.getAllDocuments()) {
    if (!doc.metadata.hasExist) continue;
    const field = doc.getField(wanted.path) as ElementLike | undefined;
    if (field?.type !== 'array_value' || !stringsOf(field).has(wanted.value)) continue;
    out.push(doc);
    if (out.length >= limit) break;
  }
  return out;
};

/**
 * The string elements of an array field, kept per field object: the library never changes a
 * stored field (a write or a transform puts a new one in its place), so the set stays true.
 */
const stringSets = new WeakMap<object, Set<unknown>>();

function stringsOf(field: ElementLike): Set<unknown> {
  let set = stringSets.get(field);
  if (set === undefined) {
    set = new Set();
    for (const e of field.value as ElementLike[]) if (e.type === 'string_value') set.add(e.value);
    stringSets.set(field, set);
  }
  return set;
}

/** The query's collection, field and string when it is the shape above; otherwise undefined. */
function arrayContainsString(
  query: StructuredQuery,
): { collectionId: string; path: string; value: string } | undefined {
  if (query.from.length !== 1 || query.order_by.length !== 0 || !query.has_where) return undefined;
  // A negative limit is sliced from the end by the library: left to it.
  if (query.has_limit && query.limit.value < 0) return undefined;
  const collectionId = query.from[0]?.collection_id;
  if (!collectionId || !query.where.has_field_filter) return undefined;
  const filter = query.where.field_filter;
  const path = filter.field.field_path;
  if (
    filter.op !== StructuredQueryFieldFilterOperator.ARRAY_CONTAINS ||
    !path ||
    path.includes('.') ||
    path.includes('`') ||
    !filter.value.has_string_value
  ) {
    return undefined;
  }
  return { collectionId, path, value: filter.value.string_value };
}
