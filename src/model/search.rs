//! Search over the device's saved messages: text folded for matching (case
//! and accents ignored, "Café" finds "cafe" and "CAFÉ"), the index's
//! stored form (a line per message, in buckets of consecutive seqs), and the
//! index in memory, which answers word prefixes across every saved message
//! at once.

use std::collections::BTreeMap;
use std::ops::Range;

use natter_protocol::{ConversationId, Message, Millis, Seq, UserId};

/// Messages per stored bucket: a new or changed message rewrites only its
/// bucket, and a conversation of 10,000 messages is 40 of them.
pub const BUCKET: Seq = 256;

/// The bucket of `seq`.
pub fn bucket_of(seq: Seq) -> Seq {
    seq / BUCKET
}

/// Combining marks (accents, diacritics) that decomposition separates from
/// their letters.
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// `text` decomposed (NFD, so that accents become marks of their own),
/// lowercased and without marks, cut into its runs of letters and digits.
/// In the app the browser does it: its Unicode tables are already there,
/// and Rust's would weigh on every module that keeps the index up to date.
#[cfg(target_arch = "wasm32")]
fn bare_words(text: &str) -> Vec<String> {
    use js_sys::{JsString, RegExp};
    thread_local! {
        // The same ranges as `is_mark`.
        static MARKS: RegExp = RegExp::new(
            "[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f]",
            "gu",
        );
        // What Rust calls `!char::is_alphanumeric`.
        static BETWEEN_WORDS: RegExp = RegExp::new("[^\\p{Alphabetic}\\p{N}]+", "u");
    }
    let lowered = JsString::from(text).normalize("NFD").to_lower_case();
    let bare = MARKS.with(|marks| lowered.replace_by_pattern(marks, ""));
    BETWEEN_WORDS
        .with(|between| bare.split_by_pattern(between))
        .iter()
        .filter_map(|word| word.as_string())
        .filter(|word| !word.is_empty())
        .collect()
}

#[cfg(not(target_arch = "wasm32"))]
fn bare_words(text: &str) -> Vec<String> {
    let decomposed: String = unicode_normalization::UnicodeNormalization::nfd(text).collect();
    decomposed
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && !is_mark(c))
        .map(|word| word.chars().filter(|c| !is_mark(*c)).collect::<String>())
        .filter(|word| !word.is_empty())
        .collect()
}

/// Letters that have no decomposition but are written as others when
/// typed without them.
fn fold_letter(c: char, out: &mut String) {
    match c {
        'ß' => out.push_str("ss"),
        'æ' => out.push_str("ae"),
        'œ' => out.push_str("oe"),
        'þ' => out.push_str("th"),
        'ø' => out.push('o'),
        'đ' | 'ð' => out.push('d'),
        'ł' => out.push('l'),
        'ı' => out.push('i'),
        // Lowercasing a whole text writes a word's last sigma so.
        'ς' => out.push('σ'),
        other => out.push(other),
    }
}

/// `text`'s words, folded and joined by single spaces: lowercase, without
/// accents, split on everything that is not a letter or a digit.
pub fn fold_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in bare_words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            fold_letter(c, &mut out);
        }
    }
    out
}

/// What a message contributes to the index: its text, folded (nothing for
/// events, actions, deleted messages and those without text).
pub fn words_of(message: &Message) -> Option<String> {
    if message.deleted || !message.is_visible_message() {
        return None;
    }
    let words = fold_words(&message.body);
    (!words.is_empty()).then_some(words)
}

/// One message's line in a stored bucket: `seq`, `sent_at`, `sender`, its
/// words.
pub fn line(message: &Message, words: &str) -> String {
    format!(
        "{}\t{}\t{}\t{}\n",
        message.seq, message.sent_at, message.sender, words
    )
}

/// `bucket` with the lines of `changed` replaced (or removed, where a
/// message has no words any more), in seq order. `changed` is in the order
/// the messages were written: where one appears twice (sent, then deleted,
/// in one batch), its last version counts.
pub fn rewrite_bucket(bucket: &str, changed: &[&Message]) -> String {
    let latest: BTreeMap<Seq, &Message> = changed.iter().map(|m| (m.seq, *m)).collect();
    let mut lines: BTreeMap<Seq, String> = bucket
        .lines()
        .filter_map(|line| {
            let seq: Seq = line.split('\t').next()?.parse().ok()?;
            (!latest.contains_key(&seq)).then(|| (seq, format!("{line}\n")))
        })
        .collect();
    for (seq, message) in latest {
        if let Some(words) = words_of(message) {
            lines.insert(seq, line(message, &words));
        }
    }
    lines.into_values().collect()
}

/// A message the index found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub conversation: ConversationId,
    pub seq: Seq,
    pub sent_at: Millis,
    pub sender: UserId,
}

/// Every saved message's words in one string (" word word\n" per message),
/// where each query word is one substring search, and what each line is.
#[derive(Debug, Default)]
pub struct SearchIndex {
    text: String,
    /// Where each message's line starts in `text`, in `text`'s order.
    starts: Vec<usize>,
    hits: Vec<Hit>,
}

impl SearchIndex {
    /// The index of stored buckets, each with its conversation.
    pub fn from_buckets<'a>(buckets: impl IntoIterator<Item = (ConversationId, &'a str)>) -> Self {
        let mut index = SearchIndex::default();
        for (conversation, bucket) in buckets {
            for line in bucket.lines() {
                let mut fields = line.splitn(4, '\t');
                let (Some(seq), Some(sent_at), Some(sender), Some(words)) =
                    (fields.next(), fields.next(), fields.next(), fields.next())
                else {
                    continue;
                };
                let (Ok(seq), Ok(sent_at), Ok(sender)) =
                    (seq.parse(), sent_at.parse(), sender.parse())
                else {
                    continue;
                };
                index.starts.push(index.text.len());
                index.text.push(' ');
                index.text.push_str(words);
                index.text.push('\n');
                index.hits.push(Hit {
                    conversation,
                    seq,
                    sent_at,
                    sender,
                });
            }
        }
        index
    }

    /// The messages in which every word of `query` starts a word, of those
    /// `shown` lets through, newest first, at most `limit`; and how many
    /// there are in all.
    pub fn search(
        &self,
        query: &str,
        shown: impl Fn(&Hit) -> bool,
        limit: usize,
    ) -> (Vec<Hit>, usize) {
        let words = fold_words(query);
        let mut needles: Vec<String> = words.split(' ').map(|word| format!(" {word}")).collect();
        needles.retain(|needle| needle.len() > 1);
        if needles.is_empty() {
            return (Vec::new(), 0);
        }
        // The longest word finds the fewest lines; the others are checked
        // on those lines only.
        needles.sort_by_key(|needle| std::cmp::Reverse(needle.len()));
        let (first, rest) = needles.split_at(1);
        let mut found: Vec<Hit> = Vec::new();
        let mut last_line = usize::MAX;
        for (at, _) in self.text.match_indices(first[0].as_str()) {
            let line = self.starts.partition_point(|start| *start <= at) - 1;
            if line == last_line {
                continue;
            }
            last_line = line;
            let hit = self.hits[line];
            if !shown(&hit) {
                continue;
            }
            let end = self
                .starts
                .get(line + 1)
                .copied()
                .unwrap_or(self.text.len());
            let text = &self.text[self.starts[line]..end];
            if rest.iter().all(|needle| text.contains(needle.as_str())) {
                found.push(hit);
            }
        }
        let total = found.len();
        found.sort_by(|a, b| b.sent_at.cmp(&a.sent_at).then(b.seq.cmp(&a.seq)));
        found.truncate(limit);
        (found, total)
    }
}

/// Where in `text` (byte ranges) the words of `query` match: the start of
/// each word that begins with one of them, as long as the query's word.
pub fn highlights(text: &str, query: &str) -> Vec<Range<usize>> {
    let folded = fold_words(query);
    let needles: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let mut ranges = Vec::new();
    let mut word_start = None;
    let mut boundaries: Vec<Range<usize>> = Vec::new();
    for (at, c) in text.char_indices() {
        match (c.is_alphanumeric() || is_mark(c), word_start) {
            (true, None) => word_start = Some(at),
            (false, Some(start)) => {
                boundaries.push(start..at);
                word_start = None;
            }
            _ => {}
        }
    }
    if let Some(start) = word_start {
        boundaries.push(start..text.len());
    }
    for word in boundaries {
        let original = &text[word.clone()];
        let Some(needle) = needles
            .iter()
            .filter(|needle| fold_words(original).starts_with(**needle))
            .max_by_key(|needle| needle.len())
        else {
            continue;
        };
        // As many of the word's characters as fold into the query's word.
        let mut end = word.start;
        for (offset, c) in original.char_indices() {
            end = word.start + offset + c.len_utf8();
            if fold_words(&original[..offset + c.len_utf8()]).len() >= needle.len() {
                break;
            }
        }
        ranges.push(word.start..end);
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: Seq, body: &str) -> Message {
        Message {
            conversation: 1,
            seq,
            sent_at: seq as Millis * 10,
            body: body.to_owned(),
            ..Message::default()
        }
    }

    #[test]
    fn words_are_folded_for_case_and_accents() {
        assert_eq!(
            fold_words("Café au LAIT, s'il vous plaît!"),
            "cafe au lait s il vous plait"
        );
        assert_eq!(
            fold_words("Straße Ærø naïve Łódź"),
            "strasse aero naive lodz"
        );
        assert_eq!(fold_words("Ελληνικά Привет ёлка"), "ελληνικα привет елка");
        assert_eq!(fold_words("  ...  "), "");
        assert_eq!(fold_words("3pm @ann #tag ½ ٣"), "3pm ann tag ½ ٣");
        // A final sigma is folded as any other.
        assert_eq!(fold_words("ΟΔΟΣ οδός"), "οδοσ οδοσ");
    }

    #[test]
    fn queries_match_word_prefixes_in_every_word_newest_first() {
        let bucket: String = [
            message(1, "Lunch at the café?"),
            message(2, "The CAFE is closed"),
            message(3, "lunchbox"),
            message(4, "brunch"),
        ]
        .iter()
        .map(|m| line(m, &words_of(m).unwrap()))
        .collect();
        let other = line(
            &Message {
                conversation: 2,
                sender: 7,
                ..message(9, "café crème")
            },
            "cafe creme",
        );
        let index = SearchIndex::from_buckets([(1, bucket.as_str()), (2, other.as_str())]);
        let seqs = |query: &str, only: Option<ConversationId>| {
            index
                .search(query, |hit| only.is_none_or(|c| c == hit.conversation), 10)
                .0
                .iter()
                .map(|hit| (hit.conversation, hit.seq))
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs("Café", None), vec![(2, 9), (1, 2), (1, 1)]);
        assert_eq!(seqs("caf", Some(1)), vec![(1, 2), (1, 1)]);
        assert_eq!(
            seqs("lunch", None),
            vec![(1, 3), (1, 1)],
            "not inside 'brunch'"
        );
        assert_eq!(seqs("the caf", None), vec![(1, 2), (1, 1)]);
        assert_eq!(seqs("closed café", None), vec![(1, 2)]);
        assert_eq!(seqs("unch", None), Vec::new());
        assert_eq!(seqs("  !! ", None), Vec::new());
        let everyone = |_: &Hit| true;
        let (newest, total) = index.search("caf", everyone, 1);
        assert_eq!((newest.len(), total), (1, 3));
        assert_eq!((newest[0].conversation, newest[0].sender), (2, 7));
        // What the app hides (a blocked sender's, say) is left out.
        let (_, total) = index.search("caf", |hit| hit.sender != 7, 10);
        assert_eq!(total, 2);
    }

    #[test]
    fn a_bucket_takes_edits_and_forgets_deleted_messages() {
        let first = message(1, "alpha");
        let second = message(2, "beta");
        let bucket = rewrite_bucket("", &[&second, &first]);
        assert_eq!(bucket, "1\t10\t0\talpha\n2\t20\t0\tbeta\n");
        let edited = message(2, "gamma");
        let bucket = rewrite_bucket(&bucket, &[&edited]);
        assert_eq!(bucket, "1\t10\t0\talpha\n2\t20\t0\tgamma\n");
        let mut deleted = message(1, "");
        deleted.deleted = true;
        assert_eq!(rewrite_bucket(&bucket, &[&deleted]), "2\t20\t0\tgamma\n");
        // Sent and deleted in one batch: the deletion, written last, counts.
        assert_eq!(rewrite_bucket("", &[&first, &deleted]), "");
        assert_eq!(rewrite_bucket("", &[&deleted, &first]), "1\t10\t0\talpha\n");
        let index = SearchIndex::from_buckets([(1, "2\t20\t0\tgamma\n")]);
        assert!(index.search("alpha", |_| true, 10).0.is_empty());
    }

    #[test]
    fn highlights_cover_the_matching_start_of_each_word() {
        let text = "Lunch at the Café? café-crème, lunchbox";
        let marked: Vec<&str> = highlights(text, "cafe lunch")
            .into_iter()
            .map(|range| &text[range])
            .collect();
        assert_eq!(marked, vec!["Lunch", "Café", "café", "lunch"]);
        let text = "Straße";
        let marked: Vec<&str> = highlights(text, "strass")
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(marked, vec!["Straß"]);
    }
}
