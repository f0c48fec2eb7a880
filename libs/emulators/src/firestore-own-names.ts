import {
  FirestoreStateCollection,
  FirestoreStateDatabase,
  FirestoreStateDocument,
} from '@firestore-emulator/server';

/**
 * `@firestore-emulator/server` 0.3.15 finds a child with `name in map` over plain objects, so a
 * document or collection named after an `Object.prototype` member ('constructor', 'toString', …)
 * resolves to that member and every read or write of it fails with UNKNOWN ("reading
 * 'hasExist'"). Real Firestore stores such ids like any other, and on embedded defaults this
 * emulator is the database: an id a stranger chose (a performer id in a URL) must never become a
 * 500. Before each lookup the child map is given a null prototype, so `in` sees own names only;
 * immer's copies keep that prototype.
 */
type ChildMaps = { documents?: object; collections?: object };

function ownNamesOnly(holder: ChildMaps, key: keyof ChildMaps): void {
  const map = holder[key];
  if (map !== undefined && Object.getPrototypeOf(map) !== null) {
    holder[key] = Object.assign(Object.create(null) as object, map);
  }
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
    ownNamesOnly(this, key);
    return original.call(this, name);
  };
}

guard(FirestoreStateCollection.prototype, 'getDocument', 'documents');
guard(FirestoreStateDocument.prototype, 'getCollection', 'collections');
guard(FirestoreStateDatabase.prototype, 'getCollection', 'collections');
