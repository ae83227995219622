//! Quoting a value for an ffmpeg filter option inside `-filter_complex`: the graph parser and
//! then the filter's option parser each strip one level of quotes/backslashes, so any path or
//! text (colons, quotes, backslashes, commas) must be escaped for both.

/// `value` as a filter option value, e.g. `/a:b/it's` → `'/a\:b/it\'\''s'`.
pub fn option_value(value: &str) -> String {
    let mut inner = String::new();
    for c in value.chars() {
        // Level 2 (option parser): `\`, `'` and the `:` that separates options.
        if matches!(c, '\\' | '\'' | ':') {
            inner.push('\\');
        }
        inner.push(c);
    }
    // Level 1 (graph parser): inside '…' everything is literal except `'`, closed and reopened.
    format!("'{}'", inner.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_both_levels() {
        assert_eq!(option_value("/a:b/it's"), r"'/a\:b/it\'\''s'");
        assert_eq!(option_value("x,y;[z]"), "'x,y;[z]'");
        assert_eq!(option_value(r"c:\f"), r"'c\:\\f'");
    }
}
