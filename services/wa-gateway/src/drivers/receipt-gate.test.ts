import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@wacrm/observability';
import { sendScope } from '../domain/send-scope.js';
import { ACK_LOG_LINE, RECEIPT_LOG_LINE, ReceiptGate, SEND_LOG_PREFIX } from './receipt-gate.js';

/** A transport recording what reaches the wire, and a gate over it with Baileys' logger. */
function setup() {
  const wire: string[] = [];
  const failures: string[] = [];
  const transport = {
    send: (data: unknown, cb?: (error?: Error) => void) => {
      wire.push(String(data));
      cb?.();
    },
  };
  const gate = new ReceiptGate({
    timeoutMs: 60_000,
    keysTimeoutMs: 20_000,
    onFail: (reason) => failures.push(reason),
  });
  gate.attach(transport);
  const logger = gate.logger(createLogger({ service: 't', version: 't', level: 'silent' }));
  const done: string[] = [];
  /** What Baileys' sendReceipt does: log the line, then write the frame at once. */
  const receipt = (ids: string[], type?: string) => {
    logger.debug(
      { attrs: { id: ids[0], ...(type ? { type } : {}) }, messageIds: ids },
      RECEIPT_LOG_LINE,
    );
    transport.send(`receipt:${ids.join(',')}`, () => done.push(ids.join(',')));
  };
  const frame = (name: string) => transport.send(name, () => done.push(name));
  /** What Baileys' sendMessageAck does for a contact's receipt: log the line, then write. */
  const ack = (id: string, tag = 'receipt') => {
    logger.debug({ recv: { tag, attrs: { id } }, sent: { id, class: tag } }, ACK_LOG_LINE);
    transport.send(`ack:${id}`, () => done.push(`ack:${id}`));
  };
  /**
   * What Baileys' relayMessage does for one of our sends (run by the driver in a SendScope): log
   * the line with the message id, then write the frame at once (its keys are committed after).
   */
  const send = (id: string, scoped = true) => {
    const write = () => {
      logger.debug({ msgId: id }, `${SEND_LOG_PREFIX}2 devices`);
      transport.send(`message:${id}`, () => done.push(`message:${id}`));
    };
    if (scoped) sendScope.run({ messageId: id, durable: null }, write);
    else write();
  };
  return { wire, failures, gate, receipt, frame, ack, done, send };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ReceiptGate', () => {
  it('when a delivery receipt is written, then it and every later frame wait, in order, until its message is stored, while the writes report done at once', async () => {
    const { wire, gate, receipt, frame, done } = setup();
    frame('before');
    receipt(['A']);
    frame('iq-1');
    await tick();
    expect(wire).toEqual(['before']);
    expect(done).toEqual(['before', 'A', 'iq-1']);
    gate.stored(['A']);
    expect(wire).toEqual(['before', 'receipt:A', 'iq-1']);
    frame('after');
    expect(wire.at(-1)).toBe('after');
  });

  it('when two receipts wait and the second message is stored first, then nothing passes the first receipt until its message is stored', () => {
    const { wire, gate, receipt, frame } = setup();
    receipt(['A']);
    frame('between');
    receipt(['B', 'C']);
    frame('last');
    gate.stored(['B', 'C']);
    expect(wire).toEqual([]);
    gate.stored(['A']);
    expect(wire).toEqual(['receipt:A', 'between', 'receipt:B,C', 'last']);
  });

  it('when a contact receipts a sent message, then the ack of that receipt waits until its status is stored; an ack with its status already stored, or of a message, goes at once', () => {
    const { wire, gate, ack, frame } = setup();
    gate.statusEvents(['S']);
    ack('S');
    frame('after');
    ack('M', 'message');
    expect(wire).toEqual([]);
    gate.statusStored(['S']);
    expect(wire).toEqual(['ack:S', 'after', 'ack:M']);
    ack('S');
    expect(wire.at(-1)).toBe('ack:S');
  });

  it('when a status cannot be stored, then the ack of its receipt is never written and the socket is given up', () => {
    const { wire, gate, ack, failures } = setup();
    gate.statusEvents(['S']);
    ack('S');
    expect(gate.statusNotStored(['S'], 'store down')).toBe(true);
    expect(wire).toEqual([]);
    expect(failures).toEqual(['store down']);
  });

  it('when a read or retry receipt is written, then it is not held', () => {
    const { wire, receipt } = setup();
    receipt(['A'], 'read');
    receipt(['B'], 'retry');
    receipt(['C'], 'hist_sync');
    expect(wire).toEqual(['receipt:A', 'receipt:B', 'receipt:C']);
  });

  it('when a held message cannot be stored, then its receipt and the frames after it are never written and the socket is given up', () => {
    const { wire, failures, gate, receipt, frame } = setup();
    receipt(['A']);
    frame('iq');
    expect(gate.notStored(['Z'], 'unrelated')).toBe(false);
    expect(gate.notStored(['A'], 'ENOSPC')).toBe(true);
    expect(failures).toEqual(['ENOSPC']);
    gate.stored(['A']);
    frame('later');
    expect(wire).toEqual([]);
  });

  it('when the receipt line is logged but no frame follows in the same turn, then the next frame is not taken for a receipt', async () => {
    const { wire, gate, frame } = setup();
    gate
      .logger(createLogger({ service: 't', version: 't', level: 'silent' }))
      .debug({ attrs: { id: 'A' }, messageIds: ['A'] }, RECEIPT_LOG_LINE);
    await tick();
    frame('iq');
    expect(wire).toEqual(['iq']);
  });
  describe('deadlines', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('when a held receipt’s message is not stored within the timeout, then the socket is given up; one given longer (a history chunk) waits its own deadline', () => {
      vi.useFakeTimers();
      const { failures, gate, receipt } = setup();
      receipt(['CHUNK']);
      gate.waitLonger(['CHUNK'], 300_000);
      vi.advanceTimersByTime(61_000);
      expect(failures).toEqual([]);
      receipt(['LIVE']);
      vi.advanceTimersByTime(59_000);
      expect(failures).toEqual([]);
      gate.stored(['LIVE']);
      vi.advanceTimersByTime(170_000);
      expect(failures).toEqual([]);
      vi.advanceTimersByTime(11_000);
      expect(failures).toHaveLength(1);
    });

    it('when every held message is stored in time, then nothing is given up later', () => {
      vi.useFakeTimers();
      const { failures, gate, receipt, wire } = setup();
      receipt(['A']);
      gate.waitLonger(['A'], 300_000);
      gate.stored(['A']);
      vi.advanceTimersByTime(600_000);
      expect(failures).toEqual([]);
      expect(wire).toEqual(['receipt:A']);
    });
  });
  describe('sent messages and their keys', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('when one of our sends writes its frame, then the frame and every later frame wait until its keys are stored, and written() resolves only then', async () => {
      const { wire, gate, frame, send, done } = setup();
      frame('iq-usync');
      send('M1');
      frame('ping');
      await tick();
      expect(wire).toEqual(['iq-usync']);
      expect(done).toEqual(['iq-usync', 'message:M1', 'ping']);
      let written = false;
      const sent = gate.written('M1').then(() => (written = true));
      await tick();
      expect(written).toBe(false);
      gate.keysStored('M1');
      await sent;
      expect(wire).toEqual(['iq-usync', 'message:M1', 'ping']);
    });

    it('when Baileys resends a message outside our sends (a contact’s retry receipt), then its frame is not held', () => {
      const { wire, send } = setup();
      send('R1', false);
      expect(wire).toEqual(['message:R1']);
    });

    it('when a sent message’s keys are not stored within the keys deadline, then its frame is never written, written() rejects and the socket is given up', async () => {
      vi.useFakeTimers();
      const { wire, failures, gate, send, frame } = setup();
      send('M2');
      frame('later');
      const sent = gate.written('M2');
      const outcome = sent.then(
        () => 'written',
        (e: Error) => e.message,
      );
      vi.advanceTimersByTime(19_000);
      expect(failures).toEqual([]);
      vi.advanceTimersByTime(2_000);
      expect(failures).toEqual(['a frame waited past its deadline for its keys']);
      expect(await outcome).toMatch(/message frame not written/);
      gate.keysStored('M2');
      expect(wire).toEqual([]);
    });

    it('when the socket closes with a sent message held, then written() rejects and nothing is written', async () => {
      const { wire, failures, gate, send } = setup();
      send('M3');
      const outcome = gate.written('M3').then(
        () => 'written',
        (e: Error) => e.message,
      );
      gate.closed('connection closed');
      expect(await outcome).toMatch(/socket closed/);
      gate.keysStored('M3');
      expect(wire).toEqual([]);
      expect(failures).toEqual([]);
    });

    it('when a send fails before its frame is released, then the socket is given up with the frame unwritten', () => {
      const { wire, failures, gate, send } = setup();
      send('M4');
      gate.abandon('M4', 'lease lost');
      gate.keysStored('M4');
      expect(wire).toEqual([]);
      expect(failures).toHaveLength(1);
    });

    it('when a send’s frame is held behind a receipt and its keys are stored first, then it goes right after the receipt', async () => {
      const { wire, gate, receipt, send } = setup();
      receipt(['A']);
      send('M5');
      gate.keysStored('M5');
      await tick();
      expect(wire).toEqual([]);
      gate.stored(['A']);
      await gate.written('M5');
      expect(wire).toEqual(['receipt:A', 'message:M5']);
    });
  });

  describe("Baileys' pre-key upload and the keys it announces", () => {
    /** A promise settled by the test, as the auth state's storeNow() is by the store. */
    const pending = () => {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    };

    it('when pre-keys are set, then the next frames (the upload) wait, in order, until they are stored, while their writes report done at once', async () => {
      const { wire, gate, frame, done } = setup();
      frame('before');
      const stored = pending();
      gate.holdUntilStored(stored.promise);
      frame('iq-upload-pre-keys');
      frame('ping');
      expect(wire).toEqual(['before']);
      await tick();
      expect(done).toEqual(['before', 'iq-upload-pre-keys', 'ping']);
      stored.resolve();
      await tick();
      expect(wire).toEqual(['before', 'iq-upload-pre-keys', 'ping']);
      frame('after');
      expect(wire.at(-1)).toBe('after');
    });

    it('when they are stored before the upload is written, then nothing waits', async () => {
      const { wire, gate, frame } = setup();
      gate.holdUntilStored(Promise.resolve());
      await tick();
      frame('iq-upload-pre-keys');
      expect(wire).toEqual(['iq-upload-pre-keys']);
    });

    it('when they will never be stored, then the upload is never written and the socket is given up', async () => {
      const { wire, failures, gate, frame } = setup();
      const stored = pending();
      gate.holdUntilStored(stored.promise);
      frame('iq-upload-pre-keys');
      stored.reject(new Error('lease lost'));
      await tick();
      expect(wire).toEqual([]);
      expect(failures).toEqual(['keys not stored: lease lost']);
    });
  });
});
