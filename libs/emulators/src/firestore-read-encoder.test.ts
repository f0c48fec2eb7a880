import { FirestoreState } from '@firestore-emulator/server';
import {
  BatchGetDocumentsResponse,
  RunQueryResponse,
} from '@firestore-emulator/proto/dist/google/firestore/v1/firestore.js';
import { Write } from '@firestore-emulator/proto/dist/google/firestore/v1/write.js';
import { describe, expect, it } from 'vitest';
import {
  encodeBatchGetResponse,
  encodeRunQueryResponse,
  timestampOf,
} from './firestore-read-encoder.js';
import { EVERY_VALUE, ROOT, type V1Fields } from './firestore-values.fixture.js';

function stateWith(docs: Record<string, V1Fields>): FirestoreState {
  const state = new FirestoreState();
  let at = Date.parse('2026-12-07T10:00:00.000Z');
  for (const [path, fields] of Object.entries(docs)) {
    at += 1234;
    state.writeV1Document(
      new Date(at),
      Write.fromObject({ update: { name: `${ROOT}/${path}`, fields } }),
    );
  }
  return state;
}

const readTime = timestampOf(new Date('2026-12-07T11:22:33.456Z'));
const transaction = new Uint8Array([17, 2, 0, 0, 0, 0, 0, 0, 9]);

describe('firestore read encoder', () => {
  it('when a query answers documents, then the bytes are those the library sends, byte for byte', () => {
    const state = stateWith({
      'c/every': EVERY_VALUE,
      'c/bare': {},
      'c/one': { x: { string_value: 'y' } },
    });
    for (const id of ['every', 'bare', 'one']) {
      const doc = state.getDocument(`${ROOT}/c/${id}`);
      for (const [tx, done] of [
        [new Uint8Array(), false],
        [transaction, true],
      ] as const) {
        const library = RunQueryResponse.fromObject({
          document: doc.toV1DocumentObject(),
          done,
          read_time: readTime,
          skipped_results: 0,
          transaction: tx,
        }).serialize();
        const ours = encodeRunQueryResponse({ document: doc, readTime, transaction: tx, done });
        expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(library).toString('hex'));
      }
    }
  });

  it('when a query answers nothing, then the one response is the library’s done-without-document', () => {
    const library = RunQueryResponse.fromObject({
      done: true,
      read_time: readTime,
      skipped_results: 0,
      transaction,
    }).serialize();
    const ours = encodeRunQueryResponse({ readTime, transaction, done: true });
    expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(library).toString('hex'));
  });

  it('when a batch get finds a document or not, then found and missing are the library’s bytes', () => {
    const state = stateWith({ 'c/every': EVERY_VALUE });
    const found = state.getDocument(`${ROOT}/c/every`);
    expect(encodeBatchGetResponse(found.getPath(), found, readTime).toString('hex')).toBe(
      Buffer.from(
        BatchGetDocumentsResponse.fromObject({
          found: found.toV1DocumentObject(),
          read_time: readTime,
        }).serialize(),
      ).toString('hex'),
    );
    const path = `${ROOT}/c/absent`;
    const absent = state.getDocument(path);
    expect(encodeBatchGetResponse(path, absent, readTime).toString('hex')).toBe(
      Buffer.from(
        BatchGetDocumentsResponse.fromObject({ missing: path, read_time: readTime }).serialize(),
      ).toString('hex'),
    );
  });

  it('when fields are named, then only those that exist are sent, decoded as the library stores them', () => {
    const state = stateWith({ 'c/every': EVERY_VALUE });
    const doc = state.getDocument(`${ROOT}/c/every`);
    const names = ['text', 'list', 'absent', '__name__', 'toString', '__proto__', '7', 'nested'];
    const whole = doc.toV1DocumentObject();
    const wholeFields = whole.fields ?? {};
    const decoded = RunQueryResponse.deserialize(
      encodeRunQueryResponse({ document: doc, names, readTime, transaction, done: true }),
    ).toObject();
    expect(decoded.document?.name).toBe(doc.getPath());
    expect(Object.keys(decoded.document?.fields ?? {}).sort()).toEqual(
      ['7', 'list', 'nested', 'text'].sort(),
    );
    const library = RunQueryResponse.fromObject({
      document: {
        ...whole,
        fields: {
          text: wholeFields.text!,
          list: wholeFields.list!,
          '7': wholeFields['7']!,
          nested: wholeFields.nested!,
        },
      },
      done: true,
      read_time: readTime,
      transaction,
    }).toObject();
    expect(decoded).toEqual(library);
    const got = BatchGetDocumentsResponse.deserialize(
      encodeBatchGetResponse(doc.getPath(), doc, readTime, ['half', 'nope']),
    ).toObject();
    expect(got).toEqual(
      BatchGetDocumentsResponse.fromObject({
        found: { ...whole, fields: { half: wholeFields.half! } },
        read_time: readTime,
      }).toObject(),
    );
    expect(got.found?.fields?.half?.double_value).toBe(1.5);
  });
});
