const utf8Encoder = new TextEncoder();
const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** RFC 4648 §5 base64url of the UTF-8 bytes, unpadded (the gateway accepts both forms). */
export function toBase64Url(text: string): string {
  return encodeBase64(utf8Encoder.encode(text), BASE64URL_ALPHABET, false);
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
