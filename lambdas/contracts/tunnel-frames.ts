/**
 * The AWS IoT Secure Tunneling frame protocol (localproxy V2/V3), shared by the agent's
 * destination side, the CLI's source side and the local relay. Pure: no I/O, no imports.
 *
 * Source: aws-samples/aws-iot-securetunneling-localproxy, docs/V3WebSocketProtocolGuide.md
 * ("Tunneling message frames": each frame is a 2-byte unsigned big-endian length followed by
 * that many bytes of a ProtocolBuffers `Message`; WebSocket frames and tunnel frames are not
 * aligned) and resources/Message.proto:
 *
 *   message Message {
 *     Type type = 1; int32 streamId = 2; bool ignorable = 3; bytes payload = 4;
 *     string serviceId = 5; repeated string availableServiceIds = 6; uint32 connectionId = 7;
 *     enum Type { UNKNOWN = 0; DATA = 1; STREAM_START = 2; STREAM_RESET = 3; SESSION_RESET = 4;
 *                 SERVICE_IDS = 5; CONNECTION_START = 6; CONNECTION_RESET = 7; }
 *   }
 *
 * The protobuf wire format is hand-rolled (proto3: default values are not written; varints
 * little-endian base-128; wire type 0 = varint, 2 = length-delimited).
 */

export const TUNNEL_SUBPROTOCOLS = ['aws.iot.securetunneling-3.0', 'aws.iot.securetunneling-2.0'] as const;
/** The upgrade path of the data endpoint (the guide: any other path gets a 400). */
export const TUNNEL_PATH = '/tunnel';
/** "They payload of any message may not contain more than 63kb (64512 bytes) of data." */
export const MAX_TUNNEL_PAYLOAD = 64512;
/** The 2-byte length prefix caps one encoded message. */
export const MAX_TUNNEL_FRAME = 0xffff;

export const MESSAGE_TYPES = {
  UNKNOWN: 0, DATA: 1, STREAM_START: 2, STREAM_RESET: 3, SESSION_RESET: 4, SERVICE_IDS: 5, CONNECTION_START: 6, CONNECTION_RESET: 7,
} as const;
export type TunnelMessageType = keyof typeof MESSAGE_TYPES;
const TYPE_NAMES = Object.keys(MESSAGE_TYPES) as TunnelMessageType[];

export interface TunnelMessage {
  readonly type: TunnelMessageType;
  readonly streamId?: number;
  readonly ignorable?: boolean;
  readonly payload?: Uint8Array;
  readonly serviceId?: string;
  readonly availableServiceIds?: readonly string[];
  readonly connectionId?: number;
}

export class TunnelFrameError extends Error {
  override readonly name = 'TunnelFrameError';
}

// ---- varints ------------------------------------------------------------------------------

function pushVarint(out: number[], value: bigint): void {
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** int32 fields: negative values are sign-extended to 64 bits (10 bytes), as protobuf does. */
const int32Varint = (n: number): bigint => (n < 0 ? BigInt.asUintN(64, BigInt(n)) : BigInt(n));

function readVarint(buf: Uint8Array, at: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < buf.length && i < at + 10; i += 1) {
    const b = buf[i]!;
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    shift += 7n;
  }
  throw new TunnelFrameError(buf.length - at < 10 ? 'truncated varint' : 'varint longer than 10 bytes');
}

// ---- Message ------------------------------------------------------------------------------

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function key(out: number[], field: number, wireType: 0 | 2): void {
  pushVarint(out, BigInt((field << 3) | wireType));
}
function bytesField(out: number[], field: number, data: Uint8Array): void {
  key(out, field, 2);
  pushVarint(out, BigInt(data.length));
  for (const b of data) out.push(b);
}

function checkInt(name: string, n: number | undefined, min: number, max: number): void {
  if (n === undefined) return;
  if (!Number.isInteger(n) || n < min || n > max) throw new TunnelFrameError(`${name} ${n} is outside ${min}..${max}`);
}

/** The protobuf bytes of one message (without the length prefix). */
export function encodeMessage(m: TunnelMessage): Uint8Array {
  checkInt('streamId', m.streamId, -0x80000000, 0x7fffffff);
  checkInt('connectionId', m.connectionId, 0, 0xffffffff);
  if (m.payload && m.payload.length > MAX_TUNNEL_PAYLOAD) throw new TunnelFrameError(`payload of ${m.payload.length} bytes exceeds ${MAX_TUNNEL_PAYLOAD}`);
  const out: number[] = [];
  const type = MESSAGE_TYPES[m.type];
  if (type !== 0) { key(out, 1, 0); pushVarint(out, BigInt(type)); }
  if (m.streamId) { key(out, 2, 0); pushVarint(out, int32Varint(m.streamId)); }
  if (m.ignorable) { key(out, 3, 0); pushVarint(out, 1n); }
  if (m.payload && m.payload.length > 0) bytesField(out, 4, m.payload);
  if (m.serviceId) bytesField(out, 5, utf8.encode(m.serviceId));
  for (const s of m.availableServiceIds ?? []) bytesField(out, 6, utf8.encode(s));
  if (m.connectionId) { key(out, 7, 0); pushVarint(out, BigInt(m.connectionId)); }
  return Uint8Array.from(out);
}

/**
 * Parses one message. Unknown fields are refused (the guide: "It is invalid to extend the
 * schema with additional fields ... The service will close the WebSocket connection"), as is
 * a message without a type ("Type field must be set to a non-zero enum value").
 */
export function decodeMessage(buf: Uint8Array): TunnelMessage {
  let type: TunnelMessageType | undefined;
  let streamId: number | undefined;
  let ignorable: boolean | undefined;
  let payload: Uint8Array | undefined;
  let serviceId: string | undefined;
  const available: string[] = [];
  let connectionId: number | undefined;
  let at = 0;
  while (at < buf.length) {
    const k = readVarint(buf, at);
    at = k.next;
    const field = Number(k.value >> 3n);
    const wire = Number(k.value & 7n);
    const expected = field === 4 || field === 5 || field === 6 ? 2 : field >= 1 && field <= 7 ? 0 : -1;
    if (expected === -1) throw new TunnelFrameError(`unknown field ${field}`);
    if (wire !== expected) throw new TunnelFrameError(`field ${field} has wire type ${wire}, expected ${expected}`);
    if (wire === 0) {
      const v = readVarint(buf, at);
      at = v.next;
      if (field === 1) {
        const name = TYPE_NAMES[Number(v.value)];
        if (v.value > 7n || !name) throw new TunnelFrameError(`unknown message type ${v.value}`);
        type = name;
      } else if (field === 2) streamId = Number(BigInt.asIntN(32, v.value));
      else if (field === 3) ignorable = v.value !== 0n;
      else {
        if (v.value > 0xffffffffn) throw new TunnelFrameError('connectionId exceeds uint32');
        connectionId = Number(v.value);
      }
    } else {
      const len = readVarint(buf, at);
      at = len.next;
      const end = at + Number(len.value);
      if (len.value > BigInt(buf.length) || end > buf.length) throw new TunnelFrameError(`field ${field} runs past the end of the message`);
      const data = buf.subarray(at, end);
      at = end;
      if (field === 4) payload = Uint8Array.from(data);
      else {
        let s: string;
        try { s = fromUtf8.decode(data); } catch { throw new TunnelFrameError(`field ${field} is not valid UTF-8`); }
        if (field === 5) serviceId = s; else available.push(s);
      }
    }
  }
  if (type === undefined || type === 'UNKNOWN') throw new TunnelFrameError('message without a type');
  return {
    type,
    ...(streamId ? { streamId } : {}),
    ...(ignorable ? { ignorable } : {}),
    ...(payload && payload.length > 0 ? { payload } : {}),
    ...(serviceId ? { serviceId } : {}),
    ...(available.length > 0 ? { availableServiceIds: available } : {}),
    ...(connectionId ? { connectionId } : {}),
  };
}

/** One tunnel frame: the 2-byte big-endian length, then the message. */
export function encodeFrame(m: TunnelMessage): Uint8Array {
  const body = encodeMessage(m);
  if (body.length > MAX_TUNNEL_FRAME) throw new TunnelFrameError(`message of ${body.length} bytes does not fit a frame`);
  const out = new Uint8Array(body.length + 2);
  out[0] = body.length >> 8;
  out[1] = body.length & 0xff;
  out.set(body, 2);
  return out;
}

/** The bytes of one WebSocket message as the `ws` package hands it over (a Buffer, an ArrayBuffer, or fragments). */
export function messageBytes(data: Buffer | ArrayBuffer | readonly Buffer[]): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data as ArrayBuffer);
}

/**
 * Reassembles frames from a byte stream whose chunks (WebSocket messages) need not align with
 * frames. `push` returns the complete messages so far; a malformed one throws.
 */
export class FrameReader {
  private buffered = new Uint8Array(0);

  push(chunk: Uint8Array): TunnelMessage[] {
    const joined = new Uint8Array(this.buffered.length + chunk.length);
    joined.set(this.buffered);
    joined.set(chunk, this.buffered.length);
    const out: TunnelMessage[] = [];
    let at = 0;
    while (joined.length - at >= 2) {
      const len = (joined[at]! << 8) | joined[at + 1]!;
      if (joined.length - at - 2 < len) break;
      if (len === 0) throw new TunnelFrameError('empty frame (a message must carry its type)');
      out.push(decodeMessage(joined.subarray(at + 2, at + 2 + len)));
      at += 2 + len;
    }
    this.buffered = joined.slice(at);
    return out;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get pending(): number {
    return this.buffered.length;
  }
}
