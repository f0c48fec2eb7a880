import type { z } from 'zod';

/** Flattens zod issues into `{path, message}` pairs an integrator can act on. */
export function describeIssues(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
  }));
}

/** One line naming every failing field, e.g. `accountId: …; text: …`. */
export function formatIssues(error: z.ZodError): string {
  return describeIssues(error)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
}
