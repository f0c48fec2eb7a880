import {
  FirestoreStateCollection,
  FirestoreStateDatabase,
  FirestoreStateDocument,
} from '@firestore-emulator/server';

/**
 * Two fixes to how `@firestore-emulator/server` 0.3.15 keeps a level's children (a collection's
 * documents, a document's or database's collections), as plain-object maps:
 *
 * - It finds a child with `name in map`, so a document or collection named after an
 *   `Object.prototype` member ('constructor', 'toString', …) resolved to that member and every
 *   read or write of it failed with UNKNOWN ("reading 'hasExist'"). Real Firestore stores such ids
 *   like any other, and on embedded defaults this emulator is the database: an id a stranger chose
 *   (a performer id in a URL) must never become a 500. The maps have a null prototype, so `in`
 *   sees own names only.
 * - It looks every child up through immer's `produce`, which copies and freezes the whole map
 *   when a child is added: creating a document cost O(documents in its collection). With 26,000
 *   outbox documents a create took ~15 ms of the store's CPU, and in a bench:send run three
 *   quarters of the store's CPU was immer copying maps (a CPU profile of the running store). Here
 *   a child that exists is returned directly, and a new one is made by the library's own code on
 *   an empty map and then added to the level's map in place: O(1). Nothing outside these lookups
 *   writes the maps, and every reader takes `Object.values` or one key, so in-place adds are safe.
 */
type ChildMaps = { documents?: object; collections?: object };

/** The level's map, made once a mutable null-prototype copy (immer froze the library's own). */
function ownMap(holder: ChildMaps, key: keyof ChildMaps): Record<string, unknown> {
  const map = holder[key];
  if (map === undefined) throw new Error(`@firestore-emulator/server lacks ${key}`);
  if (Object.getPrototypeOf(map) === null && !Object.isFrozen(map)) {
    return map as Record<string, unknown>;
  }
  const own = Object.assign(Object.create(null) as object, map) as Record<string, unknown>;
  holder[key] = own;
  return own;
}

function guard<T extends object>(
  proto: T,
  method: 'getDocument' | 'getCollection',
  key: keyof ChildMaps,
): void {
  const target = proto as unknown as Record<string, (this: ChildMaps, name: string) => unknown>;
  const original = target[method];
  if (original === undefined) throw new Error(`@firestore-emulator/server lacks ${method}`);
  target[method] = function lookUpOwnName(this: ChildMaps, name: string) {
    const map = ownMap(this, key);
    if (name in map) return map[name];
    // The library builds the child (and emits what it emits) on an empty map of one entry.
    this[key] = Object.create(null) as object;
    try {
      const child = original.call(this, name);
      map[name] = child;
      return child;
    } finally {
      this[key] = map;
    }
  };
}

guard(FirestoreStateCollection.prototype, 'getDocument', 'documents');
guard(FirestoreStateDocument.prototype, 'getCollection', 'collections');
guard(FirestoreStateDatabase.prototype, 'getCollection', 'collections');
