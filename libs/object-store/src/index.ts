export {
  ObjectStore,
  contentKey,
  sha256Hex,
  type ObjectHead,
  type ObjectRange,
  type ObjectRead,
  type ObjectStoreConfig,
  type StoredObject,
} from './object-store.js';
export { FileTooLargeError, sniffMime, spoolToFile } from './spool-file.js';
