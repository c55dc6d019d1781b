/**
 * The little of protobuf's wire format pushgw writes (remote write, OTLP): varints, fixed
 * 64-bit numbers, doubles and length-delimited fields. By hand: a protobuf library would cost
 * more start-up time than every encoder that uses this.
 *
 * One growing buffer: a nested message is written in place after room for its length, which is
 * filled in (and the message moved down over the room it did not need) when it ends, so that
 * OTLP's seven levels of nesting cost no copies of arrays in JavaScript.
 */
export class ProtoWriter {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  private position = 0;

  varint(value: number): this {
    this.ensure(10);
    this.position = writeVarint(this.buffer, this.position, value);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  bytes(field: number, data: Uint8Array | readonly number[]): this {
    this.tag(field, 2).varint(data.length);
    this.ensure(data.length);
    this.buffer.set(data, this.position);
    this.position += data.length;
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, utf8.encode(text));
  }

  /** A nested message, written by `build` into this same writer. */
  message(field: number, build: (writer: ProtoWriter) => void): this {
    this.tag(field, 2);
    this.ensure(MAX_LENGTH_BYTES);
    const lengthAt = this.position;
    this.position += MAX_LENGTH_BYTES;
    const start = this.position;
    build(this);
    const length = this.position - start;
    const lengthBytes = varintSize(length);
    if (lengthBytes < MAX_LENGTH_BYTES) {
      this.buffer.copyWithin(lengthAt + lengthBytes, start, this.position);
      this.position -= MAX_LENGTH_BYTES - lengthBytes;
    }
    writeVarint(this.buffer, lengthAt, length);
    return this;
  }

  double(field: number, value: number): this {
    this.tag(field, 1).ensure(8);
    this.view.setFloat64(this.position, value, true);
    this.position += 8;
    return this;
  }

  /** fixed64: a count or a time in nanoseconds, which can pass 2^53. */
  fixed64(field: number, value: bigint): this {
    this.tag(field, 1).ensure(8);
    this.view.setBigUint64(this.position, value, true);
    this.position += 8;
    return this;
  }

  bool(field: number, value: boolean): this {
    return this.tag(field, 0).varint(value ? 1 : 0);
  }

  /** Everything written, as one array of bytes (a view of the writer's buffer: write no more). */
  toBytes(): Uint8Array {
    return this.buffer.subarray(0, this.position);
  }

  private ensure(more: number): this {
    if (this.position + more <= this.buffer.length) return this;
    let size = this.buffer.length * 2;
    while (size < this.position + more) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.position));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
    return this;
  }
}

/** Room for a message's length: 5 varint bytes hold up to 32 GiB, more than any body pushgw reads. */
const MAX_LENGTH_BYTES = 5;

function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

function writeVarint(buffer: Uint8Array, at: number, value: number): number {
  let v = value;
  let position = at;
  while (v >= 0x80) {
    buffer[position++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buffer[position++] = v;
  return position;
}

const utf8 = new TextEncoder();
