//! The citation grammar's [`Classify`] in the browser: the JS engine's
//! Unicode data (`js/unicode.js`) tells letters and marks, so the module
//! leaves out the core's generated table (about 2 KB gzip). The native
//! build keeps the table, and its tests prove it against unicode-properties;
//! `tests/browser.rs` checks that the two agree.

use wasm_bindgen::prelude::*;

use crate::core::citation::{CharClass, Classify};

#[wasm_bindgen(module = "/js/unicode.js")]
extern "C" {
    /// 1 for a letter, 2 for a mark, 0 otherwise.
    #[wasm_bindgen(js_name = charClass)]
    fn char_class(c: char) -> u8;
}

/// The class of `c` by the JS engine's `\p{L}` and `\p{M}`.
pub fn engine_class(c: char) -> CharClass {
    match char_class(c) {
        1 => CharClass::Letter,
        2 => CharClass::Mark,
        _ => CharClass::Other,
    }
}

/// What the shell's citation buffers classify by.
pub(crate) const CLASSIFY: Classify = engine_class;
