//! Where a command may take the prompt: `{prompt}` and `{prompt_file}` only where the shell
//! reads them as one literal word of their own, found by following its quoting.

/// The placeholders a command may hold (the longer first: one is a prefix of the other).
pub(super) const PLACEHOLDERS: [&str; 2] = ["{prompt_file}", "{prompt}"];

/// A placeholder in a command: where, which, and why the shell would not take what
/// replaces it as one literal word (`None`: it would).
pub(super) struct Spot {
    pub(super) at: usize,
    pub(super) name: &'static str,
    pub(super) problem: Option<&'static str>,
}

/// Finds the placeholders in `command`, following the shell's quoting. A placeholder is
/// fine only as a whole word, outside any quotes, backquotes, `${…}`, comments, here-
/// documents and arithmetic, and not as the command to run: there the shell-quoted text
/// stays one literal word. Inside quotes, the prompt's own quotes would end them (that
/// is shell injection). After quoting this scan cannot follow (`$(` inside double quotes,
/// bash's `$'…'`), every placeholder is refused.
pub(super) fn placeholders(command: &str) -> Vec<Spot> {
    let b = command.as_bytes();
    let blank = |c: u8| matches!(c, b' ' | b'\t' | b'\n');
    let mut spots = Vec::new();
    // Open quotes, innermost last: b'\'', b'"' or b'`' (backquotes may sit in double quotes).
    let mut quotes: Vec<u8> = Vec::new();
    let (mut escaped, mut comment, mut heredoc, mut arith, mut tangled) = (false, false, false, false, false);
    let mut braces = 0usize;
    // The last byte outside quotes that is not a space or tab (a newline counts).
    let mut last: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        if let Some(name) = PLACEHOLDERS.iter().find(|p| b[i..].starts_with(p.as_bytes())) {
            let end = i + name.len();
            let alone = (i == 0 || blank(b[i - 1]))
                && b.get(end).is_none_or(|&c| blank(c) || matches!(c, b';' | b'|' | b'&' | b')'));
            let problem = if comment {
                Some("is in a comment")
            } else if escaped {
                Some("follows a backslash")
            } else if quotes.last() == Some(&b'`') {
                Some("is inside backquotes")
            } else if !quotes.is_empty() {
                Some("is inside quotes")
            } else if tangled {
                Some("follows quoting Maestro cannot follow (`$(`, `${` inside double quotes, or `$'…'`)")
            } else if heredoc {
                Some("follows a here-document (<<), whose text the shell expands")
            } else if arith {
                Some("follows an arithmetic or [[ ]] expression")
            } else if braces > 0 {
                Some("is inside ${…}")
            } else if !alone {
                Some("is not a word of its own")
            } else if last.is_none_or(|c| matches!(c, b';' | b'&' | b'|' | b'(' | b'\n')) {
                Some("would be run as the command itself")
            } else {
                None
            };
            spots.push(Spot { at: i, name, problem });
            if quotes.is_empty() && !comment {
                last = Some(b'}');
            }
            escaped = false;
            i = end;
            continue;
        }
        let (c, prev, next) = (b[i], i.checked_sub(1).map(|p| b[p]), b.get(i + 1).copied());
        i += 1;
        if comment {
            if c == b'\n' {
                comment = false;
                last = Some(c);
            }
            continue;
        }
        if escaped {
            escaped = false;
            if quotes.is_empty() && c != b'\n' {
                last = Some(c);
            }
            continue;
        }
        match quotes.last() {
            Some(b'\'') => {
                if c == b'\'' {
                    quotes.pop();
                }
            }
            Some(&q) => match c {
                b'\\' => escaped = true,
                b'`' if q == b'"' => quotes.push(c),
                // What `$(`, `${` or `$[` open inside double quotes has quotes of its own.
                b'$' if q == b'"' && matches!(next, Some(b'(' | b'{' | b'[')) => tangled = true,
                _ if c == q => {
                    quotes.pop();
                }
                _ => {}
            },
            None => {
                match c {
                    b'\\' => escaped = true,
                    b'$' if next == Some(b'\'') => tangled = true,
                    b'\'' | b'"' | b'`' => quotes.push(c),
                    b'#' if prev.is_none_or(|p| blank(p) || b";&|()<>".contains(&p)) => comment = true,
                    b'<' if next == Some(b'<') => heredoc = true,
                    b'(' if next == Some(b'(') => arith = true,
                    b'[' if next == Some(b'[') || prev == Some(b'$') => arith = true,
                    b'$' if next == Some(b'{') => {
                        braces += 1;
                        i += 1;
                    }
                    b'}' if braces > 0 => braces -= 1,
                    _ => {}
                }
                if !matches!(c, b' ' | b'\t') && !comment {
                    last = Some(c);
                }
            }
        }
    }
    spots
}

#[cfg(test)]
mod tests {
    use crate::agents::config::check;
    use crate::agents::substitute;
    use std::path::Path;

    /// The command `sh -c` gets for `command` and `prompt`, run: what it printed.
    fn run(command: &str, prompt: &str) -> String {
        let cmd = substitute(command, prompt, Path::new("/t/p 1.md")).unwrap();
        let out = std::process::Command::new("/bin/sh").args(["-c", &cmd]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn a_placeholder_is_taken_only_as_a_whole_literal_word() {
        for bad in [
            "a '{prompt}'",
            "a \"{prompt}\"",
            "a \"x {prompt} y\"",
            "a x{prompt}",
            "a {prompt}x",
            "a {prompt}>f",
            "a \\{prompt}",
            "a $'{prompt}'",
            "a $'\\' {prompt} '",
            "a `echo {prompt}`",
            "a \"$(echo \" {prompt} \")\"",
            "a \"$(printf %s {prompt})\"",
            "a \"${x:-\" {prompt} \"}\"",
            "a ${x:- {prompt} }",
            "a $(( {prompt} ))",
            "[[ {prompt} -eq 1 ]]",
            "cat <<EOF\n{prompt}\nEOF",
            "a # {prompt}",
            "{prompt}",
            "a; {prompt}",
            "a | {prompt_file}",
        ] {
            assert!(check("x", bad).is_err(), "{bad:?} was let through");
        }
        // Where it is a word of its own, whatever the prompt holds comes out as it was.
        let hostile = ["'; id; echo '", "$(id)", "`id`", "\"; id; \"", "a\nid\n", "\\'", "", "-n"];
        for good in [
            "printf '[%s]\\n' {prompt}",
            "printf '[%s]\\n' {prompt}; true",
            "printf '[%s]\\n' {prompt}|cat",
            "x=$(printf %s {prompt}); printf '[%s]\\n' \"$x\"",
            "echo '{x}' >/dev/null; printf '[%s]\\n' {prompt} # a comment",
        ] {
            check("x", good).unwrap();
            for p in hostile {
                let expected = if good.contains("$(") { p.trim_end_matches('\n') } else { p };
                assert_eq!(run(good, p), format!("[{expected}]\n"), "{good:?} with {p:?}");
            }
        }
    }
}
