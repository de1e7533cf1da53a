import { datatypeInfo, elementCount, type NumericArray, type Tensor } from '../protocol/datatypes.ts';
import { tensorBytes } from '../protocol/infer-response.ts';

/**
 * Binary frames for tensors between the primary and a replica, over a per-node Unix socket
 * (docs/decisions/0001-replica-transport.md). A frame is
 *
 *   u32 LE body length | u32 LE header length | header JSON (space-padded to 8) | tensor bytes
 *
 * where the header is the message with each tensor's data replaced by its byte length, and the
 * tensor bytes follow in order, each padded to 8 bytes so the receiver can view them as typed
 * arrays without copying. The sender hands the tensors' own memory to the socket: no JSON
 * number lists, no structured clone.
 */
interface TensorMeta {
  name: string;
  datatype: Tensor['datatype'];
  shape: number[];
  bytes: number;
}

const PAD = 8;
const padTo = (n: number) => (n + PAD - 1) & ~(PAD - 1);
const ZEROS = Buffer.alloc(PAD);

/** The message fields that hold tensors, by message type. */
const TENSOR_FIELD: Record<string, string> = {
  'vigil:infer': 'inputs',
  'vigil:result': 'outputs',
  'vigil:call': 'inputs',
  'vigil:call-result': 'outputs',
};

/** Encodes a message as a list of buffers to write in order (tensor memory is not copied). */
export function encodeFrame(msg: { type: string } & Record<string, unknown>): Buffer[] {
  const field = TENSOR_FIELD[msg.type];
  const tensors = (field ? (msg[field] as Tensor[] | undefined) : undefined) ?? [];
  const parts: Buffer[] = [];
  const metas: TensorMeta[] = [];
  let dataBytes = 0;
  for (const t of tensors) {
    const bytes = Array.isArray(t.data)
      ? tensorBytes(t)
      : Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    metas.push({ name: t.name, datatype: t.datatype, shape: t.shape, bytes: bytes.length });
    parts.push(bytes);
    const pad = padTo(bytes.length) - bytes.length;
    if (pad) parts.push(ZEROS.subarray(0, pad));
    dataBytes += padTo(bytes.length);
  }
  const header = field && tensors.length ? Object.assign({}, msg, { [field]: metas }) : msg;
  const json = Buffer.from(JSON.stringify(header));
  // 8-byte prefix + header padded so that the first tensor starts 8-aligned within the frame.
  const headerPadded = padTo(8 + json.length) - 8;
  const prefix = Buffer.alloc(8 + headerPadded, 0x20);
  prefix.writeUInt32LE(4 + headerPadded + dataBytes, 0);
  prefix.writeUInt32LE(headerPadded, 4);
  json.copy(prefix, 8);
  return [prefix, ...parts];
}

/** Reassembles frames from socket chunks. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private length = 0;

  /** Adds a chunk; returns the messages completed by it. */
  push(chunk: Buffer): Array<Record<string, unknown> & { type: string }> {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const out = [];
    for (;;) {
      if (this.length < 4) break;
      const bodyLength = this.peekUInt32();
      if (this.length < 4 + bodyLength) break;
      out.push(decodeFrame(this.take(4 + bodyLength)));
    }
    return out;
  }

  private peekUInt32(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readUInt32LE(0);
    return Buffer.concat(this.chunks, 4).readUInt32LE(0);
  }

  /** Removes n bytes from the front, as one contiguous Buffer (copied only if split across chunks). */
  private take(n: number): Buffer {
    this.length -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const use = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, use);
      filled += use;
      if (use === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(use);
    }
    return out;
  }
}

function decodeFrame(frame: Buffer): Record<string, unknown> & { type: string } {
  const headerLength = frame.readUInt32LE(4);
  const msg = JSON.parse(frame.toString('utf8', 8, 8 + headerLength)) as Record<string, unknown> & { type: string };
  const field = TENSOR_FIELD[msg.type];
  const metas = field ? (msg[field] as TensorMeta[] | undefined) : undefined;
  if (!field || !metas) return msg;
  let offset = 8 + headerLength;
  msg[field] = metas.map((m) => {
    const bytes = frame.subarray(offset, offset + m.bytes);
    offset += padTo(m.bytes);
    return { name: m.name, datatype: m.datatype, shape: m.shape, data: viewTensor(bytes, m) };
  });
  return msg;
}

function viewTensor(bytes: Buffer, m: TensorMeta): Tensor['data'] {
  if (m.datatype === 'BYTES') {
    const out: string[] = [];
    for (let pos = 0; pos < bytes.length; ) {
      const len = bytes.readUInt32LE(pos);
      out.push(bytes.toString('utf8', pos + 4, pos + 4 + len));
      pos += 4 + len;
    }
    return out;
  }
  const info = datatypeInfo[m.datatype];
  const count = elementCount(m.shape);
  const Ctor = (info.create(0) as NumericArray).constructor as new (
    buffer: ArrayBufferLike,
    offset: number,
    length: number,
  ) => NumericArray;
  if (bytes.byteOffset % info.size === 0) return new Ctor(bytes.buffer, bytes.byteOffset, count);
  const copy = info.create(count) as NumericArray;
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}
