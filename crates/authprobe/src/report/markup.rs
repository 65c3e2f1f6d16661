//! The one escaper for the HTML page and the JUnit XML: both put text from the target in
//! element text and double-quoted attributes, so one function serves both.

/// Escapes for text and quoted attribute values alike, in a form both HTML and XML 1.0
/// read (`&#39;`, not HTML4-unknown `&apos;`), and drops what neither should carry: C0
/// controls other than tab and newlines, DEL and C1 controls (parse errors in HTML), and
/// U+FFFE/U+FFFF (not XML characters at all). A hostile server can put any of them in an
/// excerpt.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_drops_what_xml_and_html_refuse() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("a\u{1}\u{7f}\u{85}\u{FFFE}\u{FFFF}b\t\n"), "ab\t\n");
        assert_eq!(escape("wörd ✗"), "wörd ✗");
    }
}
