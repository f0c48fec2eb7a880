import { describe, expect, it } from 'vitest';
import { SseParser } from './realtime.js';

describe('SseParser', () => {
  it('when frames arrive split across chunks, then each is emitted once, whole', () => {
    const parser = new SseParser();
    expect(parser.push('retry: 3000\n\nid: 1-0\nevent: message.created\nda')).toEqual([
      { id: undefined, event: 'message', data: '', retry: 3000 },
    ]);
    expect(parser.push('ta: {"a":1}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([
      { id: '1-0', event: 'message.created', data: '{"a":1}', retry: undefined },
    ]);
  });

  it('when comments, CRLF line ends and multi-line data are used, then they follow the SSE rules', () => {
    const parser = new SseParser();
    const frames = parser.push(': ping\r\n\r\nevent: resync\r\ndata: a\r\ndata:b\r\n\r\ndata\n\n');
    expect(frames).toEqual([
      { id: undefined, event: 'resync', data: 'a\nb', retry: undefined },
      { id: undefined, event: 'message', data: '', retry: undefined },
    ]);
  });

  it('when a retry is not a number or an id holds NUL, then they are ignored', () => {
    const parser = new SseParser();
    expect(parser.push('retry: soon\nid: a\0b\ndata: x\n\n')).toEqual([
      { id: undefined, event: 'message', data: 'x', retry: undefined },
    ]);
  });
});
