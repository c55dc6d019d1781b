import { InputError } from "../errors.js";
import { where, type ExpositionSource } from "./source.js";

/**
 * The most UTF-16 code units a decoded input may have: V8's largest string (about 512 MiB)
 * less the newline the repair may add. UTF-8 never decodes to more units than it has bytes.
 */
export const MAX_INPUT_BYTES = (1 << 29) - 24 - 1;

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes bytes as UTF-8, refusing invalid sequences with the line they are on: the gateway
 * refuses such a push, but its failure path still creates a group that breaks every scrape.
 */
export function decodeUtf8(bytes: Uint8Array, source: ExpositionSource): string {
  if (bytes.length > MAX_INPUT_BYTES) {
    throw new InputError(`${source.name}: more than ${MAX_INPUT_BYTES} bytes (512 MiB), the most pushgw can check in one push`, {
      hint: "split the metrics over several pushes (`pushgw add` adds to a group without replacing it); nothing was sent",
    });
  }
  try {
    return strictDecoder.decode(bytes);
  } catch (error) {
    const offset = firstInvalidUtf8Offset(bytes);
    if (offset >= bytes.length) throw error;
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    throw new InputError(`${where(source, line)}: invalid UTF-8 (byte 0x${(bytes[offset] ?? 0).toString(16)} at offset ${offset})`, {
      hint: "the gateway only takes UTF-8 text; convert the file (for example with iconv)",
    });
  }
}

/** Where the first byte of an invalid sequence is (the decoder only says that there is one). */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let need: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    else if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const cont = bytes[i + k];
      if (cont === undefined || (cont & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cont & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}
