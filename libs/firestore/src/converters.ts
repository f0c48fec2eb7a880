import {
  Timestamp,
  type DocumentData,
  type FirestoreDataConverter,
  type QueryDocumentSnapshot,
} from 'firebase-admin/firestore';
import type { z } from 'zod';
import { AppError, describeIssues, formatIssues } from '@wacrm/contracts';

/** Firestore returns Timestamps; the contracts speak `Date`. */
export function timestampsToDates(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toDate();
  if (Array.isArray(value)) return value.map(timestampsToDates);
  if (
    value !== null &&
    typeof value === 'object' &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, timestampsToDates(v)]));
  }
  return value;
}

/**
 * A converter that validates with a contract schema both ways: full writes are parsed before
 * they leave, reads are parsed as they arrive. Merge/partial writes (which may carry
 * FieldValue sentinels) are passed through, since the schema describes whole documents.
 */
export function contractConverter<S extends z.ZodType<DocumentData>>(
  name: string,
  schema: S,
): FirestoreDataConverter<z.output<S>, DocumentData> {
  return {
    toFirestore(model: unknown, options?: unknown): DocumentData {
      if (options !== undefined) return model as DocumentData;
      const parsed = schema.safeParse(model);
      if (!parsed.success) {
        throw new AppError(
          'VALIDATION_FAILED',
          `refusing to write an invalid ${name}: ${formatIssues(parsed.error)}`,
          {
            errors: describeIssues(parsed.error),
          },
        );
      }
      return parsed.data;
    },
    fromFirestore(snapshot: QueryDocumentSnapshot): z.output<S> {
      const parsed = schema.safeParse(timestampsToDates(snapshot.data()));
      if (!parsed.success) {
        throw new AppError(
          'INTERNAL',
          `stored ${name} ${snapshot.ref.path} does not match its contract: ${formatIssues(parsed.error)}`,
          { errors: describeIssues(parsed.error) },
        );
      }
      return parsed.data;
    },
  };
}
