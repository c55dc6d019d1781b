/**
 * A protobuf reader for tests, independent of the encoders it checks: it knows the wire
 * format only, and turns a message into a plain object by a schema of field numbers.
 */
export type FieldType = "string" | "double" | "fixed64" | "varint" | "packedVarints" | "bool" | Schema;
export interface Schema {
  readonly [field: number]: { readonly name: string; readonly type: FieldType; readonly repeated?: boolean };
}

/** Every field of one message, in order: [field number, varint | 8 raw bytes | length-delimited bytes]. */
export function wireFields(data: Uint8Array): Array<[number, number | Uint8Array, number]> {
  const out: Array<[number, number | Uint8Array, number]> = [];
  let pos = 0;
  const varint = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= data.length) throw new Error(`a varint runs past the end of the message (byte ${pos})`);
      const b = data[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  const take = (n: number) => {
    if (pos + n > data.length) throw new Error(`a field of ${n} bytes at byte ${pos} runs past the end of the message (${data.length} bytes)`);
    const bytes = data.subarray(pos, pos + n);
    pos += n;
    return bytes;
  };
  while (pos < data.length) {
    const key = varint();
    const wire = key & 7;
    const field = Math.floor(key / 8);
    if (wire === 0) out.push([field, varint(), wire]);
    else if (wire === 1) out.push([field, take(8), wire]);
    else if (wire === 2) out.push([field, take(varint()), wire]);
    else throw new Error(`wire type ${wire} at byte ${pos}: not written by pushgw`);
  }
  return out;
}

/** The wire type each schema type must come with (0 varint, 1 fixed 64-bit, 2 length-delimited). */
function wireTypeOf(type: FieldType): number {
  return type === "double" || type === "fixed64" ? 1 : type === "varint" || type === "bool" ? 0 : 2;
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, 8);

/** The message as an object, by `schema`; a field the schema does not name is an error. */
export function decodeMessage(data: Uint8Array, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, raw, wire] of wireFields(data)) {
    const spec = schema[field];
    if (spec === undefined) throw new Error(`field ${field} is not in the schema`);
    if (wire !== wireTypeOf(spec.type)) throw new Error(`field ${field} (${spec.name}) came with wire type ${wire}, not ${wireTypeOf(spec.type)}`);
    let value: unknown;
    if (spec.type === "string") value = new TextDecoder().decode(raw as Uint8Array);
    else if (spec.type === "double") value = view(raw as Uint8Array).getFloat64(0, true);
    else if (spec.type === "fixed64") value = view(raw as Uint8Array).getBigUint64(0, true);
    else if (spec.type === "varint") value = raw as number;
    else if (spec.type === "bool") value = raw === 1;
    else if (spec.type === "packedVarints") value = packedVarints(raw as Uint8Array);
    else value = decodeMessage(raw as Uint8Array, spec.type);
    if (spec.repeated) ((out[spec.name] ??= []) as unknown[]).push(value);
    else out[spec.name] = value;
  }
  return out;
}

/** A packed repeated varint field (proto3's default for repeated numbers). */
function packedVarints(data: Uint8Array): number[] {
  const out: number[] = [];
  let v = 0;
  let shift = 0;
  for (const b of data) {
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) {
      out.push(v);
      v = 0;
      shift = 0;
    }
  }
  if (shift !== 0) throw new Error("a packed varint runs past the end of its field");
  return out;
}

/** io.prometheus.write.v2.Request, the fields pushgw writes (prometheus/prompb/io/prometheus/write/v2/types.proto). */
export const REMOTE_WRITE_V2_SCHEMA: Schema = {
  4: { name: "symbols", type: "string", repeated: true },
  5: {
    name: "timeseries",
    repeated: true,
    type: {
      1: { name: "labelsRefs", type: "packedVarints" },
      2: { name: "samples", repeated: true, type: { 1: { name: "value", type: "double" }, 2: { name: "timestamp", type: "varint" } } },
      5: { name: "metadata", type: { 1: { name: "type", type: "varint" }, 3: { name: "helpRef", type: "varint" }, 4: { name: "unitRef", type: "varint" } } },
    },
  },
};
