import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AccountDoc,
  ClientDoc,
  EventDoc,
  ExtractionDoc,
  MessageDoc,
  OutboxDoc,
  ThreadDoc,
  WebhookDeliveryDoc,
  WebhookEventLogDoc,
} from '@wacrm/contracts';
import {
  RulesSyntaxError,
  collectionsGranting,
  deletableCollections,
  flattenMatches,
  parseRules,
} from './rules-parser.js';

const firebaseDir = new URL('../../../firebase/', import.meta.url);
const rulesUrl = new URL('../../../firebase/firestore.rules', import.meta.url);
const rulesText = readFileSync(rulesUrl, 'utf8');
const DOCUMENTS = '/databases/{database}/documents';

// Index fields must exist in the documents' contracts (libs/contracts), the one place shapes live.
const DATA_MODEL_FIELDS: Record<string, readonly string[]> = {
  accounts: Object.keys(AccountDoc.shape),
  threads: Object.keys(ThreadDoc.shape),
  messages: Object.keys(MessageDoc.shape),
  outbox: Object.keys(OutboxDoc.shape),
  evenimente: Object.keys(EventDoc.shape),
  clients: Object.keys(ClientDoc.shape),
  extractions: Object.keys(ExtractionDoc.shape),
  webhookDeliveries: Object.keys(WebhookDeliveryDoc.shape),
  webhookEvents: Object.keys(WebhookEventLogDoc.shape),
};

interface IndexField {
  fieldPath: string;
  order?: 'ASCENDING' | 'DESCENDING';
  arrayConfig?: 'CONTAINS';
}

interface CompositeIndex {
  collectionGroup: string;
  queryScope: 'COLLECTION' | 'COLLECTION_GROUP';
  fields: IndexField[];
}

interface IndexesFile {
  indexes: CompositeIndex[];
  fieldOverrides: unknown[];
}

interface FirebaseJson {
  firestore: { rules: string; indexes: string };
  emulators: Record<string, unknown>;
}

/** `/databases/{database}/documents/threads/{threadId}/messages/{messageId}` → `threads/*\/messages`. */
function collectionOf(fullPath: string): string {
  const segments = fullPath.slice(DOCUMENTS.length).split('/').filter(Boolean);
  return segments
    .slice(0, -1)
    .map((s) => (s.startsWith('{') ? '*' : s))
    .join('/');
}

function readJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(new URL(relativePath, firebaseDir), 'utf8')) as T;
}

function indexSignature(index: CompositeIndex): string {
  return `${index.collectionGroup}:${index.fields.map((f) => `${f.fieldPath} ${f.order ?? f.arrayConfig ?? ''}`).join(',')}`;
}

describe("the project's firestore.rules", () => {
  const tree = parseRules(rulesText);
  const documentBlocks = flattenMatches(tree).filter((b) => b.fullPath.startsWith(`${DOCUMENTS}/`));

  it('when the project rules are parsed, then no collection allows delete', () => {
    expect(tree.rulesVersion).toBe('2');
    expect(tree.services.map((s) => s.name)).toEqual(['cloud.firestore']);
    expect(deletableCollections(rulesText)).toEqual([]);
  });

  it('when the project rules are parsed, then every collection of the data model has a match block', () => {
    const collections = new Set(documentBlocks.map((b) => collectionOf(b.fullPath)));
    for (const collection of [
      'accounts',
      'threads',
      'threads/*/messages',
      'threads/*/extractions',
      'threads/*/notes',
      'outbox',
      'evenimente',
      'clients',
      'users',
    ]) {
      expect(collections, collection).toContain(collection);
    }
  });

  it('when the project rules are parsed, then every match block denies delete explicitly', () => {
    for (const block of documentBlocks) {
      const explicit = block.allows.some(
        (a) => a.ops.includes('delete') && a.condition === 'false',
      );
      expect(explicit, block.fullPath).toBe(true);
    }
  });

  it('when the project rules are parsed, then only evenimente can be created or updated by a client', () => {
    for (const operation of ['create', 'update'] as const) {
      const paths = collectionsGranting(rulesText, operation).map((g) => g.path);
      expect(paths, operation).toEqual([`${DOCUMENTS}/evenimente/{eventId}`]);
    }
  });

  it('when the project rules are parsed, then the access helpers are declared', () => {
    const documents = flattenMatches(tree).find((b) => b.fullPath === DOCUMENTS);
    const helpers = documents?.functions.map((f) => f.name) ?? [];
    for (const helper of [
      'isAuthenticated',
      'userDoc',
      'isAdmin',
      'isEmployee',
      'getUserAllowedAccounts',
      'canSeeAccount',
    ]) {
      expect(helpers).toContain(helper);
    }
  });

  it('when an event is created, then the rule requires the author, not archived and schema 2 or 3', () => {
    const evenimente = documentBlocks.find((b) => collectionOf(b.fullPath) === 'evenimente');
    const create = evenimente?.allows.find((a) => a.ops.includes('create'));
    expect(create?.condition).toContain('createdBy == request.auth.uid');
    expect(create?.condition).toContain('isArchived == false');
    expect(create?.condition).toContain('schemaVersion in [2, 3]');
  });
});

describe('deletableCollections', () => {
  const wrap = (body: string): string =>
    `rules_version = '2';\nservice cloud.firestore {\n  match /databases/{database}/documents {\n${body}\n  }\n}\n`;

  it('when a block allows delete for admins, then it is flagged', () => {
    const text = wrap('match /threads/{threadId} { allow delete: if isAdmin(); }');
    expect(deletableCollections(text)).toEqual([
      { path: `${DOCUMENTS}/threads/{threadId}`, condition: 'isAdmin()' },
    ]);
  });

  it('when a block allows write unconditionally, then it is flagged because write includes delete', () => {
    const text = wrap('match /clients/{phone} { allow read: if true; allow write: if true; }');
    expect(deletableCollections(text)).toEqual([
      { path: `${DOCUMENTS}/clients/{phone}`, condition: 'true' },
    ]);
  });

  it('when delete is granted two levels deep, then it is flagged with the full path', () => {
    const text = wrap(`
      match /threads/{threadId} {
        allow read: if false;
        match /messages/{messageId} {
          allow read: if false;
          match /reactions/{reactionId} {
            allow read, write, delete: if request.auth != null;
          }
        }
      }`);
    expect(deletableCollections(text)).toEqual([
      {
        path: `${DOCUMENTS}/threads/{threadId}/messages/{messageId}/reactions/{reactionId}`,
        condition: 'request.auth != null',
      },
    ]);
  });

  it('when delete appears only in comments and strings, then nothing is flagged', () => {
    const text = wrap(`
      // allow delete: if true;
      /* match /x/{y} { allow delete: if true; } */
      match /evenimente/{eventId} {
        allow read: if resource.data.note != 'allow delete: if true; }' // allow write: if true;
          && resource.data.title != "say \\"allow delete\\"; {";
        allow delete: if false;
        allow write: if (false);
      }`);
    expect(deletableCollections(text)).toEqual([]);
    const [block] = flattenMatches(parseRules(text)).filter(
      (b) => b.path === '/evenimente/{eventId}',
    );
    expect(block?.allows.map((a) => a.ops)).toEqual([['read'], ['delete'], ['write']]);
  });

  it('when delete is granted without a condition, then it is flagged as true', () => {
    const text = wrap('match /outbox/{requestId} { allow delete; }');
    expect(deletableCollections(text)).toEqual([
      { path: `${DOCUMENTS}/outbox/{requestId}`, condition: 'true' },
    ]);
  });

  it('when the rules are malformed, then parsing fails with the line of the problem', () => {
    const text = wrap('match /threads/{threadId} {\n  allow remove: if true;\n}');
    expect(() => parseRules(text)).toThrow(RulesSyntaxError);
    expect(() => parseRules(text)).toThrow(/Unknown operation 'remove' at line 5/);
    expect(() => parseRules(wrap('match /a/{b} { allow read: if (true; }'))).toThrow(
      RulesSyntaxError,
    );
  });
});

describe("the project's firestore.indexes.json", () => {
  const file = readJson<IndexesFile>('firestore.indexes.json');

  it('when the indexes are read, then the inbox and client-profile composite indexes exist', () => {
    const signatures = file.indexes.map(indexSignature);
    expect(signatures).toContain('threads:accountId ASCENDING,lastMessageAt DESCENDING');
    // The inbox filters (issue 20): each equality or array-contains before the list's order.
    for (const filter of [
      'assigneeUid ASCENDING',
      'stage ASCENDING',
      'labels CONTAINS',
      'lastMessageDirection ASCENDING',
    ]) {
      expect(signatures).toContain(
        `threads:accountId ASCENDING,${filter},lastMessageAt DESCENDING`,
      );
    }
    expect(signatures).toContain('evenimente:phoneE164 ASCENDING,date DESCENDING');
    expect(new Set(signatures).size).toBe(signatures.length);
    expect(file.fieldOverrides).toEqual([]);
  });

  it('when the indexes are read, then every field belongs to the data model', () => {
    for (const index of file.indexes) {
      const known = DATA_MODEL_FIELDS[index.collectionGroup];
      expect(known, index.collectionGroup).toBeDefined();
      expect(index.queryScope).toBe('COLLECTION');
      // A single-field composite is rejected by Firestore; those are automatic.
      expect(index.fields.length).toBeGreaterThan(1);
      for (const field of index.fields) {
        expect(known, `${index.collectionGroup}.${field.fieldPath}`).toContain(field.fieldPath);
        // Ordered, or an array field for array-contains (at most one per index).
        if (field.arrayConfig !== undefined) {
          expect(field.arrayConfig).toBe('CONTAINS');
          expect(field.order).toBeUndefined();
        } else {
          expect(['ASCENDING', 'DESCENDING']).toContain(field.order);
        }
      }
      expect(index.fields.filter((f) => f.arrayConfig !== undefined).length).toBeLessThanOrEqual(1);
    }
  });
});

describe("the project's firebase.json", () => {
  const config = readJson<FirebaseJson>('firebase.json');

  it('when firebase.json is read, then its rules and indexes files exist', () => {
    expect(existsSync(new URL(config.firestore.rules, firebaseDir))).toBe(true);
    expect(existsSync(new URL(config.firestore.indexes, firebaseDir))).toBe(true);
    expect(new URL(config.firestore.rules, firebaseDir).href).toBe(rulesUrl.href);
  });

  it('when firebase.json is read, then the emulators bind to loopback on a demo project', () => {
    expect(config.emulators).toMatchObject({
      auth: { host: '127.0.0.1', port: 9099 },
      firestore: { host: '127.0.0.1', port: 8181 },
      ui: { enabled: false },
      singleProjectMode: true,
    });
    // A demo- project id keeps the CLI and emulators from ever touching a real project.
    expect(readJson<{ projects: { default: string } }>('.firebaserc').projects.default).toBe(
      'demo-wacrm',
    );
  });
});
