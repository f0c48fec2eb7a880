export {
  ObjectStore,
  contentKey,
  localObjectStoreConfig,
  objectStoreConfig,
  sha256Hex,
  type ObjectHead,
  type ObjectRange,
  type ObjectRead,
  type ObjectStoreConfig,
  type S3Settings,
  type StoredObject,
} from './object-store.js';
export { FileTooLargeError, sniffMime, spoolToFile } from './spool-file.js';
