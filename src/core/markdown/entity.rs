//! Entity and numeric character references (CommonMark section 6.2).
//!
//! Numeric references are complete. Named ones cover the names answers
//! use and those of the CommonMark spec's examples, not all 2,231 of
//! HTML's: an unknown name stays text, as an invalid one does.

/// The longest reference taken: `&` then up to 31 more characters.
pub(super) const MAX_ENTITY: usize = 32;

/// Named references: name, then the characters it stands for.
const NAMED: &[(&str, &str)] = &[
    ("AElig", "\u{C6}"),
    ("ClockwiseContourIntegral", "\u{2232}"),
    ("Dcaron", "\u{10E}"),
    ("DifferentialD", "\u{2146}"),
    ("HilbertSpace", "\u{210B}"),
    ("aacute", "\u{E1}"),
    ("amp", "&"),
    ("apos", "'"),
    ("auml", "\u{E4}"),
    ("bull", "\u{2022}"),
    ("ccedil", "\u{E7}"),
    ("cent", "\u{A2}"),
    ("copy", "\u{A9}"),
    ("darr", "\u{2193}"),
    ("deg", "\u{B0}"),
    ("divide", "\u{F7}"),
    ("eacute", "\u{E9}"),
    ("egrave", "\u{E8}"),
    ("euro", "\u{20AC}"),
    ("frac12", "\u{BD}"),
    ("frac14", "\u{BC}"),
    ("frac34", "\u{BE}"),
    ("ge", "\u{2265}"),
    ("gt", ">"),
    ("harr", "\u{2194}"),
    ("hellip", "\u{2026}"),
    ("iacute", "\u{ED}"),
    ("laquo", "\u{AB}"),
    ("larr", "\u{2190}"),
    ("ldquo", "\u{201C}"),
    ("le", "\u{2264}"),
    ("lsquo", "\u{2018}"),
    ("lt", "<"),
    ("mdash", "\u{2014}"),
    ("middot", "\u{B7}"),
    ("nbsp", "\u{A0}"),
    ("ndash", "\u{2013}"),
    ("ne", "\u{2260}"),
    ("ngE", "\u{2267}\u{338}"),
    ("ntilde", "\u{F1}"),
    ("oacute", "\u{F3}"),
    ("ouml", "\u{F6}"),
    ("para", "\u{B6}"),
    ("plusmn", "\u{B1}"),
    ("pound", "\u{A3}"),
    ("quot", "\""),
    ("raquo", "\u{BB}"),
    ("rarr", "\u{2192}"),
    ("rdquo", "\u{201D}"),
    ("reg", "\u{AE}"),
    ("rsquo", "\u{2019}"),
    ("sect", "\u{A7}"),
    ("szlig", "\u{DF}"),
    ("times", "\u{D7}"),
    ("trade", "\u{2122}"),
    ("uacute", "\u{FA}"),
    ("uarr", "\u{2191}"),
    ("uuml", "\u{FC}"),
    ("yen", "\u{A5}"),
];

/// Whether `c` may come next in a reference that is `so_far` (starting
/// with `&`, without its `;`).
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn continues(so_far: &str, c: char) -> bool {
    if so_far.len() >= MAX_ENTITY {
        return false;
    }
    match so_far.as_bytes() {
        [b'&'] => c == '#' || c.is_ascii_alphanumeric(),
        [b'&', b'#'] => c.is_ascii_digit() || c == 'x' || c == 'X',
        [b'&', b'#', b'x' | b'X', ..] => c.is_ascii_hexdigit(),
        [b'&', b'#', ..] => c.is_ascii_digit(),
        _ => c.is_ascii_alphanumeric(),
    }
}

/// What the reference `&…;` stands for, if it is one.
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn decode(reference: &str) -> Option<String> {
    let body = reference.strip_prefix('&')?.strip_suffix(';')?;
    if let Some(number) = body.strip_prefix('#') {
        let (digits, radix, most) = match number.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 6),
            None => (number, 10, 7),
        };
        if digits.is_empty() || digits.len() > most {
            return None;
        }
        let code = u32::from_str_radix(digits, radix).ok()?;
        // Zero, surrogates and values past U+10FFFF become U+FFFD.
        let c = char::from_u32(code)
            .filter(|&c| c != '\0')
            .unwrap_or('\u{FFFD}');
        return Some(String::from(c));
    }
    NAMED
        .binary_search_by(|&(name, _)| name.cmp(body))
        .ok()
        .map(|at| NAMED[at].1.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_for_binary_search() {
        assert!(NAMED.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }

    #[test]
    fn references_decode_as_commonmark_says() {
        assert_eq!(decode("&amp;").as_deref(), Some("&"));
        assert_eq!(decode("&#35;").as_deref(), Some("#"));
        assert_eq!(decode("&#X22;").as_deref(), Some("\""));
        assert_eq!(decode("&#0;").as_deref(), Some("\u{FFFD}"));
        assert_eq!(decode("&#xD800;").as_deref(), Some("\u{FFFD}"));
        assert_eq!(decode("&#87654321;"), None);
        assert_eq!(decode("&nosuch;"), None);
        assert_eq!(decode("&#;"), None);
        assert!(continues("&", '#') && continues("&#", 'x') && !continues("&#x", 'g'));
    }
}
