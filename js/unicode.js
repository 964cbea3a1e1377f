// The citation grammar's letters and marks, by the JS engine's own Unicode
// data (src/wasm/unicode.rs imports this), so that the wasm module carries
// no Unicode table: 1 for a letter (general category L), 2 for a mark (M),
// 0 for anything else. The grammar asks only about the non-ASCII characters
// of a speaker's name.
const letter = /\p{L}/u;
const mark = /\p{M}/u;

export function charClass(c) { return letter.test(c) ? 1 : mark.test(c) ? 2 : 0; }
