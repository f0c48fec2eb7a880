export { freePort } from './free-port.util.js';
export {
  startRedisServer,
  type RedisServerHandle,
  type RedisServerOptions,
} from './redis-server.process.js';
export {
  startFirestoreEmulator,
  type FirestoreEmulatorHandle,
  type FirestoreEmulatorOptions,
} from './firestore-emulator.server.js';
export { type UnpackedBudget } from './firestore-packed-fields.js';
export {
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  type FirestoreSnapshot,
  type SnapshotDocument,
  type SnapshotValue,
} from './firestore-snapshot.codec.js';
export {
  startAuthEmulator,
  type AuthEmulatorHandle,
  type AuthEmulatorOptions,
} from './auth-emulator.process.js';
export { startS3Store, type S3StoreHandle, type S3StoreOptions } from './s3-store.server.js';
