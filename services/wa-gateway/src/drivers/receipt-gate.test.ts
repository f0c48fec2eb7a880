import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@wacrm/observability';
import { ACK_LOG_LINE, RECEIPT_LOG_LINE, ReceiptGate } from './receipt-gate.js';

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
  const gate = new ReceiptGate({ timeoutMs: 60_000, onFail: (reason) => failures.push(reason) });
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
  return { wire, failures, gate, receipt, frame, ack, done };
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
});
