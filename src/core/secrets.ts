/**
 * Header names that carry a secret by their look: their values are never printed (--verbose,
 * --dry-run, errors). Better to hide a harmless header than to show a token.
 */
const SECRET_HEADER = /auth|token|secret|passw|cookie|session|api[-_]?key|^x-.*key|credential|signature|^proxy-/i;

export function isSecretHeaderName(name: string): boolean {
  return SECRET_HEADER.test(name);
}
