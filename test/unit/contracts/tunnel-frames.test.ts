import {
  decodeMessage, encodeFrame, encodeMessage, FrameReader, MAX_TUNNEL_PAYLOAD, messageBytes, TunnelFrameError, type TunnelMessage,
} from '../../../lambdas/contracts/tunnel-frames.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const text = (s: string) => Uint8Array.from(Buffer.from(s, 'utf8'));

/**
 * Expected bytes worked out by hand from the protobuf encoding rules and Message.proto
 * (field keys: type 0x08, streamId 0x10, ignorable 0x18, payload 0x22, serviceId 0x2a,
 * availableServiceIds 0x32, connectionId 0x38).
 */
describe('tunnel message encoding matches the protobuf wire format', () => {
  it.each<[string, TunnelMessage, string]>([
    ['STREAM_START', { type: 'STREAM_START', streamId: 1, serviceId: 'SSH', connectionId: 1 }, '0802 1001 2a03535348 3801'],
    ['DATA with payload', { type: 'DATA', streamId: 1, payload: text('hi'), serviceId: 'SSH', connectionId: 1 }, '0801 1001 22026869 2a03535348 3801'],
    ['SERVICE_IDS', { type: 'SERVICE_IDS', availableServiceIds: ['SSH', 'RDP'] }, '0805 3203535348 3203524450'],
    ['SESSION_RESET', { type: 'SESSION_RESET' }, '0804'],
    ['ignorable', { type: 'CONNECTION_RESET', streamId: 2, ignorable: true, connectionId: 3 }, '0807 1002 1801 3803'],
    ['streamId 300 (two-byte varint)', { type: 'STREAM_RESET', streamId: 300 }, '0803 10ac02'],
    ['negative streamId (sign-extended int32)', { type: 'STREAM_RESET', streamId: -1 }, '0803 10ffffffffffffffffff01'],
    ['largest connectionId (uint32)', { type: 'CONNECTION_START', streamId: 1, connectionId: 0xffffffff }, '0806 1001 38ffffffff0f'],
  ])('%s', (_name, message, bytes) => {
    expect(Buffer.from(encodeMessage(message)).toString('hex')).toBe(Buffer.from(hex(bytes)).toString('hex'));
    expect(decodeMessage(hex(bytes))).toEqual(message);
  });

  it('omits proto3 defaults (0, false, empty) and decodes them back as absent', () => {
    const m = encodeMessage({ type: 'DATA', streamId: 0, ignorable: false, payload: new Uint8Array(0), serviceId: '', connectionId: 0 });
    expect(Buffer.from(m).toString('hex')).toBe('0801');
    expect(decodeMessage(m)).toEqual({ type: 'DATA' });
  });

  it('round-trips a payload of the largest allowed size', () => {
    const payload = Uint8Array.from({ length: MAX_TUNNEL_PAYLOAD }, (_, i) => i % 251);
    const back = decodeMessage(encodeMessage({ type: 'DATA', streamId: 7, payload, serviceId: 'SSH', connectionId: 1 }));
    expect(Buffer.from(back.payload!).equals(Buffer.from(payload))).toBe(true);
  });
});

describe('malformed messages are refused', () => {
  it.each<[string, string, RegExp]>([
    ['empty (no type)', '', /without a type/],
    ['type UNKNOWN', '0800', /without a type/],
    ['type out of range', '0808', /unknown message type 8/],
    ['unknown field 8', '0801 4001', /unknown field 8/],
    ['payload with the wrong wire type', '0801 2001', /wire type 0, expected 2/],
    ['type with the wrong wire type', '0a0101', /wire type 2, expected 0/],
    ['truncated varint', '08', /truncated varint/],
    ['length past the end', '0801 2205 6869', /runs past the end/],
    ['serviceId not UTF-8', '0801 2a02c328', /not valid UTF-8/],
    ['connectionId above uint32', '0801 3880808080 10', /exceeds uint32/],
    ['varint longer than 10 bytes', '08ffffffffffffffffffff01', /longer than 10 bytes/],
  ])('%s', (_name, bytes, message) => {
    expect(() => decodeMessage(hex(bytes))).toThrow(TunnelFrameError);
    expect(() => decodeMessage(hex(bytes))).toThrow(message);
  });

  it.each<[string, TunnelMessage, RegExp]>([
    ['payload over 64512 bytes', { type: 'DATA', streamId: 1, payload: new Uint8Array(MAX_TUNNEL_PAYLOAD + 1) }, /exceeds 64512/],
    ['streamId beyond int32', { type: 'DATA', streamId: 2 ** 31 }, /streamId/],
    ['negative connectionId', { type: 'DATA', streamId: 1, connectionId: -1 }, /connectionId/],
    ['fractional streamId', { type: 'DATA', streamId: 1.5 }, /streamId/],
  ])('encoding refuses %s', (_name, message, error) => {
    expect(() => encodeMessage(message)).toThrow(error);
  });
});

describe('frames: 2-byte big-endian length prefix, reassembled across chunk boundaries', () => {
  const a: TunnelMessage = { type: 'STREAM_START', streamId: 1, serviceId: 'SSH', connectionId: 1 };
  const b: TunnelMessage = { type: 'DATA', streamId: 1, payload: text('x'.repeat(300)), serviceId: 'SSH', connectionId: 1 };
  const bytes = Buffer.concat([encodeFrame(a), encodeFrame(b)]);

  it('prefixes the message length big-endian', () => {
    const f = encodeFrame(b);
    expect((f[0]! << 8) | f[1]!).toBe(f.length - 2);
    expect(f[0]).toBe(1); // > 255 bytes: the high byte is used
  });

  it.each([1, 2, 3, 7, 64, bytes.length])('chunks of %i bytes yield the same messages', (size) => {
    const reader = new FrameReader();
    const out: TunnelMessage[] = [];
    for (let i = 0; i < bytes.length; i += size) out.push(...reader.push(bytes.subarray(i, i + size)));
    expect(out).toEqual([a, b]);
    expect(reader.pending).toBe(0);
  });

  it('keeps an incomplete frame until the rest arrives', () => {
    const reader = new FrameReader();
    expect(reader.push(bytes.subarray(0, 4))).toEqual([]);
    expect(reader.pending).toBe(4);
  });

  it('refuses a zero-length frame and a frame whose message is malformed', () => {
    expect(() => new FrameReader().push(hex('0000'))).toThrow(/empty frame/);
    expect(() => new FrameReader().push(hex('0002 4001'))).toThrow(/unknown field/);
  });
});

describe('messageBytes', () => {
  it('a Buffer, an ArrayBuffer and fragments of one WebSocket message give the same bytes', () => {
    const whole = Buffer.from([0, 3, 8, 1, 16]);
    const ab = whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.length);
    for (const data of [whole, ab, [whole.subarray(0, 2), whole.subarray(2)]]) expect(Buffer.from(messageBytes(data))).toEqual(whole);
  });
});
