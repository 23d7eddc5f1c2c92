//! @mentions in message text: whom a message names. Both sides read them:
//! the client to mark mentions, the server to notify a member of a group
//! they muted when it names them.

/// Characters a username may contain (see `limits::check_username`).
pub fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Whether `body` mentions `username` ("@ann", any case), not as the start
/// of a longer name ("@anna") or inside a word ("x@ann").
pub fn mentions(body: &str, username: &str) -> bool {
    if username.is_empty() {
        return false;
    }
    // Usernames are ASCII: only ASCII letters compare in any case, so that
    // no other letter lowercases into a name (the Kelvin sign into "k").
    let lower = body.to_ascii_lowercase();
    let wanted = username.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find('@') {
        let at = from + found;
        let before_ok = lower[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !name_char(c));
        let rest = &lower[at + 1..];
        let name: String = rest.chars().take_while(|c| name_char(*c)).collect();
        // A sentence may end right after a mention: "@ann."
        let name = name.trim_end_matches('.');
        if before_ok && name == wanted {
            return true;
        }
        from = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_match_whole_names_in_any_case() {
        assert!(mentions("hi @Ann, lunch?", "ann"));
        assert!(mentions("@ann", "ann"));
        assert!(mentions("see you @ann.", "ann"));
        assert!(mentions("thanks (@ann)", "ann"));
        assert!(!mentions("hi @anna", "ann"));
        assert!(!mentions("mail me at bob@ann", "ann"));
        assert!(!mentions("ann", "ann"));
        assert!(mentions("@a.b hi", "a.b"));
        assert!(!mentions("@\u{212A}im", "kim"));
        assert!(mentions("ça @KIM", "kim"));
    }
}
