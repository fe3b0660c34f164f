//! Byte offsets in a UTF-8 `&str` <-> LSP positions `(line, character)`.
//!
//! `character` counts UTF-8 bytes or UTF-16 code units within a line, per the
//! negotiated [`Encoding`]. Lines end at `\n`, `\r\n` or a lone `\r` (as in the
//! LSP spec); `character` counts the line's content only, never its
//! terminator, and text ending in a terminator has a final empty line.
//!
//! Also applies one LSP-style range edit to a `String` ([`apply_change`]) and
//! reports the byte ranges and tree-sitter points an `InputEdit` needs. The
//! tree is parsed with lone `\r`s read as `\n`s (`syntax::reparse`), so its
//! rows are these lines; a column is a byte count that includes any `\r` of a
//! `\r\n` before it ([`point_of`]).
//!
//! Nothing here panics: bad positions and offsets clamp, and the position
//! conversions report whether they had to.

/// What `Pos::character` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes from the start of the line.
    Utf8,
    /// UTF-16 code units from the start of the line (the LSP default).
    Utf16,
}

/// How a position fitted the text it was resolved in (see [`LineIndex::locate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// It names a character boundary.
    Exact,
    /// Its character is past the end of its line's content: it stands for the end of the line
    /// (the LSP spec: "it defaults back to the line length").
    PastLineEnd,
    /// Its line is past the last line: it stands for the end of the text.
    PastTextEnd,
    /// It falls inside one character: between the two halves (UTF-16 code units) of a
    /// surrogate pair, or inside a UTF-8 sequence. No text has a boundary there; it is rounded
    /// down to the character's start.
    InsideChar,
}

/// An LSP-style position: zero-based line and character within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub character: u32,
}

impl Pos {
    pub const fn new(line: u32, character: u32) -> Self {
        Pos { line, character }
    }
}

/// Line starts of one version of a text. After a change, bring it up to date
/// with [`LineIndex::update`] (or rebuild it with [`LineIndex::new`]).
#[derive(Clone, Debug)]
pub struct LineIndex {
    /// Byte offset of the start of each line; never empty, `starts[0] == 0`.
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text` in a single pass over its bytes.
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        LineIndex { starts }
    }

    /// Updates the index of the text before `edit` to the text after it (`text` is the new text),
    /// rescanning only the edited bytes: equal to `LineIndex::new(text)`.
    pub fn update(&mut self, text: &str, edit: &AppliedEdit) {
        // A line start p > 0 exists iff byte p-1 is `\n`, or a `\r` not followed by `\n`,
        // so it depends on bytes p-1 and p only. Starts p < start read old bytes only and
        // stay; starts p > new_end read bytes that came unchanged from old_end onwards and
        // are the old starts p - new_end + old_end > old_end, shifted; the starts in
        // start..=new_end come from rescanning bytes start-1..new_end of the new text.
        // (Normalizing the range only matters for an edit that did not come from
        // `apply_change`; it keeps `starts` sorted and nothing panicking.)
        let bytes = text.as_bytes();
        let start = edit.start;
        let old_end = edit.old_end.max(start);
        let new_end = edit.new_end.max(start);
        let scan_from = start.saturating_sub(1);
        let scan = bytes.get(scan_from..new_end.min(bytes.len())).unwrap_or_default();
        let fresh: Vec<usize> = (scan_from..)
            .zip(scan)
            .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
            .map(|(i, _)| i + 1)
            .collect();
        // Start 0 always stays (`max(1)`): the rescan never yields it.
        let keep = self.starts.partition_point(|&p| p < start.max(1));
        let tail = self.starts.partition_point(|&p| p <= old_end).max(keep);
        for p in &mut self.starts[tail..] {
            *p = *p - old_end + new_end;
        }
        self.starts.splice(keep..tail, fresh);
    }

    /// Number of lines; at least 1 (empty text has one empty line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte offset where `line` starts, if it exists.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).copied()
    }

    /// The line containing byte `offset` (offsets past the end: the last line).
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// Start offset and content (terminator stripped) of `line`. `None` if the
    /// line does not exist, or the index is stale for `text`.
    fn line_content<'t>(&self, text: &'t str, line: usize) -> Option<(usize, &'t str)> {
        let start = *self.starts.get(line)?;
        let next = self.starts.get(line + 1).map_or(text.len(), |&n| n.min(text.len()));
        let raw = text.get(start..next)?;
        let content = raw.strip_suffix('\n').unwrap_or(raw);
        Some((start, content.strip_suffix('\r').unwrap_or(content)))
    }

    /// Position -> byte offset. A line past the end clamps to the end of the
    /// text; a character past the end of the line clamps to the end of its
    /// content (before the terminator); a character inside a multi-byte char
    /// or a surrogate pair rounds down to the char's start. The flag is true
    /// iff any of that happened, i.e. `pos` named no exact char boundary.
    pub fn offset(&self, text: &str, pos: Pos, enc: Encoding) -> (usize, bool) {
        let (offset, fit) = self.locate(text, pos, enc);
        (offset, fit != Fit::Exact)
    }

    /// [`LineIndex::offset`], saying how `pos` fitted the text.
    pub fn locate(&self, text: &str, pos: Pos, enc: Encoding) -> (usize, Fit) {
        let Some((start, content)) = self.line_content(text, pos.line as usize) else {
            return (text.len(), Fit::PastTextEnd);
        };
        let want = pos.character as usize;
        let (col, fit) = match enc {
            Encoding::Utf8 => {
                let col = floor_char_boundary(content, want);
                let fit = match col == want {
                    true => Fit::Exact,
                    false if want > content.len() => Fit::PastLineEnd,
                    false => Fit::InsideChar,
                };
                (col, fit)
            }
            Encoding::Utf16 => utf16_to_byte_col(content, want),
        };
        (start + col, fit)
    }
    /// Byte offset -> position. An offset past the end clamps to the end; one
    /// inside a multi-byte char rounds down to its start; one between the
    /// `\r` and `\n` of a CRLF maps to the end of that line's content.
    pub fn position(&self, text: &str, offset: usize, enc: Encoding) -> Pos {
        let offset = floor_char_boundary(text, offset);
        let line = self.line_of(offset);
        let (start, content) = self.line_content(text, line).unwrap_or((offset, ""));
        let col = offset.saturating_sub(start).min(content.len());
        let character = match enc {
            Encoding::Utf8 => col,
            Encoding::Utf16 => content.get(..col).map_or(0, |s| s.chars().map(char::len_utf16).sum()),
        };
        Pos::new(line as u32, character as u32)
    }
}

/// Byte column of UTF-16 column `want` in `line`, rounded down to a char
/// boundary and clamped to the line's length, and how `want` fitted.
fn utf16_to_byte_col(line: &str, want: usize) -> (usize, Fit) {
    let mut units = 0;
    for (i, c) in line.char_indices() {
        let next = units + c.len_utf16();
        if next > want {
            return (i, if units == want { Fit::Exact } else { Fit::InsideChar });
        }
        units = next;
    }
    (line.len(), if units == want { Fit::Exact } else { Fit::PastLineEnd })
}

/// The largest char boundary of `s` that is `<= i` (`s.len()` if `i` is past it).
fn floor_char_boundary(s: &str, i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    (0..=i).rev().find(|&j| s.is_char_boundary(j)).unwrap_or(0)
}

/// The lines of `text`, each with its ending: a line ends at `\n`, `\r\n` or a lone `\r` (old
/// Mac), as Python's tokenizer and `str.splitlines` end them; the last line may have none.
pub fn lines_inclusive(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut end = start;
        while end < bytes.len() {
            end += 1;
            match bytes[end - 1] {
                b'\n' => break,
                b'\r' => {
                    if bytes.get(end) == Some(&b'\n') {
                        end += 1;
                    }
                    break;
                }
                _ => {}
            }
        }
        let line = &text[start..end];
        start = end;
        Some(line)
    })
}

/// A line of [`lines_inclusive`] as its content and its ending (`\n`, `\r\n`, `\r` or none).
pub fn split_ending(line: &str) -> (&str, &str) {
    let body = line.strip_suffix('\n').unwrap_or(line);
    let body = body.strip_suffix('\r').unwrap_or(body);
    (body, &line[body.len()..])
}

/// Where the line holding byte `at` starts: after the `\n`, `\r\n` or lone `\r` before it (an
/// offset inside a `\r\n` belongs to the line that `\r\n` ends).
pub fn line_start(text: &str, at: usize) -> usize {
    let mut at = floor_char_boundary(text, at);
    loop {
        match memchr::memrchr2(b'\n', b'\r', &text.as_bytes()[..at]) {
            // Between the `\r` and `\n` of a CRLF: the line is the one before.
            Some(i) if text.as_bytes()[i] == b'\r' && text.as_bytes().get(i + 1) == Some(&b'\n') => at = i,
            Some(i) => return i + 1,
            None => return 0,
        }
    }
}

/// Where the content of the line holding byte `at` ends: at its `\n`, `\r\n` or lone `\r`, or
/// at the end of the text.
pub fn line_end(text: &str, at: usize) -> usize {
    let at = floor_char_boundary(text, at);
    if text[..at].ends_with('\r') && text[at..].starts_with('\n') {
        return at - 1;
    }
    // memchr's two-byte search: `find` with a char pattern decodes each char (a thousand
    // instructions per line found, a tenth of a keystroke's `finish` with 295 findings).
    memchr::memchr2(b'\n', b'\r', &text.as_bytes()[at..]).map_or(text.len(), |i| at + i)
}

/// The terminator of the line holding byte `at` (`\n`, `\r\n` or `\r`); `\n` for a last line
/// without one.
pub fn line_ending(text: &str, at: usize) -> &'static str {
    let end = line_end(text, at);
    match text.as_bytes()[end..] {
        [b'\r', b'\n', ..] => "\r\n",
        [b'\r', ..] => "\r",
        _ => "\n",
    }
}

/// A text edit as applied: byte offsets and tree-sitter points, ready for
/// `tree_sitter::InputEdit` (`start`/`start_point` are the same in the old and
/// new text, `old_end*` are in the old text, `new_end*` in the new one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppliedEdit {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
    /// The range needed clamping, rounding or swapping (see [`LineIndex::offset`]).
    pub clamped: bool,
    /// Tree-sitter `(row, byte column)` points of `start`, `old_end`, `new_end`.
    pub start_point: (usize, usize),
    pub old_end_point: (usize, usize),
    pub new_end_point: (usize, usize),
}

/// Replaces the range `start..end` (positions in `enc`, resolved with
/// `index`, which must be the index of `text` before the change) by
/// `new_text`. Bad positions clamp as in [`LineIndex::offset`]; if the start
/// lies after the end the two are swapped. Afterwards bring `index` up to date
/// with [`LineIndex::update`] (or build a new [`LineIndex`]).
pub fn apply_change(
    text: &mut String,
    index: &LineIndex,
    start: Pos,
    end: Pos,
    new_text: &str,
    enc: Encoding,
) -> AppliedEdit {
    let (s, start_clamped) = index.offset(text, start, enc);
    let (e, end_clamped) = index.offset(text, end, enc);
    let swapped = s > e;
    let (s, e) = (s.min(e), s.max(e));
    let from = edit_start(text, s);
    let start_point = point_of(index, text, from);
    let old_end_point = point_of(index, text, e);
    text.replace_range(s..e, new_text);
    let new_end = s + new_text.len();
    let new_end_point = advance(start_point, &text.as_bytes()[from..new_end], text.as_bytes().get(new_end).copied());
    AppliedEdit {
        start: from,
        old_end: e,
        new_end,
        clamped: start_clamped || end_clamped || swapped,
        start_point,
        old_end_point,
        new_end_point,
    }
}

/// Where an edit of `text` at byte `s` starts for the tree: whether a `\r` just before it ends a
/// line depends on the byte after it (`\r\n` is one terminator), which the edit may change, so
/// the edit then starts at that `\r` and the tree relexes it. No byte after the edit changes
/// meaning (a `\r` depends on the next byte). [`apply_change`]'s `start`.
pub fn edit_start(text: &str, s: usize) -> usize {
    if s > 0 && text.as_bytes()[s - 1] == b'\r' { s - 1 } else { s }
}

/// Byte offset -> tree-sitter point `(row, byte column)` of the tree
/// `syntax::reparse` makes: rows are lines (a lone `\r` ends one). Offsets clamp
/// like [`LineIndex::position`].
pub fn point_of(index: &LineIndex, text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset);
    let row = index.line_of(offset);
    (row, offset - index.starts[row])
}

/// The point after `bytes` read from `point`, `next` being the byte after them (a `\r` before
/// a `\n` ends no line by itself).
fn advance(point: (usize, usize), bytes: &[u8], next: Option<u8>) -> (usize, usize) {
    let (mut row, mut column) = point;
    for (i, &b) in bytes.iter().enumerate() {
        let after = bytes.get(i + 1).copied().or(next);
        if b == b'\n' || (b == b'\r' && after != Some(b'\n')) {
            row += 1;
            column = 0;
        } else {
            column += 1;
        }
    }
    (row, column)
}

#[cfg(test)]
mod tests {
    use super::Encoding::{Utf8, Utf16};
    use super::*;
    use proptest::prelude::*;

    fn off(text: &str, line: u32, character: u32, enc: Encoding) -> (usize, bool) {
        LineIndex::new(text).offset(text, Pos::new(line, character), enc)
    }

    fn pos(text: &str, offset: usize, enc: Encoding) -> (u32, u32) {
        let p = LineIndex::new(text).position(text, offset, enc);
        (p.line, p.character)
    }

    fn change(text: &str, s: (u32, u32), e: (u32, u32), new: &str, enc: Encoding) -> (String, AppliedEdit) {
        let mut t = text.to_string();
        let edit = apply_change(&mut t, &LineIndex::new(text), Pos::new(s.0, s.1), Pos::new(e.0, e.1), new, enc);
        (t, edit)
    }

    #[test]
    fn line_starts_for_lf_crlf_and_lone_cr() {
        let idx = LineIndex::new("a\nb\r\nc\rd");
        assert_eq!(idx.line_count(), 4);
        let starts: Vec<_> = (0..5).map(|l| idx.line_start(l)).collect();
        assert_eq!(starts, [Some(0), Some(2), Some(5), Some(7), None]);
    }

    #[test]
    fn empty_text() {
        assert_eq!(LineIndex::new("").line_count(), 1);
        for enc in [Utf8, Utf16] {
            assert_eq!(off("", 0, 0, enc), (0, false));
            assert_eq!(off("", 0, 3, enc), (0, true));
            assert_eq!(off("", 1, 0, enc), (0, true));
            assert_eq!(pos("", 0, enc), (0, 0));
            assert_eq!(pos("", 5, enc), (0, 0));
        }
    }

    #[test]
    fn end_of_line() {
        let t = "abc\ndef";
        assert_eq!(off(t, 0, 3, Utf16), (3, false));
        assert_eq!(off(t, 0, 4, Utf16), (3, true));
        assert_eq!(off(t, 1, 3, Utf8), (7, false));
        assert_eq!(pos(t, 3, Utf16), (0, 3));
        assert_eq!(pos(t, 4, Utf16), (1, 0));
        assert_eq!(pos(t, 7, Utf8), (1, 3));
    }

    #[test]
    fn empty_line() {
        let t = "a\n\nb";
        assert_eq!(off(t, 1, 0, Utf16), (2, false));
        assert_eq!(off(t, 1, 1, Utf16), (2, true));
        assert_eq!(off(t, 2, 0, Utf16), (3, false));
        assert_eq!(pos(t, 2, Utf16), (1, 0));
    }

    #[test]
    fn empty_last_line_after_final_newline() {
        let t = "ab\n";
        assert_eq!(LineIndex::new(t).line_count(), 2);
        assert_eq!(off(t, 1, 0, Utf16), (3, false));
        assert_eq!(off(t, 2, 0, Utf16), (3, true));
        assert_eq!(pos(t, 3, Utf16), (1, 0));
    }

    #[test]
    fn crlf_terminators_are_not_content() {
        let t = "ab\r\ncd\r\n";
        assert_eq!(LineIndex::new(t).line_count(), 3);
        assert_eq!(off(t, 0, 2, Utf16), (2, false));
        assert_eq!(off(t, 0, 3, Utf8), (2, true));
        assert_eq!(off(t, 1, 0, Utf16), (4, false));
        assert_eq!(off(t, 2, 0, Utf16), (8, false));
        assert_eq!(pos(t, 2, Utf16), (0, 2));
        assert_eq!(pos(t, 3, Utf16), (0, 2)); // between \r and \n
        assert_eq!(pos(t, 4, Utf16), (1, 0));
        assert_eq!(pos(t, 8, Utf16), (2, 0));
    }

    #[test]
    fn lone_cr_ends_a_line() {
        let t = "a\rb\r";
        assert_eq!(LineIndex::new(t).line_count(), 3);
        assert_eq!(off(t, 0, 5, Utf16), (1, true));
        assert_eq!(off(t, 1, 1, Utf16), (3, false));
        assert_eq!(off(t, 2, 0, Utf16), (4, false));
        assert_eq!(pos(t, 2, Utf16), (1, 0));
        assert_eq!(pos(t, 4, Utf8), (2, 0));
    }

    #[test]
    fn cjk_counts_one_unit_in_utf16_and_three_bytes_in_utf8() {
        let t = "x概率y"; // 概 = 1..4, 率 = 4..7, y = 7
        assert_eq!(off(t, 0, 2, Utf16), (4, false));
        assert_eq!(off(t, 0, 3, Utf16), (7, false));
        assert_eq!(off(t, 0, 4, Utf8), (4, false));
        assert_eq!(off(t, 0, 8, Utf8), (8, false));
        assert_eq!(pos(t, 4, Utf16), (0, 2));
        assert_eq!(pos(t, 4, Utf8), (0, 4));
        assert_eq!(pos(t, 8, Utf16), (0, 4));
    }

    #[test]
    fn utf8_character_inside_a_multibyte_char_rounds_down() {
        assert_eq!(off("x概率y", 0, 2, Utf8), (1, true));
        assert_eq!(off("x概率y", 0, 6, Utf8), (4, true));
        assert_eq!(off("a🔥b", 0, 4, Utf8), (1, true));
    }

    #[test]
    fn astral_char_is_two_utf16_units_and_four_bytes() {
        let t = "a🔥b"; // 🔥 = 1..5, b = 5
        assert_eq!(off(t, 0, 1, Utf16), (1, false));
        assert_eq!(off(t, 0, 3, Utf16), (5, false));
        assert_eq!(off(t, 0, 4, Utf16), (6, false));
        assert_eq!(off(t, 0, 5, Utf16), (6, true));
        assert_eq!(off(t, 0, 5, Utf8), (5, false));
        assert_eq!(pos(t, 5, Utf16), (0, 3));
        assert_eq!(pos(t, 5, Utf8), (0, 5));
        assert_eq!(pos(t, 6, Utf16), (0, 4));
    }

    #[test]
    fn character_in_the_middle_of_a_surrogate_pair_rounds_down() {
        assert_eq!(off("a🔥b", 0, 2, Utf16), (1, true));
        assert_eq!(off("🔥🔥\n", 0, 3, Utf16), (4, true));
        assert_eq!(off("x\n🔥", 1, 1, Utf16), (2, true));
    }

    #[test]
    fn locate_says_how_a_position_fitted() {
        let at = |text: &str, line, character, enc| LineIndex::new(text).locate(text, Pos::new(line, character), enc);
        // Between the halves of a surrogate pair, and inside a 3-byte CJK character in UTF-8.
        assert_eq!(at("a🔥b\n", 0, 2, Utf16), (1, Fit::InsideChar));
        assert_eq!(at("a🔥b\n", 0, 3, Utf16), (5, Fit::Exact));
        assert_eq!(at("日本\n", 0, 1, Utf16), (3, Fit::Exact));
        assert_eq!(at("日本\n", 0, 1, Utf8), (0, Fit::InsideChar));
        assert_eq!(at("日本\n", 0, 5, Utf8), (3, Fit::InsideChar));
        assert_eq!(at("日本\n", 0, 6, Utf8), (6, Fit::Exact));
        // Past the end of a line, and past the last line.
        assert_eq!(at("日本\r\nx", 0, 7, Utf8), (6, Fit::PastLineEnd));
        assert_eq!(at("日本\r\nx", 0, 3, Utf16), (6, Fit::PastLineEnd));
        assert_eq!(at("日本\r\nx", 2, 0, Utf16), (9, Fit::PastTextEnd));
        assert_eq!(at("", 0, 0, Utf16), (0, Fit::Exact));
    }

    #[test]
    fn offset_inside_a_multibyte_char_rounds_down() {
        assert_eq!(pos("a🔥b", 2, Utf16), (0, 1));
        assert_eq!(pos("a🔥b", 4, Utf8), (0, 1));
        assert_eq!(pos("x概率y", 6, Utf16), (0, 2));
        assert_eq!(pos("x\n概", 3, Utf16), (1, 0));
    }

    #[test]
    fn out_of_range_line_and_character_clamp() {
        let t = "ab\n概\n";
        assert_eq!(off(t, 1, 1, Utf16), (6, false));
        assert_eq!(off(t, 1, 9, Utf16), (6, true));
        assert_eq!(off(t, 1, 99, Utf8), (6, true));
        assert_eq!(off(t, 3, 0, Utf16), (7, true));
        assert_eq!(off(t, u32::MAX, u32::MAX, Utf8), (7, true));
        assert_eq!(off(t, 0, u32::MAX, Utf16), (2, true));
        assert_eq!(pos(t, 999, Utf16), (2, 0));
        assert_eq!(pos("ab", usize::MAX, Utf8), (0, 2));
    }

    #[test]
    fn stale_index_does_not_panic() {
        let idx = LineIndex::new("概率\n概率\n概率");
        let t = "a🔥";
        assert_eq!(idx.offset(t, Pos::new(1, 1), Utf16), (5, true));
        assert_eq!(idx.position(t, 4, Utf16), Pos::new(0, 1));
        let _ = point_of(&idx, t, 3);
        let mut s = t.to_string();
        let edit = apply_change(&mut s, &idx, Pos::new(0, 1), Pos::new(2, 0), "", Utf16);
        assert_eq!((s.as_str(), edit.start, edit.old_end), ("a", 1, 5));
    }

    #[test]
    fn apply_change_inserts_at_a_position() {
        let (t, e) = change("ab\ncd", (1, 1), (1, 1), "XY", Utf16);
        assert_eq!(t, "ab\ncXYd");
        assert_eq!((e.start, e.old_end, e.new_end, e.clamped), (4, 4, 6, false));
        assert_eq!((e.start_point, e.old_end_point, e.new_end_point), ((1, 1), (1, 1), (1, 3)));
    }

    #[test]
    fn lines_end_at_lf_crlf_and_a_lone_cr() {
        let text = "a\nb\r\nc\rd\r\r\ne";
        let lines: Vec<&str> = lines_inclusive(text).collect();
        assert_eq!(lines, ["a\n", "b\r\n", "c\r", "d\r", "\r\n", "e"]);
        assert_eq!(lines.concat(), text);
        let split: Vec<(&str, &str)> = lines.iter().map(|l| split_ending(l)).collect();
        assert_eq!(split, [("a", "\n"), ("b", "\r\n"), ("c", "\r"), ("d", "\r"), ("", "\r\n"), ("e", "")]);
        assert_eq!(lines_inclusive("").count(), 0);
    }

    /// At every char boundary of texts with every line ending and multi-byte chars,
    /// [`line_start`] and [`line_end`] bound the line [`lines_inclusive`] puts it in (the end
    /// before the terminator; a byte of a terminator belongs to the line it ends).
    #[test]
    fn line_start_and_end_bound_the_line_of_every_offset() {
        for text in ["a\nb\r\nc\rd\r\r\ne", "", "\n", "\r\n\r\n", "概率\r🔥\n é\r\n", "x\r"] {
            let mut start = 0;
            for line in lines_inclusive(text) {
                let (body, _) = split_ending(line);
                for at in (start..start + line.len()).filter(|&at| text.is_char_boundary(at)) {
                    assert_eq!(line_start(text, at), start, "start of {at} in {text:?}");
                    assert_eq!(line_end(text, at), start + body.len(), "end of {at} in {text:?}");
                }
                start += line.len();
            }
            assert_eq!(line_end(text, text.len()), text.len(), "{text:?}");
        }
    }

    #[test]
    fn apply_change_deletes_across_lines() {
        let (t, e) = change("ab\r\ncd\r\nef", (0, 1), (2, 1), "", Utf16);
        assert_eq!(t, "af");
        assert_eq!((e.start, e.old_end, e.new_end, e.clamped), (1, 9, 1, false));
        assert_eq!((e.start_point, e.old_end_point, e.new_end_point), ((0, 1), (2, 1), (0, 1)));
    }

    #[test]
    fn apply_change_with_utf16_positions_after_an_astral_char() {
        let (t, e) = change("🔥概x", (0, 2), (0, 3), "率\n🔥", Utf16);
        assert_eq!(t, "🔥率\n🔥x");
        assert_eq!((e.start, e.old_end, e.new_end, e.clamped), (4, 7, 12, false));
        assert_eq!((e.start_point, e.old_end_point, e.new_end_point), ((0, 4), (0, 7), (1, 4)));
        let (t, _) = change("🔥概x", (0, 4), (0, 7), "", Utf8);
        assert_eq!(t, "🔥x");
    }

    #[test]
    fn apply_change_swaps_reversed_range_and_flags_it() {
        let (t, e) = change("abc\ndef", (1, 1), (0, 2), "-", Utf8);
        assert_eq!(t, "ab-ef");
        assert_eq!((e.start, e.old_end, e.new_end, e.clamped), (2, 5, 3, true));
    }

    #[test]
    fn apply_change_clamps_out_of_range_end() {
        let (t, e) = change("abc\ndef", (0, 0), (99, 0), "z", Utf16);
        assert_eq!(t, "z");
        assert_eq!((e.start, e.old_end, e.new_end, e.clamped), (0, 7, 1, true));
        let (t, e) = change("ab", (0, 9), (0, 9), "!", Utf16);
        assert_eq!((t.as_str(), e.start, e.clamped), ("ab!", 2, true));
    }

    #[test]
    fn point_of_counts_lines_as_rows() {
        let crlf = "a\r\nb";
        let idx = LineIndex::new(crlf);
        assert_eq!(point_of(&idx, crlf, 1), (0, 1));
        assert_eq!(point_of(&idx, crlf, 2), (0, 2));
        assert_eq!(point_of(&idx, crlf, 3), (1, 0));
        assert_eq!(point_of(&idx, crlf, 99), (1, 1));
        // The tree is parsed with a lone `\r` read as `\n` (`syntax::reparse`): it starts a row.
        let cr = "a\rb\n概";
        let idx = LineIndex::new(cr);
        assert_eq!(point_of(&idx, cr, 1), (0, 1));
        assert_eq!(point_of(&idx, cr, 2), (1, 0));
        assert_eq!(point_of(&idx, cr, 4), (2, 0));
        assert_eq!(point_of(&idx, cr, 6), (2, 0));
        assert_eq!(point_of(&idx, cr, 7), (2, 3));
    }

    #[test]
    fn line_bounds_and_endings_for_lf_crlf_and_lone_cr() {
        let t = "ab\ncd\r\nef\rgh";
        let starts: Vec<usize> = (0..=t.len()).map(|i| line_start(t, i)).collect();
        assert_eq!(starts, [0, 0, 0, 3, 3, 3, 3, 7, 7, 7, 10, 10, 10]);
        let ends: Vec<usize> = (0..=t.len()).map(|i| line_end(t, i)).collect();
        assert_eq!(ends, [2, 2, 2, 5, 5, 5, 5, 9, 9, 9, 12, 12, 12]);
        assert_eq!(
            (line_ending(t, 0), line_ending(t, 3), line_ending(t, 7), line_ending(t, 10)),
            ("\n", "\r\n", "\r", "\n")
        );
        assert_eq!(line_ending("x = 1", 0), "\n");
    }

    #[test]
    fn an_edit_after_a_lone_cr_starts_at_it() {
        // Inserting `\n` after a lone `\r` makes the two one terminator: the tree must relex
        // the `\r`, which read as a line end before the edit and no longer does.
        let (t, e) = change("a\rb", (1, 0), (1, 0), "\n", Utf8);
        assert_eq!(t, "a\r\nb");
        assert_eq!((e.start, e.old_end, e.new_end), (1, 2, 3));
        assert_eq!((e.start_point, e.old_end_point, e.new_end_point), ((0, 1), (1, 0), (1, 0)));
        // Deleting what stood between a `\r` and a `\n` joins them.
        let (t, e) = change("a\rx\nb", (1, 0), (1, 1), "", Utf8);
        assert_eq!(t, "a\r\nb");
        assert_eq!((e.start, e.old_end, e.new_end), (1, 3, 2));
        assert_eq!((e.start_point, e.old_end_point, e.new_end_point), ((0, 1), (1, 1), (0, 2)));
        // Elsewhere an edit starts where it was asked to.
        let (_, e) = change("a\r\nb", (0, 1), (0, 1), "x\r", Utf8);
        assert_eq!((e.start, e.start_point, e.new_end_point), (1, (0, 1), (1, 0)));
    }

    /// Applies an LSP edit to `text` and updates its index; checks the result
    /// against a fresh index and returns the new text and starts.
    fn updated(text: &str, s: (u32, u32), e: (u32, u32), new: &str) -> (String, Vec<usize>) {
        let mut idx = LineIndex::new(text);
        let mut t = text.to_string();
        let edit = apply_change(&mut t, &idx, Pos::new(s.0, s.1), Pos::new(e.0, e.1), new, Utf16);
        idx.update(&t, &edit);
        assert_eq!(idx.starts, LineIndex::new(&t).starts, "{text:?} -> {t:?}");
        (t, idx.starts)
    }

    /// Like [`updated`] but replaces the byte range `start..end` directly, which
    /// (unlike an LSP position) can split a `\r\n`.
    fn updated_bytes(text: &str, start: usize, end: usize, new: &str) -> (String, Vec<usize>) {
        let mut idx = LineIndex::new(text);
        let mut t = text.to_string();
        t.replace_range(start..end, new);
        let edit = AppliedEdit {
            start,
            old_end: end,
            new_end: start + new.len(),
            clamped: false,
            start_point: (0, 0),
            old_end_point: (0, 0),
            new_end_point: (0, 0),
        };
        idx.update(&t, &edit);
        assert_eq!(idx.starts, LineIndex::new(&t).starts, "{text:?} -> {t:?}");
        (t, idx.starts)
    }

    #[test]
    fn update_edits_at_offset_zero() {
        assert_eq!(updated("\nb", (0, 0), (0, 0), "\r"), ("\r\nb".into(), vec![0, 2]));
        assert_eq!(updated("\nb", (0, 0), (0, 0), "\n"), ("\n\nb".into(), vec![0, 1, 2]));
        assert_eq!(updated("\r\nb", (0, 0), (1, 0), "x"), ("xb".into(), vec![0]));
        assert_eq!(updated("a\nb", (0, 0), (0, 1), "\r"), ("\r\nb".into(), vec![0, 2]));
    }

    #[test]
    fn update_edits_at_the_end_of_the_text() {
        assert_eq!(updated("a\n", (1, 0), (1, 0), "x\r"), ("a\nx\r".into(), vec![0, 2, 4]));
        assert_eq!(updated("a\nb", (1, 1), (1, 1), "\n"), ("a\nb\n".into(), vec![0, 2, 4]));
        assert_eq!(updated("a\nb\n", (1, 0), (2, 0), ""), ("a\n".into(), vec![0, 2]));
    }

    #[test]
    fn update_deleting_or_replacing_the_whole_text() {
        assert_eq!(updated("a\r\nb\rc\n", (0, 0), (9, 0), "").1, vec![0]);
        assert_eq!(updated("a\r\nb\rc", (0, 0), (9, 0), "\n\r").1, vec![0, 1, 2]);
        assert_eq!(updated("", (0, 0), (0, 0), "\r\n\r").1, vec![0, 2, 3]);
    }

    #[test]
    fn update_inserting_lf_right_after_a_lone_cr() {
        // The start after the `\r` moves past the new `\n`.
        let (t, starts) = updated("a\rb", (1, 0), (1, 0), "\n");
        assert_eq!((t.as_str(), starts), ("a\r\nb", vec![0, 3]));
        let (t, starts) = updated("a\r", (1, 0), (1, 0), "\n");
        assert_eq!((t.as_str(), starts), ("a\r\n", vec![0, 3]));
        // Deleting what separates a `\r` from a `\n` joins them.
        assert_eq!(updated("\rx\n", (1, 0), (1, 1), "").1, vec![0, 2]);
    }

    #[test]
    fn update_replacing_halves_of_a_crlf() {
        assert_eq!(updated_bytes("a\r\nb", 2, 3, ""), ("a\rb".into(), vec![0, 2]));
        assert_eq!(updated_bytes("a\r\nb", 1, 2, ""), ("a\nb".into(), vec![0, 2]));
        assert_eq!(updated_bytes("a\r\nb", 2, 2, "x"), ("a\rx\nb".into(), vec![0, 2, 4]));
        assert_eq!(updated_bytes("a\r\nb", 2, 3, "\r"), ("a\r\rb".into(), vec![0, 2, 3]));
        assert_eq!(updated_bytes("a\r\nb", 1, 2, "\n"), ("a\n\nb".into(), vec![0, 2, 3]));
        assert_eq!(updated_bytes("\r\n", 1, 1, "\r\n\r"), ("\r\r\n\r\n".into(), vec![0, 1, 3, 5]));
    }

    #[test]
    fn update_after_clamped_or_swapped_edits() {
        // Reversed range, end past the text.
        assert_eq!(updated("a\r\nb\n", (9, 9), (0, 1), "\r"), ("a\r".into(), vec![0, 2]));
        // Start past the end of its line clamps to before the `\r\n`.
        assert_eq!(updated("ab\r\nc", (0, 9), (1, 0), "\n"), ("ab\nc".into(), vec![0, 3]));
    }

    #[test]
    fn update_keeps_point_of_exact_after_making_a_lone_cr() {
        let mut t = "ab\ncd".to_string();
        let mut idx = LineIndex::new(&t);
        let edit = apply_change(&mut t, &idx, Pos::new(0, 1), Pos::new(0, 1), "\r", Utf8);
        idx.update(&t, &edit);
        assert_eq!(point_of(&idx, &t, 5), (2, 1)); // "a\rb\nc|d": the lone `\r` starts row 1
    }

    // ---- property tests against a char-based reference ----

    fn text_strategy() -> impl Strategy<Value = String> {
        let alphabet = vec!['a', 'b', ' ', 'é', '概', '率', '🔥', '\r', '\n'];
        prop::collection::vec(prop::sample::select(alphabet), 0..40).prop_map(String::from_iter)
    }

    fn width(c: char, enc: Encoding) -> u32 {
        match enc {
            Utf8 => c.len_utf8() as u32,
            Utf16 => c.len_utf16() as u32,
        }
    }

    /// The text's lines as chars, each including its terminator.
    fn ref_lines(text: &str) -> Vec<Vec<char>> {
        let chars: Vec<char> = text.chars().collect();
        let mut lines = vec![vec![]];
        for (i, &c) in chars.iter().enumerate() {
            lines.last_mut().unwrap().push(c);
            if c == '\n' || (c == '\r' && chars.get(i + 1) != Some(&'\n')) {
                lines.push(vec![]);
            }
        }
        lines
    }

    /// Char index of `pos`, and whether it named an exact char boundary.
    fn ref_offset(lines: &[Vec<char>], pos: Pos, enc: Encoding) -> (usize, bool) {
        let total = lines.iter().map(Vec::len).sum();
        let Some(line) = lines.get(pos.line as usize) else {
            return (total, false);
        };
        let base: usize = lines[..pos.line as usize].iter().map(Vec::len).sum();
        let mut col = 0;
        for (i, &c) in line.iter().enumerate() {
            if c == '\r' || c == '\n' || col + width(c, enc) > pos.character {
                return (base + i, col == pos.character);
            }
            col += width(c, enc);
        }
        (base + line.len(), col == pos.character)
    }

    /// (byte offset, position) for every char boundary except inside a CRLF.
    fn ref_positions(text: &str, enc: Encoding) -> Vec<(usize, Pos)> {
        let (mut out, mut offset) = (vec![], 0);
        for (l, line) in ref_lines(text).iter().enumerate() {
            let mut col = 0;
            for (i, &c) in line.iter().enumerate() {
                if !(c == '\n' && i > 0 && line[i - 1] == '\r') {
                    out.push((offset, Pos::new(l as u32, col)));
                }
                col += width(c, enc);
                offset += c.len_utf8();
            }
            if !line.last().is_some_and(|&c| c == '\r' || c == '\n') {
                out.push((offset, Pos::new(l as u32, col)));
            }
        }
        out
    }

    /// Tree-sitter point of a byte offset, by counting `\n`s.
    /// The point tree-sitter gives `offset` in `text` with lone `\r`s read as `\n`s.
    fn ref_point(text: &str, offset: usize) -> (usize, usize) {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let (mut row, mut row_start) = (0, 0);
        for (k, &(i, c)) in chars.iter().enumerate().take_while(|(_, (i, _))| *i < offset) {
            let lone_cr = c == '\r' && chars.get(k + 1).is_none_or(|&(_, n)| n != '\n');
            if c == '\n' || lone_cr {
                row += 1;
                row_start = i + 1;
            }
        }
        (row, offset - row_start)
    }

    fn pos_strategy() -> impl Strategy<Value = Pos> {
        (0u32..12, 0u32..14).prop_map(|(l, c)| Pos::new(l, c))
    }

    #[test]
    fn reference_positions_are_as_expected() {
        let got = ref_positions("a\r\n🔥\r", Utf16);
        let want = [(0, (0, 0)), (1, (0, 1)), (3, (1, 0)), (7, (1, 2)), (8, (2, 0))];
        let want: Vec<_> = want.iter().map(|&(o, (l, c))| (o, Pos::new(l, c))).collect();
        assert_eq!(got, want);
    }

    /// Texts heavy in line terminators and multi-byte chars, for `update`.
    fn crlf_text_strategy(max: usize) -> impl Strategy<Value = String> {
        let alphabet = vec!['\r', '\r', '\r', '\n', '\n', '\n', 'a', 'a', 'é', '😀'];
        prop::collection::vec(prop::sample::select(alphabet), 0..max).prop_map(String::from_iter)
    }

    /// An LSP edit: start and end positions, replacement, whether UTF-16.
    fn lsp_edit_strategy() -> impl Strategy<Value = (Pos, Pos, String, bool)> {
        (0u32..8, 0u32..8, 0u32..8, 0u32..8, crlf_text_strategy(6), any::<bool>())
            .prop_map(|(sl, sc, el, ec, new, utf16)| (Pos::new(sl, sc), Pos::new(el, ec), new, utf16))
    }

    /// `updated` (the index of some text after an edit to `new`) equals a fresh index of `new`.
    fn same_as_fresh(updated: &LineIndex, new: &str) -> Result<(), TestCaseError> {
        prop_assert_eq!(&updated.starts, &LineIndex::new(new).starts);
        Ok(())
    }

    proptest! {
        #[test]
        fn position_and_offset_round_trip(text in text_strategy()) {
            let idx = LineIndex::new(&text);
            for enc in [Utf8, Utf16] {
                let expected = ref_positions(&text, enc);
                for &(o, p) in &expected {
                    prop_assert_eq!(idx.position(&text, o, enc), p);
                    prop_assert_eq!(idx.offset(&text, p, enc), (o, false));
                }
                let covered = expected.len() + text.matches("\r\n").count();
                prop_assert_eq!(covered, text.chars().count() + 1);
            }
        }

        #[test]
        fn every_offset_maps_to_the_position_of_its_boundary(
            text in text_strategy(), o in 0usize..200,
        ) {
            let idx = LineIndex::new(&text);
            let floor = (0..=o.min(text.len())).rev().find(|&j| text.is_char_boundary(j)).unwrap();
            let mut b = floor;
            if text[..b].ends_with('\r') && text[b..].starts_with('\n') { b -= 1; }
            for enc in [Utf8, Utf16] {
                let p = ref_positions(&text, enc).into_iter().find(|&(x, _)| x == b).unwrap().1;
                prop_assert_eq!(idx.position(&text, o, enc), p);
            }
            prop_assert_eq!(point_of(&idx, &text, o), ref_point(&text, floor));
        }

        #[test]
        fn apply_change_matches_char_reference(
            text in text_strategy(), s in pos_strategy(), e in pos_strategy(),
            new in text_strategy(), utf16 in any::<bool>(),
        ) {
            let enc = if utf16 { Utf16 } else { Utf8 };
            let lines = ref_lines(&text);
            let (a, a_exact) = ref_offset(&lines, s, enc);
            let (b, b_exact) = ref_offset(&lines, e, enc);
            let (lo, hi) = (a.min(b), a.max(b));
            let mut chars: Vec<char> = text.chars().collect();
            let byte = |i: usize| chars[..i].iter().map(|c| c.len_utf8()).sum::<usize>();
            let (start, old_end) = (byte(lo), byte(hi));
            chars.splice(lo..hi, new.chars());
            let expected = String::from_iter(&chars);

            let mut t = text.clone();
            let edit = apply_change(&mut t, &LineIndex::new(&text), s, e, &new, enc);
            prop_assert_eq!(&t, &expected);
            // An edit right after a `\r` starts at it (whether it ends a line may change).
            let from = if text[..start].ends_with('\r') { start - 1 } else { start };
            let got = (edit.start, edit.old_end, edit.new_end);
            prop_assert_eq!(got, (from, old_end, start + new.len()));
            prop_assert_eq!(edit.clamped, !a_exact || !b_exact || a > b);
            prop_assert_eq!(edit.start_point, ref_point(&text, from));
            prop_assert_eq!(edit.old_end_point, ref_point(&text, old_end));
            prop_assert_eq!(edit.new_end_point, ref_point(&t, edit.new_end));
        }

        #[test]
        fn update_matches_a_fresh_index(text in crlf_text_strategy(24), (s, e, new, utf16) in lsp_edit_strategy()) {
            let enc = if utf16 { Utf16 } else { Utf8 };
            let mut idx = LineIndex::new(&text);
            let mut t = text.clone();
            let edit = apply_change(&mut t, &idx, s, e, &new, enc);
            idx.update(&t, &edit);
            same_as_fresh(&idx, &t)?;
        }

        #[test]
        fn update_matches_a_fresh_index_for_raw_byte_edits(
            text in crlf_text_strategy(24), a in 0usize..100, b in 0usize..100, new in crlf_text_strategy(6),
        ) {
            // Any char boundaries, including the middle of a `\r\n`.
            let at = |x: usize| floor_char_boundary(&text, x);
            let (start, end) = (at(a.min(b)), at(a.max(b)));
            let (t, starts) = updated_bytes(&text, start, end, &new);
            same_as_fresh(&LineIndex { starts }, &t)?;
        }

        #[test]
        fn update_over_a_sequence_of_edits(
            text in crlf_text_strategy(24), edits in prop::collection::vec(lsp_edit_strategy(), 1..8),
        ) {
            let mut idx = LineIndex::new(&text);
            let mut t = text;
            for (s, e, new, utf16) in edits {
                let enc = if utf16 { Utf16 } else { Utf8 };
                // The updated index must resolve positions as a fresh one does.
                let (mut expected, fresh_before) = (t.clone(), LineIndex::new(&t));
                let expected_edit = apply_change(&mut expected, &fresh_before, s, e, &new, enc);
                let edit = apply_change(&mut t, &idx, s, e, &new, enc);
                prop_assert_eq!(&t, &expected);
                prop_assert_eq!(edit, expected_edit);
                idx.update(&t, &edit);
                prop_assert_eq!(&idx.starts, &LineIndex::new(&t).starts);
            }
        }
    }
}
