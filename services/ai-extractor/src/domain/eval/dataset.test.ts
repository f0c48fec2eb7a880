import { describe, expect, it } from 'vitest';
import { parseConversations, toExtractionInput } from './dataset.js';

describe('dataset', () => {
  it('when some lines are invalid, then they are reported by number and the valid ones kept', () => {
    const text = [
      JSON.stringify({
        id: 'a',
        now: '2026-01-01T10:00:00+02:00',
        messages: [{ direction: 'inbound', ts: '2026-01-01T09:00:00+02:00', text: 'salut' }],
      }),
      '{not json',
      '',
      JSON.stringify({
        id: 'b',
        now: 'x',
        messages: [{ direction: 'sideways', ts: 'x', text: 'hm' }],
      }),
    ].join('\n');
    const parsed = parseConversations(text);
    expect(parsed.rows.map((r) => r.id)).toEqual(['a']);
    expect(parsed.errors).toHaveLength(2);
    expect(parsed.errors[0]).toMatch(/^line 2: not JSON/);
    expect(parsed.errors[1]).toMatch(/^line 4: messages\.0\.direction/);
  });

  it('when messages have no ids, then positional ids are given and the zone is Bucharest', () => {
    const [row] = parseConversations(
      JSON.stringify({
        id: 'c7',
        now: '2026-01-01T10:00:00+02:00',
        messages: [{ direction: 'outbound', ts: '2026-01-01T09:00:00+02:00', text: 'ok' }],
      }),
    ).rows;
    expect(row).toBeDefined();
    const input = toExtractionInput(row!);
    expect(input.messages[0]?.id).toBe('c7-m1');
    expect(input.timeZone).toBe('Europe/Bucharest');
  });
});
