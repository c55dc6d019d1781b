// Stands in for string-width inside yargs' help layout (cliui): the real one compiles a large
// emoji regular expression and an Intl.Segmenter on every run, because yargs lays out the help
// text even when it is not shown. pushgw's help is plain ASCII, so a column is a character.
const ANSI = /\u001b\[[0-9;]*m/g;
export default function stringWidth(text) {
  return typeof text === "string" ? text.replace(ANSI, "").length : 0;
}
