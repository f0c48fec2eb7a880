import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameReader, ProtocolError } from './noise-responder.js';

const INTRO = Buffer.from([0x57, 0x41, 6, 3]);

describe('FrameReader', () => {
  it('when frames arrive split and joined across messages, then each is returned whole and in order', () => {
    const reader = new FrameReader(1024);
    const bytes = Buffer.concat([
      INTRO,
      encodeFrame(Buffer.from('one')),
      encodeFrame(Buffer.from('two')),
    ]);
    const got = [...reader.push(bytes.subarray(0, 6)), ...reader.push(bytes.subarray(6))];
    expect(got.map((f) => f.toString())).toEqual(['one', 'two']);
  });

  it('when a frame announces more than the limit, then the stream is refused before buffering it', () => {
    const reader = new FrameReader(16);
    const header = Buffer.from([0, 0, 17]);
    expect(() => reader.push(Buffer.concat([INTRO, header]))).toThrow(ProtocolError);
  });

  it('when the stream does not start with the WA intro, then it is refused', () => {
    expect(() => new FrameReader(16).push(Buffer.from('GET / HTTP/1.1'))).toThrow(ProtocolError);
  });
});
