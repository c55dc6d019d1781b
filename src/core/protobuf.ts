/**
 * The little of protobuf's wire format pushgw writes (remote write, OTLP): varints, fixed
 * 64-bit numbers, doubles and length-delimited fields. By hand: a protobuf library would cost
 * more start-up time than every encoder that uses this.
 */
export class ProtoWriter {
  private readonly chunks: number[] = [];

  varint(value: number): this {
    let v = value;
    while (v >= 0x80) {
      this.chunks.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.chunks.push(v);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  bytes(field: number, data: Uint8Array | readonly number[]): this {
    this.tag(field, 2).varint(data.length);
    // A loop, not push(...data): a message may hold millions of bytes.
    for (let i = 0; i < data.length; i++) this.chunks.push(data[i]!);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, utf8.encode(text));
  }

  /** A nested message, written by `build` into a writer of its own. */
  message(field: number, build: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.chunks);
  }

  double(field: number, value: number): this {
    this.tag(field, 1);
    return this.raw64((view) => view.setFloat64(0, value, true));
  }

  /** fixed64: a count or a time in nanoseconds, which can pass 2^53. */
  fixed64(field: number, value: bigint): this {
    this.tag(field, 1);
    return this.raw64((view) => view.setBigUint64(0, value, true));
  }

  bool(field: number, value: boolean): this {
    return this.tag(field, 0).varint(value ? 1 : 0);
  }

  private raw64(write: (view: DataView) => void): this {
    const view = new DataView(new ArrayBuffer(8));
    write(view);
    for (let i = 0; i < 8; i++) this.chunks.push(view.getUint8(i));
    return this;
  }

  result(): number[] {
    return this.chunks;
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

const utf8 = new TextEncoder();
