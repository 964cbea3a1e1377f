//! Links' destinations and autolinks (CommonMark sections 6.3 and 6.5, and
//! GFM's extended autolinks).

use super::entity;

/// Where a link destination `(…)` stands, read one character at a time
/// after its `(`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dest {
    /// Before the destination: spaces, `<`, or the first character.
    Start,
    /// Inside `<…>`.
    Angle { escaped: bool },
    /// A destination without `<>`, with its open parentheses.
    Bare { depth: u8, escaped: bool },
    /// After the destination: spaces, a title, or `)`.
    After,
    /// Inside a title closed by `close`.
    Title { close: char, escaped: bool },
    /// After the title: spaces or `)`.
    AfterTitle,
}

/// What one more character does to a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DestStep {
    /// Part of the destination itself.
    Url(Dest),
    /// Part of the `(…)` but not of the destination (spaces, a title).
    Other(Dest),
    /// The closing `)`: a link.
    Done,
    /// Not a link destination.
    Fail,
}

/// Most nested parentheses a destination may hold (CommonMark requires
/// at least 32).
const MAX_PARENS: u8 = 32;

impl Dest {
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn step(self, c: char) -> DestStep {
        use DestStep::{Done, Fail, Other, Url};
        let space = c == ' ' || c == '\t';
        match self {
            Dest::Start if space => Other(self),
            Dest::Start if c == '<' => Other(Dest::Angle { escaped: false }),
            Dest::Start if c == ')' => Done,
            Dest::Start => Dest::Bare {
                depth: 0,
                escaped: false,
            }
            .step(c),
            Dest::Angle { escaped: false } if c == '>' => Other(Dest::After),
            Dest::Angle { .. } if c == '\n' => Fail,
            Dest::Angle { escaped: false } if c == '<' => Fail,
            Dest::Angle { escaped } => Url(Dest::Angle {
                escaped: !escaped && c == '\\',
            }),
            Dest::Bare {
                depth,
                escaped: true,
            } => Url(Dest::Bare {
                depth,
                escaped: false,
            }),
            Dest::Bare { .. } if c.is_ascii_control() && c != '\t' => Fail,
            Dest::Bare { .. } if space => Other(Dest::After),
            Dest::Bare { depth: 0, .. } if c == ')' => Done,
            Dest::Bare { depth, .. } => match c {
                '\\' => Url(Dest::Bare {
                    depth,
                    escaped: true,
                }),
                '(' if depth < MAX_PARENS => Url(Dest::Bare {
                    depth: depth + 1,
                    escaped: false,
                }),
                '(' => Fail,
                ')' => Url(Dest::Bare {
                    depth: depth - 1,
                    escaped: false,
                }),
                _ => Url(Dest::Bare {
                    depth,
                    escaped: false,
                }),
            },
            Dest::After | Dest::AfterTitle if space => Other(self),
            Dest::After | Dest::AfterTitle if c == ')' => Done,
            Dest::After => match c {
                '"' | '\'' => Other(Dest::Title {
                    close: c,
                    escaped: false,
                }),
                '(' => Other(Dest::Title {
                    close: ')',
                    escaped: false,
                }),
                _ => Fail,
            },
            Dest::AfterTitle => Fail,
            Dest::Title { .. } if c == '\n' => Fail,
            Dest::Title {
                close,
                escaped: false,
            } if c == close => Other(Dest::AfterTitle),
            Dest::Title { close, escaped } => Other(Dest::Title {
                close,
                escaped: !escaped && c == '\\',
            }),
        }
    }
}

/// A destination as CommonMark's reference renderer writes it: backslash
/// escapes and entities resolved, then percent-encoded.
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn href(dest: &str) -> String {
    percent_encode(&unescape(dest))
}

/// Backslash escapes and entity references resolved, as in destinations
/// and info strings (CommonMark sections 2.4 and 2.5).
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn unescape(dest: &str) -> String {
    let mut plain = String::with_capacity(dest.len());
    let mut rest = dest;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        match c {
            '\\' if after.starts_with(|n: char| n.is_ascii_punctuation()) => {
                plain.push_str(&after[..1]);
                rest = &after[1..];
            }
            '&' => {
                let reference = rest
                    .bytes()
                    .take(entity::MAX_ENTITY + 1)
                    .position(|b| b == b';')
                    .and_then(|semi| Some((semi, entity::decode(&rest[..=semi])?)));
                match reference {
                    Some((semi, decoded)) => {
                        plain.push_str(&decoded);
                        rest = &rest[semi + 1..];
                    }
                    None => {
                        plain.push('&');
                        rest = after;
                    }
                }
            }
            _ => {
                plain.push(c);
                rest = after;
            }
        }
    }
    plain
}

/// Percent-encodes what a URL may not hold as it is; `%XX` already there
/// stays.
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn percent_encode(url: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = url.as_bytes();
    let mut out = String::with_capacity(url.len());
    for (at, &b) in bytes.iter().enumerate() {
        let kept = b.is_ascii_alphanumeric()
            || b";/?:@&=+$,-_.!~*'()#".contains(&b)
            || (b == b'%'
                && bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit));
        if kept {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// The href of `<inner>` when it is an autolink: an absolute URI or an
/// email address.
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn autolink(inner: &str) -> Option<String> {
    if let Some((scheme, rest)) = inner.split_once(':') {
        let ok_scheme = (2..=32).contains(&scheme.len())
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b));
        if ok_scheme
            && !rest
                .chars()
                .any(|c| c.is_ascii_control() || c == ' ' || c == '<' || c == '>')
        {
            return Some(percent_encode(inner));
        }
    }
    let (local, domain) = inner.split_once('@')?;
    let local_ok = !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&b));
    let domain_ok = domain.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    (local_ok && domain_ok).then(|| String::from("mailto:") + &percent_encode(inner))
}

/// The prefixes that start a GFM extended autolink.
pub(super) const BARE_PREFIXES: [&str; 3] = ["https://", "http://", "www."];

/// A GFM extended autolink at the start of `candidate` (which starts with
/// one of [`BARE_PREFIXES`] and holds no space or `<`): how many bytes of
/// it the link takes, and its href. Trailing punctuation, an unbalanced
/// `)` and a trailing entity-like `&…;` are left out, as GFM says.
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn bare_url(candidate: &str) -> Option<(usize, String)> {
    let mut end = candidate.len();
    loop {
        let link = &candidate[..end];
        let last = link.chars().next_back()?;
        let unbalanced = last == ')' && link.matches(')').count() > link.matches('(').count();
        if matches!(
            last,
            '?' | '!' | '.' | ',' | ':' | '*' | '_' | '~' | '\'' | '"'
        ) || unbalanced
        {
            end -= 1;
        } else if last == ';' {
            let amp = link.rfind('&')?;
            if link[amp + 1..end - 1]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
                && amp + 1 < end - 1
            {
                end = amp;
            } else {
                break;
            }
        } else {
            break;
        }
    }
    let link = &candidate[..end];
    let (after_scheme, www) = match link.strip_prefix("https://") {
        Some(rest) => (rest, false),
        None => match link.strip_prefix("http://") {
            Some(rest) => (rest, false),
            None => (link, true),
        },
    };
    let host_end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let host = &after_scheme[..host_end];
    let labels: Vec<&str> = host.split('.').collect();
    let valid = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        && labels[labels.len() - 2..]
            .iter()
            .all(|label| !label.contains('_'))
        && (!www || labels.len() >= 3 || host.len() > 4);
    if !valid {
        return None;
    }
    let href = if www {
        String::from("http://") + link
    } else {
        link.to_owned()
    };
    Some((end, percent_encode(&href)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_are_normalised_as_the_reference_renderer_does() {
        assert_eq!(href("foo%20b&auml;"), "foo%20b%C3%A4");
        assert_eq!(href("foo bar"), "foo%20bar");
        assert_eq!(href(r"foo\)\:"), "foo):");
        assert_eq!(href("a&amp;b"), "a&b");
        assert_eq!(href("a&b"), "a&b");
        assert_eq!(href("[x]"), "%5Bx%5D");
    }

    #[test]
    fn autolinks_are_uris_or_emails() {
        assert_eq!(
            autolink("http://foo.bar.baz").as_deref(),
            Some("http://foo.bar.baz")
        );
        assert_eq!(
            autolink("foo@bar.example.com").as_deref(),
            Some("mailto:foo@bar.example.com")
        );
        assert_eq!(autolink("a+b:c").as_deref(), Some("a+b:c"));
        assert_eq!(autolink("m:abc"), None);
        assert_eq!(autolink("foo.bar.baz"), None);
        assert_eq!(autolink("http://foo bar"), None);
    }

    #[test]
    fn bare_urls_leave_trailing_punctuation_out() {
        assert_eq!(bare_url("www.commonmark.org.").map(|u| u.0), Some(18));
        assert_eq!(
            bare_url("https://example.com/a_(b))").map(|u| u.0),
            Some(25)
        );
        assert_eq!(bare_url("https://example.com/&hl;").map(|u| u.0), Some(20));
        assert_eq!(
            bare_url("www.example.com/x").map(|u| u.1).as_deref(),
            Some("http://www.example.com/x")
        );
        assert_eq!(bare_url("https://localhost"), None);
        assert_eq!(bare_url("https://a_b.example_x.com"), None);
    }

    #[test]
    fn destinations_are_read_one_character_at_a_time() {
        let run = |source: &str| {
            let mut dest = Dest::Start;
            let mut url = String::new();
            for c in source.chars() {
                match dest.step(c) {
                    DestStep::Url(next) => {
                        url.push(c);
                        dest = next;
                    }
                    DestStep::Other(next) => dest = next,
                    DestStep::Done => return Some(url),
                    DestStep::Fail => return None,
                }
            }
            None
        };
        assert_eq!(run("/uri)").as_deref(), Some("/uri"));
        assert_eq!(run("<a b>)").as_deref(), Some("a b"));
        assert_eq!(run("a(b)c \"t\")").as_deref(), Some("a(b)c"));
        assert_eq!(run(r"a\)b)").as_deref(), Some(r"a\)b"));
        assert_eq!(run(")").as_deref(), Some(""));
        assert_eq!(run("a b)"), None);
        assert_eq!(run("a\nb)"), None);
    }
}
