const utf8Encoder = new TextEncoder();
const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** RFC 4648 §5 base64url of the UTF-8 bytes, unpadded (the gateway accepts both forms). */
export function toBase64Url(text: string): string {
  return encodeBase64(utf8Encoder.encode(text), BASE64URL_ALPHABET, false);
}

/** RFC 4648 §5 base64url of bytes, unpadded: a label value that is not UTF-8, as the gateway holds it. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes, BASE64URL_ALPHABET, false);
}

/** RFC 4648 §4 base64 of the UTF-8 bytes, padded (HTTP Basic credentials). */
export function toBase64(text: string): string {
  return encodeBase64(utf8Encoder.encode(text), BASE64_ALPHABET, true);
}

function encodeBase64(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const rest = bytes.length - i;
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += alphabet[(n >> 18) & 63]! + alphabet[(n >> 12) & 63]!;
    out += rest > 1 ? alphabet[(n >> 6) & 63]! : pad ? "=" : "";
    out += rest > 2 ? alphabet[n & 63]! : pad ? "=" : "";
  }
  return out;
}

const BASE64URL_VALUES = new Map([...BASE64URL_ALPHABET].map((c, i) => [c, i]));

/**
 * The bytes of RFC 4648 §5 base64url text, padded or not; undefined when it is not such text
 * (other characters, a length no encoder makes, or stray bits in the last character).
 */
export function fromBase64Url(text: string): Uint8Array | undefined {
  const body = text.replace(/={1,2}$/, "");
  const padded = text.length !== body.length;
  if (body.length % 4 === 1 || (padded && text.length % 4 !== 0)) return undefined;
  const bytes = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let buffer = 0;
  let at = 0;
  for (const char of body) {
    const value = BASE64URL_VALUES.get(char);
    if (value === undefined) return undefined;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (buffer >> bits) & 0xff;
    }
  }
  // Bits left over must be zero, or two texts would decode to the same bytes.
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return bytes;
}
