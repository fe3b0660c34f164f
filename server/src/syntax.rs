//! The tree: parsing Python with tree-sitter, source positions, and the small helpers every
//! layer above uses to read nodes (their text, a call's arguments, parentheses).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Parser, Tree};

pub fn language() -> tree_sitter::Language {
    tree_sitter_python::LANGUAGE.into()
}

/// Declares [`Fields`] and [`FIELD`]: one id per field name the layers above read.
macro_rules! fields {
    ($($field:ident = $name:literal),* $(,)?) => {
        /// tree-sitter-python's field ids, each looked up once. `Node::child_by_field_name` looks
        /// its name up in the grammar's field table (a string comparison per field) on every
        /// call; `node.child_by_field_id(FIELD.left)` does not.
        pub struct Fields {
            $(pub $field: u16,)*
        }

        pub static FIELD: LazyLock<Fields> = LazyLock::new(|| {
            let language = language();
            let id = |name: &str| {
                language
                    .field_id_for_name(name)
                    .unwrap_or_else(|| panic!("tree-sitter-python has no field `{name}`"))
                    .get()
            };
            Fields { $($field: id($name),)* }
        });

        #[cfg(test)]
        impl Fields {
            /// Each id with the name it was looked up by.
            fn named(&self) -> Vec<(u16, &'static str)> {
                vec![$((self.$field, $name),)*]
            }
        }
    };
}

fields! {
    alias = "alias",
    alternative = "alternative",
    argument = "argument",
    arguments = "arguments",
    attribute = "attribute",
    body = "body",
    condition = "condition",
    consequence = "consequence",
    definition = "definition",
    function = "function",
    left = "left",
    module_name = "module_name",
    name = "name",
    object = "object",
    operator = "operator",
    parameters = "parameters",
    right = "right",
    subscript = "subscript",
    superclasses = "superclasses",
    type_ = "type",
    value = "value",
}

/// tree-sitter-python's node kinds by id, each looked up once.
static KINDS: LazyLock<Vec<Box<str>>> = LazyLock::new(|| {
    let language = language();
    (0..language.node_kind_count() as u16).map(|id| language.node_kind_for_id(id).unwrap_or_default().into()).collect()
});

/// A node's kind from [`KINDS`]. `Node::kind` measures the grammar's C string and checks that
/// it is UTF-8 on every call, some 4 % of the instructions of a keystroke's analysis; the walks
/// above ask it of every node they pass.
pub trait KindName<'t> {
    /// The same text as `Node::kind`.
    fn kind_name(&self) -> &'t str;
}

impl<'t> KindName<'t> for Node<'t> {
    fn kind_name(&self) -> &'t str {
        match KINDS.get(usize::from(self.kind_id())) {
            Some(kind) => kind,
            // `ERROR` and the other built-in ids lie past the table.
            None => self.kind(),
        }
    }
}

pub fn parser() -> Parser {
    let mut parser = Parser::new();
    parser.set_language(&language()).expect("the bundled Python grammar matches the tree-sitter version");
    parser
}

/// Parses Python source. Tree-sitter recovers from syntax errors, so this always yields a tree.
pub fn parse(src: &str) -> Tree {
    reparse(src, None)
}

/// Parses `src`, reusing `old` (already `Tree::edit`ed to match `src`) when given. Uses one
/// parser per thread: making a parser costs more than a small incremental reparse.
///
/// A lone `\r` ends a line for Python (universal newlines) and for the LSP, but tree-sitter
/// starts rows only at `\n`, and tree-sitter-python reads a lone `\r` as whitespace inside a
/// line: a file with old Mac line endings parsed as it is would be one line. So a text with a
/// lone `\r` is parsed from a copy where each lone `\r` is a `\n`. The two have the same
/// length, so every byte offset of the tree holds for `src`, and its rows are the lines of
/// [`crate::text::LineIndex`] (`\n`, `\r\n` and lone `\r` each end one).
///
/// A NUL byte is read as a space in that copy: tree-sitter's lexer takes a NUL for the end of
/// the input, so the rest of its line (or of the file) was lost to one error. Python refuses
/// any source holding one; `check` reports it (NL000) and checks the rest.
pub fn reparse(src: &str, old: Option<&Tree>) -> Tree {
    thread_local! {
        static PARSER: RefCell<Parser> = RefCell::new(parser());
    }
    let copy;
    let src = match has_lone_cr(src) || src.as_bytes().contains(&0) {
        true => {
            copy = as_parsed(src);
            copy.as_str()
        }
        false => src,
    };
    let parsed = PARSER.with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.parse(src, old)));
    parsed.unwrap_or_else(|| {
        parser().parse(src, old).expect("parsing without a timeout or cancellation flag always returns a tree")
    })
}

/// `src` holds a `\r` not followed by `\n`.
pub fn has_lone_cr(src: &str) -> bool {
    let bytes = src.as_bytes();
    // `contains` is a fast memchr; the exact check runs only on texts with a `\r`.
    bytes.contains(&b'\r') && bytes.iter().enumerate().any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
}

/// `src` as [`reparse`] gives it to tree-sitter: each lone `\r` replaced by `\n` and each NUL
/// by a space (same length, same offsets).
pub fn as_parsed(src: &str) -> String {
    let bytes = src.as_bytes();
    let out: Vec<u8> = bytes
        .iter()
        .enumerate()
        .map(|(i, &b)| match b {
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => b'\n',
            0 => b' ',
            _ => b,
        })
        .collect();
    // Only an ASCII byte was replaced by another: still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| src.to_string())
}

/// A zero-based row and a zero-based *byte* column, as tree-sitter reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Point {
    pub row: usize,
    pub column: usize,
}

impl From<tree_sitter::Point> for Point {
    fn from(p: tree_sitter::Point) -> Self {
        Point { row: p.row, column: p.column }
    }
}

/// A source range in bytes, with the points of both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start_byte: usize,
    pub end_byte: usize,
    pub start: Point,
    pub end: Point,
}

impl Span {
    pub fn shift(&mut self, bytes: isize, rows: isize) {
        self.start_byte = self.start_byte.saturating_add_signed(bytes);
        self.end_byte = self.end_byte.saturating_add_signed(bytes);
        self.start.row = self.start.row.saturating_add_signed(rows);
        self.end.row = self.end.row.saturating_add_signed(rows);
    }

    pub fn of(node: Node) -> Self {
        Span {
            start_byte: node.start_byte(),
            end_byte: node.end_byte(),
            start: node.start_position().into(),
            end: node.end_position().into(),
        }
    }

    pub fn contains(&self, other: &Span) -> bool {
        self.start_byte <= other.start_byte && other.end_byte <= self.end_byte
    }
}

/// The source text of a node (empty if the node lies outside `src`).
pub fn text<'s>(node: Node, src: &'s str) -> &'s str {
    src.get(node.byte_range()).unwrap_or("")
}

/// Whether byte `byte` lies inside a string literal of the tree (after its opening quote and
/// before its closing one): a `#` written there is text, not a comment.
pub fn inside_string(root: Node, byte: usize) -> bool {
    let mut node = root.descendant_for_byte_range(byte, byte);
    while let Some(n) = node {
        if n.kind_name() == "string" {
            return n.start_byte() < byte && byte < n.end_byte();
        }
        node = n.parent();
    }
    false
}

/// Where the comment ending a line of the source starts (a byte of the source): `line` is the
/// line's text (its terminator excluded), starting at byte `start`; the comment is the tree's
/// `comment` node holding its last non-blank byte. A `#` inside a string is text, also on a line
/// a multi-line string continues onto (`"""...` above, `# noqa` on this line); a `#` after such
/// a string closes on the line starts a comment.
pub fn line_comment(root: Node, line: &str, start: usize) -> Option<usize> {
    // A comment holds its `#` on its own line: without one, no tree to search.
    memchr::memchr(b'#', line.as_bytes())?;
    let last = start + line.trim_end().len().checked_sub(1)?;
    let node = root.descendant_for_byte_range(last, last + 1)?;
    (node.kind_name() == "comment" && node.start_byte() >= start).then(|| node.start_byte())
}

/// The expression inside any number of parentheses: `((x))` → `x`.
/// The definition inside a possibly decorated one.
pub fn definition(node: Node) -> Node {
    if node.kind_name() == "decorated_definition" {
        node.child_by_field_id(FIELD.definition).unwrap_or(node)
    } else {
        node
    }
}

pub fn unparenthesized(mut node: Node) -> Node {
    while node.kind_name() == "parenthesized_expression" {
        match node.named_child(0) {
            Some(inner) if node.named_child_count() == 1 => node = inner,
            _ => break,
        }
    }
    node
}

/// The name a callee ends in: `log` for `np.log`, `x.log` and `log`.
pub fn callee_name<'s>(function: Node, src: &'s str) -> Option<&'s str> {
    match function.kind_name() {
        "attribute" => function.child_by_field_id(FIELD.attribute).map(|a| text(a, src)),
        "identifier" => Some(text(function, src)),
        _ => None,
    }
}

/// The function node of a call, if `node` is a call.
pub fn call_function(node: Node) -> Option<Node> {
    (node.kind_name() == "call").then(|| node.child_by_field_id(FIELD.function)).flatten()
}

/// Positional and keyword arguments of a call.
#[derive(Clone, Debug, Default)]
pub struct Args<'t> {
    pub positional: Vec<Node<'t>>,
    /// (keyword name node, value node)
    pub keyword: Vec<(Node<'t>, Node<'t>)>,
    /// A `*args` or `**kwargs` is present: positions after it are unknown.
    pub splat: bool,
}

impl<'t> Args<'t> {
    pub fn of(call: Node<'t>) -> Args<'t> {
        let mut args = Args::default();
        let Some(list) = call.child_by_field_id(FIELD.arguments) else {
            return args;
        };
        let mut cursor = list.walk();
        for arg in list.named_children(&mut cursor) {
            match arg.kind_name() {
                "keyword_argument" => {
                    if let (Some(k), Some(v)) = (arg.child_by_field_id(FIELD.name), arg.child_by_field_id(FIELD.value))
                    {
                        args.keyword.push((k, v));
                    }
                }
                "list_splat" | "dictionary_splat" => args.splat = true,
                "comment" => {}
                _ => args.positional.push(arg),
            }
        }
        args
    }

    /// The argument at `position` (`usize::MAX`: keyword only), or passed by one of `keywords`.
    pub fn get(&self, position: usize, keywords: &[&str], src: &str) -> Option<Node<'t>> {
        self.positional.get(position).copied().or_else(|| self.keyword(keywords, src))
    }

    /// The value of the first of `keywords` passed by keyword.
    pub fn keyword(&self, keywords: &[&str], src: &str) -> Option<Node<'t>> {
        self.keyword.iter().find(|(k, _)| keywords.contains(&text(*k, src))).map(|(_, v)| *v)
    }

    pub fn is_empty(&self) -> bool {
        self.positional.is_empty() && self.keyword.is_empty() && !self.splat
    }
}

thread_local! {
    /// Steps [`ancestry`] took on this thread, and steps up through recorded parents
    /// ([`count_steps_up`]), for [`crate::engine::Stats`].
    static ANCESTOR_STEPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Nodes [`visit`] walked on this thread, for [`crate::engine::Stats`].
    static NODES_WALKED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The nodes [`visit`] has walked on this thread so far.
pub fn nodes_walked() -> usize {
    NODES_WALKED.with(std::cell::Cell::get)
}

/// The steps [`ancestry`] has taken on this thread so far.
pub fn ancestor_steps() -> usize {
    ANCESTOR_STEPS.with(std::cell::Cell::get)
}

/// Counts `n` steps from a node to its parent taken without a descent (through parents the
/// model recorded), with [`ancestry`]'s.
pub fn count_steps_up(n: usize) {
    ANCESTOR_STEPS.with(|c| c.set(c.get() + n));
}

/// The chain of nodes from `root` down to `node` (both included), found in one descent:
/// tree-sitter nodes do not store their parent, and each `Node::parent` call descends from the
/// root itself.
pub fn ancestry<'t>(root: Node<'t>, node: Node<'t>) -> Vec<Node<'t>> {
    descend(root, node, None)
}

/// [`ancestry`], with the first step below `root` already found (`Some(step)`) or not.
fn descend<'t>(root: Node<'t>, node: Node<'t>, mut first: Option<Option<Node<'t>>>) -> Vec<Node<'t>> {
    let mut chain = vec![root];
    let mut at = root;
    while at != node {
        ANCESTOR_STEPS.with(|n| n.set(n.get() + 1));
        match first.take().unwrap_or_else(|| at.child_with_descendant(node)) {
            Some(child) if child != at => {
                chain.push(child);
                at = child;
            }
            _ => {
                // Not found below `at` (seen in deep error recovery): end the chain with the node
                // itself, so callers that skip it still see only its ancestors.
                chain.push(node);
                break;
            }
        }
    }
    chain
}

/// Whether `node` binds names of its own, seen by the code inside it: a function, a lambda, a
/// class body, a comprehension.
pub fn binds_names(node: Node) -> bool {
    matches!(
        node.kind_name(),
        "function_definition"
            | "lambda"
            | "class_definition"
            | "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression"
    )
}

/// The chain from `scope` down to the statement that holds byte `at`: the blocks and compound
/// statements on the way, then that statement (or the header expression of a compound one);
/// never the expressions inside it. Bindings reach by statements, and an expression can be
/// thousands of levels deep (a sum of 3,000 terms): a descent to the smallest node at `at` cost
/// time in proportion to that depth, at every use asked about.
pub fn statements_holding<'t>(scope: Node<'t>, at: usize) -> Vec<Node<'t>> {
    let mut chain = vec![scope];
    let mut node = scope;
    loop {
        ANCESTOR_STEPS.with(|n| n.set(n.get() + 1));
        let Some(child) = node.first_child_for_byte(at).filter(|c| c.start_byte() <= at) else { break };
        chain.push(child);
        if !matches!(
            child.kind_name(),
            "block"
                | "module"
                | "ERROR"
                | "if_statement"
                | "for_statement"
                | "while_statement"
                | "try_statement"
                | "with_statement"
                | "match_statement"
                | "function_definition"
                | "class_definition"
                | "decorated_definition"
                | "elif_clause"
                | "else_clause"
                | "except_clause"
                | "except_group_clause"
                | "finally_clause"
                | "case_clause"
        ) {
            break;
        }
        node = child;
    }
    chain
}

/// `parent.child_with_descendant(node)`, by tree-sitter's rule (`ts_node_child_with_descendant`),
/// found by binary search in `children`, every child of `parent` in order: the first child that
/// ends at or after `node` and is `node` or has children, unless it starts after `node`. An empty
/// `node` is left to tree-sitter (its rule differs).
pub fn child_holding<'t>(parent: Node<'t>, children: &[Node<'t>], node: Node<'t>) -> Option<Node<'t>> {
    let (start, end) = (node.start_byte(), node.end_byte());
    if start == end {
        return parent.child_with_descendant(node);
    }
    let first = children.partition_point(|c| c.end_byte() < end);
    let child = children[first..].iter().find(|c| **c == node || c.child_count() > 0)?;
    (child.start_byte() <= start).then_some(*child)
}

/// The root's children in order, to find the one that holds a node by binary search.
/// tree-sitter nodes do not store their parent: `Node::parent` and [`ancestry`] descend from the
/// root through each node's children one by one, and a module's root holds a child per
/// statement (some 300 in a 5,000-line file), the longest list of the descent; a `Node::parent`
/// call there cost some 9,500 instructions, 6 % of a whole file's check.
pub struct TopLevel<'t> {
    root: Node<'t>,
    children: Vec<Node<'t>>,
}

impl<'t> TopLevel<'t> {
    pub fn new(root: Node<'t>) -> Self {
        let mut cursor = root.walk();
        TopLevel { root, children: root.children(&mut cursor).collect() }
    }

    /// `root.child_with_descendant(node)` ([`child_holding`]).
    fn child_holding(&self, node: Node<'t>) -> Option<Node<'t>> {
        child_holding(self.root, &self.children, node)
    }

    /// `node.parent()`, as tree-sitter finds it (`ts_node_parent`).
    pub fn parent(&self, node: Node<'t>) -> Option<Node<'t>> {
        if node == self.root {
            return None;
        }
        let mut at = self.root;
        let mut next = self.child_holding(node);
        while let Some(child) = next.filter(|c| *c != node) {
            at = child;
            next = at.child_with_descendant(node);
        }
        Some(at)
    }

    /// `ancestry(root, node)`.
    pub fn ancestry(&self, node: Node<'t>) -> Vec<Node<'t>> {
        descend(self.root, node, Some(self.child_holding(node)))
    }

    /// The root's children in order, named and anonymous (`root.children(..)`).
    pub fn children(&self) -> &[Node<'t>] {
        &self.children
    }
}

/// The identifier-like words of `text` (maximal runs of identifier bytes not starting with a
/// digit) with their offsets plus `base`.
pub(crate) fn identifiers(text: &str, base: usize) -> impl Iterator<Item = (usize, &str)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if ident_byte(bytes[i]) {
                let start = i;
                while i < bytes.len() && ident_byte(bytes[i]) {
                    i += 1;
                }
                if !bytes[start].is_ascii_digit() {
                    // Identifier bytes include all non-ASCII bytes, so the run ends on a char boundary.
                    return Some((base + start, &text[start..i]));
                }
            } else {
                i += 1;
            }
        }
        None
    })
}

/// `word` (an identifier) occurs in `text` as a whole word: one of the [`identifiers`] of `text`
/// is `word`. Found with `memchr`'s substring search, each occurrence checked for identifier
/// bytes on either side.
pub(crate) fn contains_word(text: &str, word: &str) -> bool {
    !word.is_empty() && whole_word_in(text, word.len(), memchr::memmem::find_iter(text.as_bytes(), word.as_bytes()))
}

/// One of `occurrences` (offsets in `text` of a word `len` bytes long) has no identifier byte
/// on either side.
fn whole_word_in(text: &str, len: usize, mut occurrences: impl Iterator<Item = usize>) -> bool {
    let b = text.as_bytes();
    occurrences.any(|at| (at == 0 || !ident_byte(b[at - 1])) && b.get(at + len).is_none_or(|&c| !ident_byte(c)))
}

/// A set of identifiers to look for, as whole words, in many texts: [`Words::in_text`] is
/// [`contains_word`] of any of them. A few words are each searched for with a substring
/// searcher built once (building it was a third of a search through a short text); more are
/// looked up one by one in a pass over the text's identifiers.
#[derive(Clone, Default)]
pub(crate) struct Words {
    /// Sorted, without duplicates or empty words.
    words: Vec<String>,
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl Words {
    /// Past this many words, one pass over the identifiers is cheaper than a search per word.
    const FEW: usize = 4;

    pub(crate) fn new<S: Into<String>>(words: impl IntoIterator<Item = S>) -> Words {
        let mut words: Vec<String> = words.into_iter().map(Into::into).filter(|w| !w.is_empty()).collect();
        words.sort();
        words.dedup();
        let finders = if words.len() <= Self::FEW {
            words.iter().map(|w| memchr::memmem::Finder::new(w.as_bytes()).into_owned()).collect()
        } else {
            Vec::new()
        };
        Words { words, finders }
    }

    /// These words and `more`.
    pub(crate) fn with(&self, more: &Words) -> Words {
        Words::new(self.words.iter().chain(&more.words).cloned())
    }

    /// One of the words is one of the [`identifiers`] of `text`.
    pub(crate) fn in_text(&self, text: &str) -> bool {
        if self.words.len() <= Self::FEW {
            self.finders.iter().any(|f| whole_word_in(text, f.needle().len(), f.find_iter(text.as_bytes())))
        } else {
            identifiers(text, 0).any(|(_, w)| self.words.binary_search_by(|x| x.as_str().cmp(w)).is_ok())
        }
    }
}

/// The numeric literals of `text` (decimal integers and floats, with their `_` separators,
/// exponent and imaginary `j`) with their offsets plus `base`, found in the text rather than the
/// tree: a number inside a string or comment is taken too. Digits that continue an identifier
/// (`x1e5`) or a hexadecimal, octal or binary literal (`0x1e`) are not a literal of their own.
pub(crate) fn numeric_literals(text: &str, base: usize) -> impl Iterator<Item = (usize, &str)> {
    let bytes = text.as_bytes();
    let digit = move |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_digit() || (b == b'.' && digit(i + 1)) {
                let start = i;
                let digits = |mut i: usize| {
                    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                        i += 1;
                    }
                    i
                };
                i = digits(i);
                if bytes.get(i) == Some(&b'.') {
                    i = digits(i + 1);
                }
                if matches!(bytes.get(i), Some(b'e' | b'E')) {
                    let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
                    if digit(i + 1 + sign) {
                        i = digits(i + 1 + sign);
                    }
                }
                if matches!(bytes.get(i), Some(b'j' | b'J')) {
                    i += 1;
                }
                return Some((base + start, &text[start..i]));
            } else if let Some(c) = text[i..].chars().next().filter(|c| continues_name(*c)) {
                i += c.len_utf8();
                while let Some(c) = text[i..].chars().next().filter(|c| continues_name(*c)) {
                    i += c.len_utf8();
                }
            } else {
                // A character that continues no name: ASCII punctuation, or a space tree-sitter
                // skips (U+00A0, U+3000, U+FEFF), which may come right before a literal.
                i += text[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
        None
    })
}

/// A character that continues a name for [`numeric_literals`]: ASCII letters, digits and `_`,
/// and letters and digits beyond ASCII. (Python's rule, XID_Continue, also takes combining
/// marks; one taken for a separator here can only make a literal of the digits after it, an
/// extra place to query.)
fn continues_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && c.is_alphanumeric())
}

/// The value of a numeric literal as [`numeric_literals`] finds it (`1E-10`, `0.000_000_01`,
/// `1e-10j` for its imaginary part), if it is a number.
/// Runs on every number of every function analyzed: a copy is made only to drop `_` separators.
pub(crate) fn numeric_value(literal: &str) -> Option<f64> {
    let number = literal.trim_end_matches(['j', 'J']);
    if number.contains('_') { number.replace('_', "").parse().ok() } else { number.parse().ok() }
}

/// Names of the functions and methods `text` defines (for rules anchored on local calls): each
/// identifier that follows the keyword `def`, found in the text rather than the tree. That may
/// also take a `def` in a string or comment, an extra trigger word, which widens where the
/// queries look and changes no finding; it takes every function, also one defined in a loop.
/// (Walking the tree for them was 3 ms of each keystroke outside a function on a 5,000-line
/// file; scanning the text is a tenth of that.)
///
/// The keyword is found with `memchr`'s substring search rather than by splitting the whole text
/// into words (which was 7 % of a class-level keystroke's instructions on that file).
pub(crate) fn defined_names(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut names = Vec::new();
    for at in memchr::memmem::find_iter(b, b"def") {
        // `def` as a word of its own: not inside `undef_x` or `define`.
        if (at > 0 && ident_byte(b[at - 1])) || b.get(at + 3).is_some_and(|&c| ident_byte(c)) {
            continue;
        }
        let mut i = at + 3;
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\\' | b'\r' | b'\n') {
            i += 1;
        }
        let start = i;
        while i < b.len() && ident_byte(b[i]) {
            i += 1;
        }
        // Identifier bytes include all non-ASCII bytes, so the run ends on a char boundary.
        if start < i && !b[start].is_ascii_digit() {
            names.push(text[start..i].to_string());
        }
    }
    names
}

/// Bytes that continue a Python identifier; non-ASCII bytes count, as identifiers may be Unicode.
fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii()
}

/// Visits `node` and the nodes under it in document order, each before its children;
/// `visit` says whether to go into the children of the node it is given.
pub fn visit<'t>(node: Node<'t>, mut visit: impl FnMut(Node<'t>) -> bool) {
    let mut cursor = node.walk();
    'walk: loop {
        NODES_WALKED.with(|n| n.set(n.get() + 1));
        if visit(cursor.node()) && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
}

/// Kinds that open a new scope for names.
pub fn is_scope(kind: &str) -> bool {
    matches!(kind, "function_definition" | "lambda" | "class_definition")
}

/// True when `node` or any descendant is a comment (a rewrite of it would drop the comment).
pub fn has_comment(node: Node) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "comment" {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.children(&mut cursor));
    }
    false
}

/// Statements Python 3 refuses but tree-sitter-python parses without an error. Indentation its
/// error recovery accepts without an `ERROR` node (its scanner keeps a statement indented deeper
/// than its block in that block, and gives a body that is not indented an empty `block`), for
/// which Python raises `IndentationError` or `TabError`: the
/// [tokenizer](https://docs.python.org/3/reference/lexical_analysis.html#indentation) compares
/// every logical line's indentation with the stack of enclosing blocks' levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused<'t> {
    /// A statement indented deeper than every level open before it, where no block starts
    /// (`unexpected indent`).
    Unexpected(Node<'t>),
    /// A statement indented to a level no enclosing block has (`unindent does not match any
    /// outer indentation level`).
    Unindent(Node<'t>),
    /// A statement whose indentation compares one way with its block's level when a tab counts
    /// to the next multiple of 8 columns and another way when it counts as 1 (`inconsistent use
    /// of tabs and spaces in indentation`, a `TabError`).
    Tabs(Node<'t>),
    /// A compound statement or clause (`def`, `if`, `else:` ...) whose body holds no statement
    /// (`expected an indented block`); in a notebook, also one whose body starts in a later
    /// cell (IPython runs each cell on its own).
    EmptyBody(Node<'t>),
    /// Python 2's `print x` or `exec code`, which tree-sitter-python still parses (`print >>f, x`
    /// is left alone: Python 3 parses it as a tuple).
    Python2(Node<'t>),
    /// A block's first line that would open a hundredth level of indentation (`too many levels
    /// of indentation`: CPython's tokenizer holds at most 100 levels, the module's included,
    /// `MAXINDENT` in `Parser/tokenizer.h`). tree-sitter-python parses some 500 levels.
    TooDeep(Node<'t>),
    /// A `try` with neither `except` nor `finally` (`expected 'except' or 'finally' block`), and
    /// the byte where CPython reports it: the start of the first line of code after the `try`'s
    /// body (its `else:`, or the next statement), or of the file's last line.
    NoHandler(Node<'t>, usize),
    /// An assignment expression (`p := f(x)`, the `named_expression`) without the parentheses
    /// CPython's grammar wants where it stands: a statement of its own, the right of `=`, a
    /// `return`, a keyword argument... (`invalid syntax`). tree-sitter-python takes one wherever
    /// an expression goes. See [`refused_walruses`].
    Walrus(Node<'t>),
    /// In a notebook, a statement that starts in one cell and ends in a later one: a bracket,
    /// a string or a backslash continuation left open at the cell's end, or a decorator whose
    /// `def` is in the next cell. IPython compiles each cell on its own, so the cell's end is
    /// the end of its program (`'(' was never closed`, `unterminated triple-quoted string
    /// literal`); joined, the cells parse as one statement. See [`statements_across_cells`].
    AcrossCells(Node<'t>),
}

/// A line's indentation as CPython's tokenizer counts it (`Parser/tokenizer.c`): `col` with a
/// tab taking the column to the next multiple of 8, `alt` with a tab as one column; a form feed
/// sets both back to 0. Two lines whose `col`s and `alt`s compare differently mix tabs and
/// spaces inconsistently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Indent {
    col: usize,
    alt: usize,
}

impl Indent {
    const MODULE: Indent = Indent { col: 0, alt: 0 };
}

/// The statements of `root` (a module) Python 3 would refuse (their indentation, Python 2's
/// `print` and `exec` statements), in source order. Reads the statements and their bodies only,
/// not expressions, with a stack (a tree can be nested 100,000 deep). Nothing in a tree holding
/// a syntax error: its recovery can move the statements after the error into another block (a
/// comment at column 0 inside brackets ends the function for tree-sitter-python), and Python
/// stops at the first error anyway. A statement that does not start its line (after `;`, or a
/// body on its header's line, or on a line a backslash continues) has no indentation of its
/// own.
///
/// `cell_end`: the comment line that ends each cell when `root` is a notebook's cells joined.
/// The module's own statements are then not compared (IPython removes the indentation of a
/// cell's first line from the cell before running it, so a cell indented as a whole runs), and
/// a body that starts after that line is a body its header's cell lacks.
pub fn refused_statements<'t>(root: Node<'t>, src: &str, cell_end: Option<&str>) -> Vec<Refused<'t>> {
    let mut out = Vec::new();
    if root.has_error() {
        return out;
    }
    // Containers of statements: the module and every `block`; the level its statements must
    // share (`None`: the first statement that starts a line sets it); the levels of the lines
    // that opened it, innermost (its header's) first.
    let mut pending: Vec<Container<'t>> = vec![(root, Some(Indent::MODULE), None)];
    while let Some((container, mut level, enclosing)) = pending.pop() {
        let compared = !(cell_end.is_some() && container == root);
        let mut cursor = container.walk();
        let mut reported = false;
        // A statement before in this container a backslash continues (`if x: \`, or a body's
        // first line that is only `\`): tree-sitter-python then takes the block's level from
        // the continued line, and can put the block's later statements after it, in this
        // container, where their levels say nothing of Python's blocks.
        let mut after_continuation = false;
        let mut previous = None;
        for statement in container.named_children(&mut cursor) {
            if statement.kind_name() == "comment" {
                continue;
            }
            let continued = statement.children(&mut statement.walk()).any(|k| k.kind_name() == "line_continuation");
            let follows_continuation = after_continuation;
            after_continuation |= continued;
            let chevron = |s: Node| s.named_child(0).is_some_and(|c| c.kind_name() == "chevron");
            if statement.kind_name() == "exec_statement"
                || (statement.kind_name() == "print_statement" && !chevron(statement))
            {
                out.push(Refused::Python2(statement));
            }
            if let Some(at) = handlerless_try(statement, src) {
                out.push(Refused::NoHandler(statement, at));
            }
            let own = indentation(statement, src);
            let mut refused_here = false;
            if !reported
                && compared
                && !follows_continuation
                && let Some(indent) = own
            {
                let verdict = match level {
                    None => {
                        level = Some(indent);
                        opening(statement, indent, enclosing.as_deref())
                    }
                    Some(l) => compare(statement, indent, l, enclosing.as_deref(), previous, src),
                };
                refused_here = verdict.is_some();
                // Each later line of the statement (`elif:`, `else:`, `except:`, `finally:`, a
                // decorated `def`) is a logical line of the same level. (The bodies before a
                // refused one were opened from an accepted line: still compared.)
                let verdict = verdict.or_else(|| {
                    let level = level?;
                    parts(statement).find_map(|part| {
                        let indent = indentation(part, src)?;
                        let before = std::iter::successors(part.prev_named_sibling(), |p| p.prev_named_sibling())
                            .find(|p| p.kind_name() != "comment");
                        compare(part, indent, level, enclosing.as_deref(), before, src)
                    })
                });
                if let Some(verdict) = verdict {
                    out.push(verdict);
                    reported = true;
                }
            }
            // A body opened from a line refused above is compared within itself only: its first
            // line's level against a header Python never accepted says nothing more.
            let header = if refused_here {
                None
            } else {
                own.or(level).map(|level| Rc::new(Enclosing { level, up: enclosing.clone() }))
            };
            bodies(statement, header, src, cell_end, &mut pending, &mut out);
            previous = Some(statement);
        }
    }
    if let Some(marker) = cell_end {
        let across = statements_across_cells(root, src, marker, &out);
        out.extend(across);
    }
    first_per_program(&mut out, src, cell_end);
    out.sort_by_key(|r| r.node().start_byte());
    out
}

/// The statements of a notebook's joined cells (`root`) that hold the end of a cell, the line
/// `marker` ([`Refused::AcrossCells`]), once each. A marker line is a comment; one between two
/// statements of the module or of a block ends a cell between statements (a block's statements
/// after it run in the next cell, which IPython dedents as a whole); anywhere else (inside a
/// call's arguments, a string, a line a backslash continues, between a decorator and its
/// `def`) it ends a cell inside a statement. A marker between a header's `:` and its body is
/// the empty body `found` holds already ([`Refused::EmptyBody`]).
fn statements_across_cells<'t>(root: Node<'t>, src: &str, marker: &str, found: &[Refused<'t>]) -> Vec<Refused<'t>> {
    let mut out: Vec<Refused<'t>> = Vec::new();
    for at in memchr::memmem::find_iter(src.as_bytes(), marker.as_bytes()) {
        let Some(node) = root.descendant_for_byte_range(at, at + marker.len()) else { continue };
        let between_statements =
            node.kind_name() == "comment" && node.parent().is_some_and(|p| matches!(p.kind_name(), "module" | "block"));
        if between_statements {
            continue;
        }
        let empty_body = found
            .iter()
            .any(|r| matches!(r, Refused::EmptyBody(header) if header.start_byte() <= at && at < header.end_byte()));
        if empty_body {
            continue;
        }
        // Up to the statement holding it: the node whose parent is the module or a block.
        let mut statement = node;
        while let Some(parent) = statement.parent() {
            if matches!(parent.kind_name(), "module" | "block") {
                break;
            }
            statement = parent;
        }
        if statement != root && !out.iter().any(|r| r.node() == statement) {
            out.push(Refused::AcrossCells(statement));
        }
    }
    out
}

/// The assignment expressions of `root` CPython refuses for want of parentheses
/// ([`Refused::Walrus`]), in source order; nothing in a tree holding a syntax error (as
/// [`refused_statements`]). Found from each `:=` of the text (one in a string or a comment is
/// no `:=` token of the tree), not by walking the tree.
///
/// CPython's grammar (`Grammar/python.gram`) takes an unparenthesized `named_expression` only as
/// the condition of `if`, `elif` and `while`, an element of a list, set or parenthesized tuple
/// display, a positional argument, a subscript (3.10+), a decorator (3.9+), a `match` subject, a
/// `case` guard, and the element of a list or set comprehension or generator expression. Listed
/// here are the places tree-sitter-python parses one that CPython refuses, checked with
/// `compile()`: anything else is taken as valid (a finding here takes the file's fixes away).
/// An f-string's `{p := 1}` is valid Python (`p` formatted with the spec `= 1`), and left alone.
pub fn refused_walruses<'t>(root: Node<'t>, src: &str) -> Vec<Refused<'t>> {
    let mut out = Vec::new();
    if root.has_error() {
        return out;
    }
    for at in memchr::memmem::find_iter(src.as_bytes(), b":=") {
        let Some(operator) = root.descendant_for_byte_range(at, at + 2) else { continue };
        let Some(walrus) =
            operator.parent().filter(|p| operator.kind_name() == ":=" && p.kind_name() == "named_expression")
        else {
            continue;
        };
        if walrus_refused_in(walrus) {
            out.push(Refused::Walrus(walrus));
        }
    }
    out
}

/// Whether CPython refuses the unparenthesized assignment expression `walrus` where it stands.
fn walrus_refused_in(walrus: Node) -> bool {
    let Some(mut parent) = walrus.parent() else { return false };
    // `y := 1 if c else 2` is CPython's `y := (1 if c else 2)`; tree-sitter-python makes the
    // walrus the first part of the conditional, so the whole conditional stands where CPython's
    // walrus does (`k = (y := 1 if c else 2)` is valid).
    let mut node = walrus;
    while parent.kind_name() == "conditional_expression" && parent.named_child(0) == Some(node) {
        node = parent;
        let Some(up) = parent.parent() else { return false };
        parent = up;
    }
    // An unparenthesized tuple (`x = 1, p := 2`, `return a, p := 1`) is refused where the tuple
    // stands; in an f-string's `{a, p := 1}` it is a format spec again.
    if parent.kind_name() == "expression_list" {
        let Some(up) = parent.parent() else { return false };
        parent = up;
    }
    match parent.kind_name() {
        // A comprehension's condition; a `case` guard is another `if_clause`, and valid.
        "if_clause" => parent.parent().is_some_and(|p| p.kind_name() != "case_clause"),
        // `with (a := f(), b := g()):` is a parenthesized tuple to CPython, and valid; a bare
        // `with a := f():` is not (`as` makes an `as_pattern`, refused below).
        "with_item" => !parent
            .parent()
            .is_some_and(|c| c.kind_name() == "with_clause" && c.child(0).is_some_and(|t| t.kind() == "(")),
        kind => matches!(
            kind,
            "expression_statement"
                | "assignment"
                | "augmented_assignment"
                | "type_alias_statement"
                | "return_statement"
                | "delete_statement"
                | "raise_statement"
                | "assert_statement"
                | "yield"
                | "keyword_argument"
                | "default_parameter"
                | "typed_default_parameter"
                | "type"
                | "lambda"
                | "conditional_expression"
                | "boolean_operator"
                | "not_operator"
                | "named_expression"
                | "pair"
                | "slice"
                | "list_splat"
                | "dictionary_splat"
                | "for_statement"
                | "for_in_clause"
                | "as_pattern"
                | "except_clause"
                | "except_group_clause"
        ),
    }
}

/// Keeps, of the indentation refusals, the one CPython meets first in each program it compiles
/// (the file, or each cell of a notebook): it stops there, and what it would say of the lines
/// after depends on how that line is mended. CPython meets a line's indentation (`TabError`,
/// `unindent`, `unexpected indent`) when it reaches the line, and an empty body when it reaches
/// the first line of code after the header, after that line's own indentation.
fn first_per_program(out: &mut Vec<Refused>, src: &str, cell_end: Option<&str>) {
    let cell_ends: Vec<usize> = match cell_end {
        Some(marker) => memchr::memmem::find_iter(src.as_bytes(), marker.as_bytes()).collect(),
        None => Vec::new(),
    };
    let program = |r: &Refused| cell_ends.partition_point(|&end| end < r.node().start_byte());
    let met_at = |r: &Refused| match r {
        Refused::EmptyBody(header) => (next_code_line(src, header.start_byte()), 1),
        // After the body it follows, even an empty one.
        Refused::NoHandler(_, at) => (*at, 2),
        other => (other.node().start_byte() - other.node().start_position().column, 0),
    };
    let mut first: Vec<Option<(usize, (usize, u8))>> = Vec::new();
    for (i, r) in out.iter().enumerate() {
        if matches!(r, Refused::Python2(_)) {
            continue;
        }
        let p = program(r);
        if first.len() <= p {
            first.resize(p + 1, None);
        }
        let at = met_at(r);
        if first[p].is_none_or(|(_, best)| at < best) {
            first[p] = Some((i, at));
        }
    }
    let mut keep: Vec<bool> = out.iter().map(|r| matches!(r, Refused::Python2(_))).collect();
    for (i, _) in first.into_iter().flatten() {
        keep[i] = true;
    }
    let mut kept = keep.into_iter();
    out.retain(|_| kept.next().unwrap_or(false));
}

/// Where CPython reports a `try` statement that has neither `except` nor `finally` (see
/// [`Refused::NoHandler`]); `None` for any other statement.
fn handlerless_try(statement: Node, src: &str) -> Option<usize> {
    if statement.kind_name() != "try_statement" {
        return None;
    }
    let mut cursor = statement.walk();
    let handled = statement
        .named_children(&mut cursor)
        .any(|c| matches!(c.kind_name(), "except_clause" | "except_group_clause" | "finally_clause"));
    if handled {
        return None;
    }
    let body = statement.child_by_field_id(FIELD.body)?;
    let next = next_code_line(src, body.end_byte().saturating_sub(1).max(body.start_byte()));
    if next < src.len() {
        return Some(next);
    }
    // At the end of the file CPython points at its last line.
    let last = src.trim_end_matches(['\n', '\r', ' ', '\t', '\x0c']);
    Some(last.rfind(['\n', '\r']).map_or(0, |n| n + 1))
}

/// The start of the first line after the one holding `at` that holds code (not blank, not only a
/// comment); the end of `src` when none does.
fn next_code_line(src: &str, at: usize) -> usize {
    let mut start = src[at..].find('\n').map_or(src.len(), |n| at + n + 1);
    while start < src.len() {
        let end = src[start..].find('\n').map_or(src.len(), |n| start + n + 1);
        let code = src[start..end].trim_start_matches([' ', '\t', '\x0c']).trim_end();
        if !code.is_empty() && !code.starts_with('#') {
            return start;
        }
        start = end;
    }
    src.len()
}

impl<'t> Refused<'t> {
    /// The statement refused (for an empty body, its header).
    pub fn node(&self) -> Node<'t> {
        match *self {
            Refused::Unexpected(n)
            | Refused::Unindent(n)
            | Refused::Tabs(n)
            | Refused::TooDeep(n)
            | Refused::EmptyBody(n)
            | Refused::Python2(n)
            | Refused::NoHandler(n, _)
            | Refused::Walrus(n)
            | Refused::AcrossCells(n) => n,
        }
    }
}

/// What Python says of `statement`, which tree-sitter put in a block of level `level` after
/// `previous`, at `indent`. The tokenizer's stack there holds the block's level and, above it,
/// the levels of the blocks `previous` ends with (its body, that body's last statement's body
/// ...): deeper than all of them is an indent where no block starts; between two of them is a
/// dedent to no level; at one of them, or at the block's level, the tab-as-one count must agree.
fn compare<'t>(
    statement: Node<'t>,
    indent: Indent,
    level: Indent,
    enclosing: Option<&Enclosing>,
    previous: Option<Node>,
    src: &str,
) -> Option<Refused<'t>> {
    if indent.col < level.col {
        return dedent(statement, indent, enclosing);
    }
    if indent.col == level.col {
        // The block's level (the levels opened after it are deeper): no walk of `previous`.
        return (indent.alt != level.alt).then_some(Refused::Tabs(statement));
    }
    let mut open = vec![level];
    open.extend(previous.map(|p| ending_levels(p, src)).unwrap_or_default().into_iter().filter(|l| l.col > level.col));
    let deepest = *open.last().unwrap_or(&level);
    if indent.col > deepest.col {
        // The tokenizer's stack: the enclosing headers' levels, the block's, those after it.
        if enclosing.map_or(0, |e| e.levels().count()) + open.len() >= MAX_LEVELS {
            return Some(Refused::TooDeep(statement));
        }
        return Some(if indent.alt <= deepest.alt { Refused::Tabs(statement) } else { Refused::Unexpected(statement) });
    }
    match open.iter().find(|l| l.col == indent.col) {
        None => Some(Refused::Unindent(statement)),
        Some(l) if l.alt != indent.alt => Some(Refused::Tabs(statement)),
        // A level tree-sitter-python's scanner counts otherwise (it adds 8 for a tab wherever it
        // is): no verdict.
        Some(_) => None,
    }
}

/// A container of statements to compare (the module or a `block`), the level its statements
/// must share (`None`: the first that starts a line sets it), and the levels of the lines that
/// opened it.
type Container<'t> = (Node<'t>, Option<Indent>, Option<Rc<Enclosing>>);

/// The levels of the lines that opened a block and the blocks around it: its header's, then
/// the header's block's header's, and so on (the tokenizer's stack below the block's level).
struct Enclosing {
    level: Indent,
    up: Option<Rc<Enclosing>>,
}

impl Enclosing {
    /// Innermost first; at most 100 ([`MAX_LEVELS`]: CPython's tokenizer refuses deeper
    /// indentation, [`Refused::TooDeep`]), so that a dedent past them gets no verdict.
    fn levels(&self) -> impl Iterator<Item = Indent> + '_ {
        std::iter::successors(Some(self), |e| e.up.as_deref()).map(|e| e.level).take(MAX_LEVELS)
    }
}

/// How many levels of indentation CPython's tokenizer holds, the module's included (`MAXINDENT`
/// in `Parser/tokenizer.h`): a line that would open one more is refused.
const MAX_LEVELS: usize = 100;

/// What Python says of a block's first line, at `indent`, under its header's level (the first of
/// `enclosing`): it opens a level when deeper both ways, a tab counted as 8 columns and as 1,
/// unless the levels open (the enclosing headers') are already [`MAX_LEVELS`]; the tokenizer
/// checks that first.
fn opening<'t>(statement: Node<'t>, indent: Indent, enclosing: Option<&Enclosing>) -> Option<Refused<'t>> {
    let enclosing = enclosing?;
    let header = enclosing.level;
    if indent.col > header.col {
        if enclosing.levels().count() >= MAX_LEVELS {
            return Some(Refused::TooDeep(statement));
        }
        (indent.alt <= header.alt).then_some(Refused::Tabs(statement))
    } else if indent.col == header.col {
        (indent.alt != header.alt).then_some(Refused::Tabs(statement))
    } else {
        dedent(statement, indent, Some(enclosing))
    }
}

/// What Python says of a line at `indent`, less deep than the block tree-sitter kept it in (it
/// counts a tab after spaces as 8 more columns, Python to the next multiple of 8): the tokenizer
/// leaves each level of `enclosing` deeper than the line, and the level it stops at must be the
/// line's, both ways. At that level exactly, nothing to say (the two parses differ from there).
fn dedent<'t>(statement: Node<'t>, indent: Indent, enclosing: Option<&Enclosing>) -> Option<Refused<'t>> {
    let stop = enclosing?.levels().find(|l| l.col <= indent.col)?;
    if stop.col != indent.col {
        Some(Refused::Unindent(statement))
    } else {
        (stop.alt != indent.alt).then_some(Refused::Tabs(statement))
    }
}

/// The levels of the blocks `statement` ends with, outermost first: its last body's, that
/// body's last statement's last body's, and so on (what the tokenizer's stack holds on the line
/// after it). A body on its header's line opens no level.
fn ending_levels(statement: Node, src: &str) -> Vec<Indent> {
    let mut levels = Vec::new();
    // A clause's part before it can be a body itself (`if`'s, before `else:`).
    let mut next = if statement.kind_name() == "block" { Some(statement) } else { last_named_non_comment(statement) };
    while let Some(last) = next {
        let kind = last.kind_name();
        if kind == "block" {
            let Some(first) = first_named_non_comment(last) else { break };
            let Some(level) = indentation(first, src) else { break };
            levels.push(level);
            next = last_named_non_comment(last).and_then(last_named_non_comment);
        } else if kind.ends_with("_clause") || kind.ends_with("_definition") {
            next = last_named_non_comment(last);
        } else {
            break;
        }
    }
    levels
}

/// The parts of a statement after its first line that start lines of their own at its level:
/// its clauses (`elif`, `else`, `except`, `finally`), and a decorated definition's later
/// decorators and `def` or `class` line.
fn parts<'t>(statement: Node<'t>) -> impl Iterator<Item = Node<'t>> {
    let mut cursor = statement.walk();
    let children: Vec<Node<'t>> = statement.named_children(&mut cursor).collect();
    children.into_iter().skip(1).filter(|c| {
        let kind = c.kind_name();
        kind.ends_with("_clause") || kind.ends_with("_definition") || kind == "decorator"
    })
}

fn last_named_non_comment(node: Node) -> Option<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).filter(|c| c.kind_name() != "comment").last()
}

fn first_named_non_comment(node: Node) -> Option<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).find(|c| c.kind_name() != "comment")
}

/// Queues the bodies (`block`s) of `statement` and of its clauses, opened from the level
/// `header`, and reports those holding no statement, or (with `cell_end`) whose first statement
/// is in a later cell than the `:` before it.
fn bodies<'t>(
    statement: Node<'t>,
    header: Option<Rc<Enclosing>>,
    src: &str,
    cell_end: Option<&str>,
    pending: &mut Vec<Container<'t>>,
    out: &mut Vec<Refused<'t>>,
) {
    let mut stack = vec![statement];
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            let kind = child.kind_name();
            if kind == "block" {
                let empty = match first_named_non_comment(child) {
                    None => true,
                    Some(first) => cell_end.is_some_and(|marker| {
                        // Comments after the `:` can be the header's children, before the block.
                        let mut colon = child.prev_sibling();
                        while let Some(c) = colon.filter(|c| matches!(c.kind_name(), "comment" | "line_continuation")) {
                            colon = c.prev_sibling();
                        }
                        let colon = colon.map_or(node.start_byte(), |c| c.end_byte());
                        // A header a backslash continues into the cell's end is another
                        // error of CPython's (`unexpected EOF while parsing`).
                        src.get(colon..first.start_byte()).is_some_and(|between| {
                            between.lines().any(|line| line.trim_end() == marker)
                                && !between.lines().any(|line| line.trim_end().ends_with('\\'))
                        })
                    }),
                };
                if empty {
                    out.push(Refused::EmptyBody(node));
                }
                pending.push((child, None, header.clone()));
            } else if kind.ends_with("_clause") || kind.ends_with("_definition") || kind.ends_with("_statement") {
                stack.push(child);
            }
        }
    }
}

/// The indentation of `node` when it is the first thing on its line and the indentation before
/// it is spaces, tabs and form feeds only.
fn indentation(node: Node, src: &str) -> Option<Indent> {
    let start = node.start_byte();
    let column = node.start_position().column;
    let before = src.get(start - column..start)?;
    // A line the one before continues with a backslash is no new logical line: Python joins
    // them, and the statement has no indentation of its own (`a = 1; \` then `    b = 2`).
    let previous = src.get(..start - column)?;
    let previous = previous.strip_suffix('\n').unwrap_or(previous);
    // A statement that starts with a backslash (tree-sitter-python puts a line holding only `\`
    // into the statement after it) is a logical line joined across lines: CPython's verdict
    // depends on what it joins (a blank line after it makes the whole a blank line).
    if previous.strip_suffix('\r').unwrap_or(previous).ends_with('\\') || src[start..].starts_with('\\') {
        return None;
    }
    let mut indent = Indent::MODULE;
    for b in before.bytes() {
        match b {
            b' ' => (indent.col, indent.alt) = (indent.col + 1, indent.alt + 1),
            b'\t' => (indent.col, indent.alt) = ((indent.col / 8 + 1) * 8, indent.alt + 1),
            b'\x0c' => indent = Indent::MODULE,
            _ => return None,
        }
    }
    Some(indent)
}

/// Source text for a message or title: one line, at most 40 characters.
pub fn short(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= 40 { flat } else { format!("{}…", flat.chars().take(39).collect::<String>()) }
}

/// Two expressions spell the same thing, ignoring whitespace, comments and outer parentheses.
pub fn same_expression(a: Node, b: Node, src: &str) -> bool {
    let (a, b) = (unparenthesized(a), unparenthesized(b));
    a.kind_name() == b.kind_name() && squashed(a, src) == squashed(b, src)
}

/// The text of `node` without its whitespace: the key under which [`same_expression`] finds two
/// spellings of one expression equal.
pub fn squashed(node: Node, src: &str) -> String {
    text(node, src).chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
pub(crate) mod tests {

    /// The word-by-word reading `defined_names` replaced: each identifier that follows the word
    /// `def` across only blanks and line continuations.
    fn defined_names_by_words(text: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut after_def = None;
        for (at, word) in identifiers(text, 0) {
            if let Some(end) = after_def.take()
                && text[end..at].bytes().all(|b| matches!(b, b' ' | b'\t' | b'\\' | b'\r' | b'\n'))
            {
                names.push(word.to_string());
            }
            if word == "def" {
                after_def = Some(at + word.len());
            }
        }
        names
    }

    #[test]
    fn defined_names_reads_as_the_word_by_word_scan() {
        let texts = [
            "def f(x):\n    def g(): pass\n",
            "def def x",
            "define = 1\nundef_y = 2\nx.def_ = 3\n1def z\n",
            "def \\\n  h(): ...\ndef\r\nk(): ...",
            "def 1x(): pass\ndef (): pass\ndef",
            "def é(): pass\nédef f(): pass\n# def in_comment\ns = 'def in_string'\n",
            "async def a(): ...\n\tdef\tb(): ...",
        ];
        for text in texts {
            assert_eq!(super::defined_names(text), defined_names_by_words(text), "{text:?}");
        }
        assert_eq!(super::defined_names("def f(): pass\ndef g(): pass"), ["f", "g"]);
    }
    use super::*;

    #[test]
    fn contains_word_is_a_search_of_the_identifiers() {
        let texts = [
            "import numpy as npx\nnp.log(x)",
            "np",
            "xnp np_ npé énp 1np np1 (np)",
            "a.np\tnp\r\n",
            "",
            "概率np np概率",
        ];
        for text in texts {
            for word in ["np", "npx", "x", "log", "概率", "a"] {
                let by_words = identifiers(text, 0).any(|(_, w)| w == word);
                assert_eq!(contains_word(text, word), by_words, "{word:?} in {text:?}");
            }
        }
        assert!(contains_word("1np np", "np") && !contains_word("1np", "np"));
    }

    /// [`Words::in_text`] is [`contains_word`] of any of its words, with few words (a searcher
    /// per word) and with many (a pass over the identifiers).
    #[test]
    fn words_in_a_text_are_whole_words_of_it() {
        let texts = ["import numpy as npx\nnp.log(x)", "xnp np_ npé énp 1np np1 (np)", "", "概率np np概率", "a.b"];
        let sets: [&[&str]; 5] = [
            &["np"],
            &["npx", "", "npx"],
            &["x", "log", "概率", "q"],
            &["tf", "torch", "jnp", "np", "F", "nn"],
            &["a", "b", "c", "d", "e", "f", "g"],
        ];
        let mut found = 0;
        for words in sets {
            let set = Words::new(words.iter().copied());
            for text in texts {
                let expected = words.iter().any(|w| contains_word(text, w));
                assert_eq!(set.in_text(text), expected, "{words:?} in {text:?}");
                found += usize::from(expected);
            }
        }
        assert!(found >= 6, "{found}");
    }

    #[test]
    fn numeric_literals_are_the_integers_and_floats_tree_sitter_finds() {
        // Decimal literals only: `0x1e` is one integer for tree-sitter and `0` for the scan.
        let src = "a = 1E-10 + 0.0000000001 - .5e+3 * 5. + 1_000.000_1e-0_8\n\
                   b = x1e5 + y_2 + 7j + 1.5J + 3e2j + f(2)[3] + 1if c else 2\n\
                   c = 1e-10.real + 10e + 0 + 00 + é3 + 1.e5\n";
        let tree = parse(src);
        let mut nodes = Vec::new();
        let mut stack = vec![tree.root_node()];
        while let Some(n) = stack.pop() {
            if matches!(n.kind_name(), "integer" | "float") {
                nodes.push((n.start_byte(), &src[n.byte_range()]));
            }
            let mut cursor = n.walk();
            stack.extend(n.children(&mut cursor));
        }
        nodes.sort();
        let scanned: Vec<(usize, &str)> = numeric_literals(src, 0).collect();
        // `10e` is the integer 10 followed by the name `e` (a syntax error tree-sitter reads
        // otherwise); compare the rest with the tree.
        let ok = |s: &&str| *s != "10";
        assert_eq!(
            scanned.iter().map(|(_, s)| *s).filter(ok).collect::<Vec<_>>(),
            nodes.iter().map(|(_, s)| *s).filter(ok).collect::<Vec<_>>()
        );
        let values: Vec<Option<f64>> = scanned.iter().take(5).map(|(_, s)| numeric_value(s)).collect();
        assert_eq!(values, [Some(1e-10), Some(1e-10), Some(500.0), Some(5.0), Some(1000.0001e-8)]);
        assert_eq!(numeric_value("3e2j"), Some(300.0));
        // After a space tree-sitter skips but Rust's identifier bytes took: a literal. After a
        // letter beyond ASCII, still part of a name.
        for space in ["\u{a0}", "\u{3000}", "\u{200b}", "\u{feff}", "\u{2060}"] {
            let src = format!("y = x +{space}1e-10");
            assert_eq!(numeric_literals(&src, 0).map(|(_, l)| l).collect::<Vec<_>>(), ["1e-10"], "{src:?}");
        }
        assert_eq!(numeric_literals("é1e-10 + 概2", 0).map(|(_, l)| l).collect::<Vec<_>>(), ["10"]);
    }

    /// 514 nested `if`s: past tree-sitter-python's indentation limit, recovered as errors.
    pub fn deep_ifs() -> String {
        let mut src = String::from("import torch\n\ndef f(p):\n pass\n");
        for i in 0..514 {
            src.push_str(&" ".repeat(i + 1));
            src.push_str("if p:\n");
        }
        src.push_str(&" ".repeat(515));
        src.push_str("q = torch.log(p)\n");
        src
    }

    #[test]
    fn each_field_id_is_the_grammars_id_for_its_name() {
        let language = language();
        let named = FIELD.named();
        assert!(named.len() > 20);
        for (id, name) in named {
            assert_eq!(language.field_name_for_id(id), Some(name), "field id {id}");
        }
        // Read through an id, a binary operator's sides are its operands.
        let src = "a = left + right\n";
        let tree = parse(src);
        let sum = tree.root_node().descendant_for_byte_range(4, 16).unwrap();
        assert_eq!(sum.kind_name(), "binary_operator");
        let side = |id| sum.child_by_field_id(id).map(|n| &src[n.byte_range()]);
        assert_eq!(
            (side(FIELD.left), side(FIELD.operator), side(FIELD.right)),
            (Some("left"), Some("+"), Some("right"))
        );
    }

    /// The (row, column) of the call `name(` in the tree of `src`.
    fn call_point(src: &str, name: &str) -> (usize, usize) {
        let tree = parse(src);
        let at = src.find(&format!("{name}(")).unwrap();
        let node = tree.root_node().descendant_for_byte_range(at, at).unwrap();
        let p = node.start_position();
        (p.row, p.column)
    }

    /// The field cases and the rules' fixtures.
    pub(crate) fn field_sources() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("tests/cases")];
        dirs.extend(std::fs::read_dir(root.join("queries/python")).unwrap().map(|e| e.unwrap().path()));
        let mut sources = Vec::new();
        for dir in dirs {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "py") {
                    sources.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        sources
    }

    /// `text` broken at every 37th character: a byte deleted, a bracket or a quote put in.
    pub(crate) fn broken_variants(text: &str) -> impl Iterator<Item = String> + '_ {
        text.char_indices().enumerate().step_by(37).map(|(i, (at, _))| {
            let mut src = text.to_string();
            match i % 3 {
                0 => drop(src.remove(at)),
                1 => src.insert(at, '('),
                _ => src.insert(at, '"'),
            }
            src
        })
    }

    /// Every node of `tree`, in document order.
    pub(crate) fn all_nodes(tree: &Tree) -> Vec<Node<'_>> {
        let mut nodes = Vec::new();
        let mut cursor = tree.walk();
        'walk: loop {
            nodes.push(cursor.node());
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
            }
        }
        nodes
    }

    /// `TopLevel` finds the parent and the ancestry tree-sitter finds, for every node of the
    /// field cases and the fixtures, whole and broken.
    #[test]
    fn top_level_finds_the_parents_tree_sitter_finds() {
        let (mut nodes, mut broken) = (0, 0);
        for text in field_sources() {
            for src in std::iter::once(text.clone()).chain(broken_variants(&text)) {
                let tree = parse(&src);
                let root = tree.root_node();
                broken += usize::from(root.has_error());
                let top = TopLevel::new(root);
                for node in all_nodes(&tree) {
                    assert_eq!(top.parent(node), node.parent(), "{node:?} in {src:?}");
                    assert_eq!(top.ancestry(node), ancestry(root, node), "{node:?} in {src:?}");
                    nodes += 1;
                }
            }
        }
        assert!(nodes > 1_000_000 && broken > 1_000, "{nodes} nodes, {broken} broken");
    }

    #[test]
    fn kind_name_is_node_kind_for_every_node() {
        // The field cases and the fixtures of every rule, and broken code: `ERROR` and
        // `MISSING` nodes, keywords, punctuation, string parts.
        let mut sources = vec![
            "def f(x:\n    return [1, 2\nclass C(: pass\n".to_string(),
            "print 'a'\nexec code\nx = f'{a!r:>{w}}' + b\"\\n\" @ c\n".to_string(),
            "match x:\n    case [1, *rest] | {'k': _} if rest: pass\nlambda *a, **k: (yield)\n".to_string(),
        ];
        sources.extend(field_sources());
        let mut seen = std::collections::BTreeSet::new();
        for src in &sources {
            let tree = parse(src);
            let mut cursor = tree.walk();
            'walk: loop {
                let node = cursor.node();
                assert_eq!(node.kind_name(), node.kind(), "id {} in {src:?}", node.kind_id());
                seen.insert(node.kind().to_string());
                if cursor.goto_first_child() {
                    continue;
                }
                while !cursor.goto_next_sibling() {
                    if !cursor.goto_parent() {
                        break 'walk;
                    }
                }
            }
        }
        assert!(seen.contains("ERROR") && seen.contains("identifier") && seen.contains("def"), "{seen:?}");
        assert!(seen.len() > 80, "{} kinds", seen.len());
    }

    #[test]
    fn a_lone_cr_ends_a_line_of_the_tree() {
        let lf = "import torch\n\ndef f(x):\n    if x:\n        q = 1\n    return torch.log(x)\n";
        assert!(!parse(lf).root_node().has_error());
        for ending in ["\r", "\r\n"] {
            let src = lf.replace('\n', ending);
            let tree = parse(&src);
            assert!(!tree.root_node().has_error(), "{src:?}: {}", tree.root_node().to_sexp());
            assert_eq!(call_point(&src, "torch.log"), (5, 11), "{src:?}");
        }
        // Mixed in one file: each terminator ends one line.
        let mixed = "import torch\r\rdef f(x):\r\n    if x:\n        q = 1\r    return torch.log(x)\n";
        assert!(!parse(mixed).root_node().has_error());
        assert_eq!(call_point(mixed, "torch.log"), (5, 11));
    }

    #[test]
    fn a_nul_byte_costs_no_more_than_itself() {
        for src in ["import torch\ns = 'a\0b'\ny = torch.log(x)\n", "import torch\0\ny = torch.log(x)\n"] {
            let tree = parse(src);
            assert!(!tree.root_node().has_error(), "{src:?}: {}", tree.root_node().to_sexp());
            assert_eq!(call_point(src, "torch.log"), (src.matches('\n').count() - 1, 4));
        }
    }

    #[test]
    fn a_leading_bom_is_not_code() {
        // An editor may send a file's byte order mark as the text's first character.
        let src = "\u{feff}import torch\ny = torch.log(x)\n";
        let tree = parse(src);
        assert!(!tree.root_node().has_error(), "{}", tree.root_node().to_sexp());
        assert_eq!(call_point(src, "torch.log"), (1, 4));
    }

    #[test]
    fn ancestry_ends_at_the_node_even_in_damaged_trees() {
        let src = deep_ifs();
        let tree = parse(&src);
        let at = src.rfind("torch.log").unwrap();
        for node in [tree.root_node().descendant_for_byte_range(at, at).unwrap(), tree.root_node()] {
            let chain = ancestry(tree.root_node(), node);
            assert_eq!(chain.first(), Some(&tree.root_node()));
            assert_eq!(chain.last(), Some(&node));
        }
    }

    /// Tokens tree-sitter lexes to reparse `src` after typing `typed` at byte `at` (counted
    /// from its log, so the figure is work done, not time) and whether the incremental tree
    /// equals a fresh parse of the new text.
    fn lexed_on_reparse(src: &str, at: usize, typed: &str) -> (usize, bool) {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let mut p = parser();
        let mut tree = p.parse(src, None).unwrap();
        let point = |text: &str, byte: usize| {
            let before = &text[..byte];
            tree_sitter::Point::new(before.matches('\n').count(), byte - before.rfind('\n').map_or(0, |i| i + 1))
        };
        let new = format!("{}{typed}{}", &src[..at], &src[at..]);
        tree.edit(&tree_sitter::InputEdit {
            start_byte: at,
            old_end_byte: at,
            new_end_byte: at + typed.len(),
            start_position: point(src, at),
            old_end_position: point(src, at),
            new_end_position: point(&new, at + typed.len()),
        });
        let lexed = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&lexed);
        p.set_logger(Some(Box::new(move |_, message: &str| {
            if message.starts_with("lexed_lookahead") {
                count.fetch_add(1, Ordering::Relaxed);
            }
        })));
        let reparsed = p.parse(&new, Some(&tree)).unwrap();
        let same = reparsed.root_node().to_sexp() == parse(&new).root_node().to_sexp();
        (lexed.load(Ordering::Relaxed), same)
    }

    #[test]
    fn typing_at_the_end_of_a_block_reparses_only_around_the_edit() {
        // Each class ends in zero-width dedent tokens. Upstream tree-sitter skipped the next
        // class when those tokens had to be lexed again, and then every class after it: a
        // keystroke on the blank line before a class lexed the rest of the file. The vendored
        // tree-sitter keeps the node until those tokens are lexed (server/vendor/README.md).
        let class = |i: usize| {
            format!(
                "class Block{i}(nn.Module):\n    def __init__(self, dim):\n        self.eps = 1e-6\n\n    \
                 def forward(self, x):\n        return torch.log(x + self.eps)\n\n\n"
            )
        };
        let src: String = std::iter::once("import torch\n\n\n".to_string()).chain((0..300).map(class)).collect();
        // The tokens of the whole file: the leaves of its tree.
        let tree = parse(&src);
        let mut cursor = tree.walk();
        let mut tokens = 0;
        'walk: loop {
            if !cursor.goto_first_child() {
                tokens += 1;
                while !cursor.goto_next_sibling() {
                    if !cursor.goto_parent() {
                        break 'walk;
                    }
                }
            }
        }
        let start = |i: usize| src.find(&format!("class Block{i}(")).unwrap();
        let cases = [
            ("a module-level statement on the blank line before a class", start(150) - 1, "x\n"),
            ("a letter on the blank line before a class", start(150) - 1, "x"),
            (
                "a statement on the blank line between two methods",
                src[start(150)..].find("\n\n    def").unwrap() + start(150) + 1,
                "    x",
            ),
            ("a letter at the end of a class's last line", start(151) - 3, "x"),
        ];
        for (what, at, typed) in cases {
            let (lexed, same) = lexed_on_reparse(&src, at, typed);
            assert!(same, "{what}: the incremental tree differs from a fresh parse");
            // Upstream lexes the half of the file after the edit again. What is left is the first
            // reparse of a fresh tree lexing the first token of each class before the edit anew
            // (about 4 tokens a class; upstream does it too, and only once).
            assert!(lexed * 10 < tokens, "{what}: {lexed} of the file's {tokens} tokens lexed again");
        }
    }
}
