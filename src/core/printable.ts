/**
 * The one rule for text pushgw prints that came from elsewhere (a gateway's answer, names and
 * label values other clients pushed, file names). Such text may hold terminal control sequences
 * (`\e]0;title\a` retitles the window, `\e[2J` clears it, a bidi override reorders what is
 * shown) or line breaks (a job name with a newline in it would fake a row of `list`, or a line
 * of pushgw's own). Every line pushgw prints goes through `printable`; a line made of such
 * values, which must stay one line, through `singleLine`. Escaped characters are shown as
 * `\xNN` or `\u{NNNN}`, never dropped, so two different names never look the same.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}

/** Text as printed: control characters escaped; its own newlines and tabs kept. */
export function printable(text: string): string {
  return text.replace(CONTROL, escape);
}

/** One line as printed: newlines and tabs escaped too, so nothing in it can start another line. */
export function singleLine(text: string): string {
  return text.replace(CONTROL_OR_BREAK, escape);
}
