/**
 * A protobuf reader for tests, independent of the encoders it checks: it knows the wire
 * format only, and turns a message into a plain object by a schema of field numbers.
 */
export type FieldType = "string" | "double" | "fixed64" | "varint" | "packedVarints" | "bool" | Schema;
export interface Schema {
  readonly [field: number]: { readonly name: string; readonly type: FieldType; readonly repeated?: boolean };
}

/** Every field of one message, in order: [field number, varint | 8 raw bytes | length-delimited bytes]. */
export function wireFields(data: Uint8Array): Array<[number, number | Uint8Array]> {
  const out: Array<[number, number | Uint8Array]> = [];
  let pos = 0;
  const varint = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = data[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < data.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) out.push([Math.floor(key / 8), varint()]);
    else if (wire === 1) {
      out.push([Math.floor(key / 8), data.subarray(pos, pos + 8)]);
      pos += 8;
    } else if (wire === 2) {
      const n = varint();
      out.push([Math.floor(key / 8), data.subarray(pos, pos + n)]);
      pos += n;
    } else throw new Error(`wire type ${wire} at byte ${pos}: not written by pushgw`);
  }
  return out;
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, 8);

/** The message as an object, by `schema`; a field the schema does not name is an error. */
export function decodeMessage(data: Uint8Array, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, raw] of wireFields(data)) {
    const spec = schema[field];
    if (spec === undefined) throw new Error(`field ${field} is not in the schema`);
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
  return out;
}
