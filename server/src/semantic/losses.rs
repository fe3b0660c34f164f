//! What each library loss expects of its prediction argument: logits (it applies softmax or
//! sigmoid itself), probabilities, or log-probabilities; and where that argument goes.
//!
//! Sources, per row: PyTorch `torch.nn` loss pages (`CrossEntropyLoss`: "The input is expected
//! to contain the unnormalized logits"; `NLLLoss`: "The input given through a forward call is
//! expected to contain log-probabilities"; `BCELoss`: probabilities, "input ... between 0 and 1";
//! `BCEWithLogitsLoss`: "combines a Sigmoid layer and the BCELoss"; `KLDivLoss`: "the argument
//! input [is expected] in the log-space"); TensorFlow `tf.nn.*_cross_entropy_with_logits`
//! ("unscaled log probabilities"; "Do not call this op with the output of softmax") and TF1
//! `tf.compat.v1.losses.*`; Keras 3 `keras.losses` (`from_logits`: "Whether `y_pred` is expected
//! to be a logits tensor. By default, we assume that `y_pred` encodes a probability
//! distribution"), `keras.ops` and `keras.backend`; optax `losses` (`logits` first);
//! torchvision `ops.sigmoid_focal_loss` ("inputs: a float tensor ... The predictions").

use super::transfer::{Arg, arg};
use super::value::Prob;

/// What a loss expects its prediction to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expects {
    /// Unnormalized scores: the loss applies softmax (or sigmoid) itself.
    Logits(Prob),
    /// Probabilities in [0, 1].
    Probabilities(Prob),
    /// Log-probabilities (the output of `log_softmax`).
    LogProbabilities,
}

/// One loss of a library, by canonical name.
#[derive(Clone, Copy, Debug)]
pub struct Loss {
    pub name: &'static str,
    /// A class whose instances are called with the prediction (`nn.CrossEntropyLoss()(x, y)`).
    pub object: bool,
    /// Where the prediction goes: in the call of the function, or of the object.
    pub input: Arg,
    /// What the prediction must be by default.
    pub expects: Expects,
    /// Keras and TF: `from_logits=True` (passed here, to the function or the constructor)
    /// makes it expect logits.
    pub from_logits: Option<Arg>,
}

const TORCH_INPUT: Arg = arg(0, &["input"]);
/// Keras losses and functions are called `(y_true, y_pred)`.
const Y_PRED: Arg = arg(1, &["y_pred"]);
/// `keras.backend` and `keras.ops` are called `(target, output)`.
const OUTPUT: Arg = arg(1, &["output"]);
/// TensorFlow's `*_with_logits`: `(labels, logits)` in TF2; TF1 takes them by keyword only.
const TF_LOGITS: Arg = arg(1, &["logits"]);
/// optax: `(logits, labels)`.
const OPTAX_LOGITS: Arg = arg(0, &["logits"]);
const NO_POSITION: usize = usize::MAX;

const fn loss(name: &'static str, object: bool, input: Arg, expects: Expects) -> Loss {
    Loss { name, object, input, expects, from_logits: None }
}

const fn keras(name: &'static str, object: bool, input: Arg, prob: Prob, from_logits: Arg) -> Loss {
    Loss { name, object, input, expects: Expects::Probabilities(prob), from_logits: Some(from_logits) }
}

use Expects::{LogProbabilities, Logits, Probabilities};
use Prob::{Sigmoid, Softmax};

/// Every loss the rules know.
pub const LOSSES: &[Loss] = &[
    // PyTorch
    loss("torch.nn.CrossEntropyLoss", true, TORCH_INPUT, Logits(Softmax)),
    loss("torch.nn.functional.cross_entropy", false, TORCH_INPUT, Logits(Softmax)),
    loss("torch.nn.BCEWithLogitsLoss", true, TORCH_INPUT, Logits(Sigmoid)),
    loss("torch.nn.functional.binary_cross_entropy_with_logits", false, TORCH_INPUT, Logits(Sigmoid)),
    loss("torch.nn.MultiLabelSoftMarginLoss", true, TORCH_INPUT, Logits(Sigmoid)),
    loss("torch.nn.functional.multilabel_soft_margin_loss", false, TORCH_INPUT, Logits(Sigmoid)),
    loss("torchvision.ops.sigmoid_focal_loss", false, arg(0, &["inputs"]), Logits(Sigmoid)),
    loss("torchvision.ops.focal_loss.sigmoid_focal_loss", false, arg(0, &["inputs"]), Logits(Sigmoid)),
    loss("torch.nn.NLLLoss", true, TORCH_INPUT, LogProbabilities),
    loss("torch.nn.functional.nll_loss", false, TORCH_INPUT, LogProbabilities),
    loss("torch.nn.KLDivLoss", true, TORCH_INPUT, LogProbabilities),
    loss("torch.nn.functional.kl_div", false, TORCH_INPUT, LogProbabilities),
    loss("torch.nn.BCELoss", true, TORCH_INPUT, Probabilities(Sigmoid)),
    loss("torch.nn.functional.binary_cross_entropy", false, TORCH_INPUT, Probabilities(Sigmoid)),
    // TensorFlow (TF2 and TF1 spellings; `tf.compat.v1.` folds into `tensorflow.`)
    loss("tensorflow.nn.softmax_cross_entropy_with_logits", false, TF_LOGITS, Logits(Softmax)),
    loss("tensorflow.nn.sparse_softmax_cross_entropy_with_logits", false, TF_LOGITS, Logits(Softmax)),
    loss("tensorflow.nn.sigmoid_cross_entropy_with_logits", false, TF_LOGITS, Logits(Sigmoid)),
    loss("tensorflow.nn.weighted_cross_entropy_with_logits", false, TF_LOGITS, Logits(Sigmoid)),
    loss("tensorflow.losses.softmax_cross_entropy", false, TF_LOGITS, Logits(Softmax)),
    loss("tensorflow.losses.sparse_softmax_cross_entropy", false, TF_LOGITS, Logits(Softmax)),
    loss("tensorflow.losses.sigmoid_cross_entropy", false, TF_LOGITS, Logits(Sigmoid)),
    loss("tensorflow.losses.log_loss", false, arg(1, &["predictions"]), Probabilities(Sigmoid)),
    // Keras 3 and tf.keras (`tensorflow.keras.` folds into `keras.`); TF2's `tf.losses` is Keras.
    keras("keras.losses.CategoricalCrossentropy", true, Y_PRED, Softmax, arg(0, &["from_logits"])),
    keras("keras.losses.SparseCategoricalCrossentropy", true, Y_PRED, Softmax, arg(0, &["from_logits"])),
    keras("keras.losses.CategoricalFocalCrossentropy", true, Y_PRED, Softmax, arg(NO_POSITION, &["from_logits"])),
    keras("keras.losses.BinaryCrossentropy", true, Y_PRED, Sigmoid, arg(0, &["from_logits"])),
    keras("keras.losses.BinaryFocalCrossentropy", true, Y_PRED, Sigmoid, arg(NO_POSITION, &["from_logits"])),
    keras("keras.losses.categorical_crossentropy", false, Y_PRED, Softmax, arg(2, &["from_logits"])),
    keras("keras.losses.sparse_categorical_crossentropy", false, Y_PRED, Softmax, arg(2, &["from_logits"])),
    keras("keras.losses.categorical_focal_crossentropy", false, Y_PRED, Softmax, arg(NO_POSITION, &["from_logits"])),
    keras("keras.losses.binary_crossentropy", false, Y_PRED, Sigmoid, arg(2, &["from_logits"])),
    keras("keras.losses.binary_focal_crossentropy", false, Y_PRED, Sigmoid, arg(NO_POSITION, &["from_logits"])),
    keras("keras.metrics.categorical_crossentropy", false, Y_PRED, Softmax, arg(2, &["from_logits"])),
    keras("keras.metrics.sparse_categorical_crossentropy", false, Y_PRED, Softmax, arg(2, &["from_logits"])),
    keras("keras.metrics.binary_crossentropy", false, Y_PRED, Sigmoid, arg(2, &["from_logits"])),
    keras("tensorflow.losses.CategoricalCrossentropy", true, Y_PRED, Softmax, arg(0, &["from_logits"])),
    keras("tensorflow.losses.SparseCategoricalCrossentropy", true, Y_PRED, Softmax, arg(0, &["from_logits"])),
    keras("tensorflow.losses.BinaryCrossentropy", true, Y_PRED, Sigmoid, arg(0, &["from_logits"])),
    keras("tensorflow.losses.categorical_crossentropy", false, Y_PRED, Softmax, arg(2, &["from_logits"])),
    keras("tensorflow.losses.sparse_categorical_crossentropy", false, Y_PRED, Softmax, arg(2, &["from_logits"])),
    keras("tensorflow.losses.binary_crossentropy", false, Y_PRED, Sigmoid, arg(2, &["from_logits"])),
    keras("keras.backend.categorical_crossentropy", false, OUTPUT, Softmax, arg(2, &["from_logits"])),
    keras("keras.backend.sparse_categorical_crossentropy", false, OUTPUT, Softmax, arg(2, &["from_logits"])),
    keras("keras.backend.binary_crossentropy", false, OUTPUT, Sigmoid, arg(2, &["from_logits"])),
    keras("keras.ops.categorical_crossentropy", false, OUTPUT, Softmax, arg(2, &["from_logits"])),
    keras("keras.ops.sparse_categorical_crossentropy", false, OUTPUT, Softmax, arg(2, &["from_logits"])),
    keras("keras.ops.binary_crossentropy", false, OUTPUT, Sigmoid, arg(2, &["from_logits"])),
    loss("keras.losses.KLDivergence", true, Y_PRED, Probabilities(Softmax)),
    loss("keras.losses.kl_divergence", false, Y_PRED, Probabilities(Softmax)),
    // optax (also spelled `optax.losses.*`)
    loss("optax.softmax_cross_entropy", false, OPTAX_LOGITS, Logits(Softmax)),
    loss("optax.softmax_cross_entropy_with_integer_labels", false, OPTAX_LOGITS, Logits(Softmax)),
    loss("optax.safe_softmax_cross_entropy", false, OPTAX_LOGITS, Logits(Softmax)),
    loss("optax.sigmoid_binary_cross_entropy", false, OPTAX_LOGITS, Logits(Sigmoid)),
    loss("optax.sigmoid_focal_loss", false, OPTAX_LOGITS, Logits(Sigmoid)),
    loss("optax.losses.softmax_cross_entropy", false, OPTAX_LOGITS, Logits(Softmax)),
    loss("optax.losses.softmax_cross_entropy_with_integer_labels", false, OPTAX_LOGITS, Logits(Softmax)),
    loss("optax.losses.safe_softmax_cross_entropy", false, OPTAX_LOGITS, Logits(Softmax)),
    loss("optax.losses.sigmoid_binary_cross_entropy", false, OPTAX_LOGITS, Logits(Sigmoid)),
    loss("optax.losses.sigmoid_focal_loss", false, OPTAX_LOGITS, Logits(Sigmoid)),
    loss("optax.kl_divergence", false, arg(0, &["log_predictions"]), LogProbabilities),
    loss("optax.losses.kl_divergence", false, arg(0, &["log_predictions"]), LogProbabilities),
];

/// The last segment of each loss name that expects logits (`CrossEntropyLoss`,
/// `sigmoid_cross_entropy_with_logits`) found in `src`, and `from_logits` if it is there.
pub fn logits_loss_words_in(src: &str) -> Vec<String> {
    let words = &*LOGITS_LOSS_WORDS;
    let mut found = vec![false; words.words.len()];
    // Every word holds one of the anchors, so only the text around an anchor is searched (most
    // files hold none: the search was 6 % of a class-level keystroke's instructions on a
    // 5,000-line file). Windows that overlap are merged, so no match is cut in two.
    let bytes = src.as_bytes();
    let mut hits: Vec<usize> = words.anchors.iter().flat_map(|a| a.find_iter(bytes)).collect();
    hits.sort_unstable();
    let mut windows: Vec<std::ops::Range<usize>> = Vec::new();
    for at in hits {
        let window = at.saturating_sub(words.longest)..(at + words.longest).min(bytes.len());
        match windows.last_mut() {
            Some(last) if window.start <= last.end => last.end = last.end.max(window.end),
            _ => windows.push(window),
        }
    }
    for window in windows {
        // Overlapping matches: words hold and overlap one another (`softmax_cross_entropy` in
        // `softmax_cross_entropy_with_logits`).
        let input = aho_corasick::Input::new(bytes).span(window);
        let mut state = aho_corasick::automaton::OverlappingState::start();
        loop {
            words.matcher.find_overlapping(input.clone(), &mut state);
            match state.get_match() {
                Some(m) => found[m.pattern().as_usize()] = true,
                None => break,
            }
        }
    }
    words.words.iter().zip(found).filter(|(_, f)| *f).map(|(w, _)| w.to_string()).collect()
}

/// The words of [`logits_loss_words_in`], sorted, a matcher for all of them at once (one pass
/// over the text, where a `contains` per word read a large file some forty times on each
/// keystroke), and the anchors one of which each word holds, found first with SIMD substring
/// search.
struct LogitsLossWords {
    words: Vec<&'static str>,
    matcher: aho_corasick::AhoCorasick,
    anchors: Vec<memchr::memmem::Finder<'static>>,
    /// The longest word's length: a match holding an anchor lies within this of it.
    longest: usize,
}

/// Substrings one of which every word of [`LOGITS_LOSS_WORDS`] holds (checked when it is built).
const LOGITS_LOSS_ANCHORS: [&str; 4] = ["ntropy", "ogits", "argin", "focal"];

static LOGITS_LOSS_WORDS: std::sync::LazyLock<LogitsLossWords> = std::sync::LazyLock::new(|| {
    let mut words: Vec<&'static str> = LOSSES
        .iter()
        .filter(|l| matches!(l.expects, Logits(_)))
        .map(|l| l.name.rsplit('.').next().unwrap_or(l.name))
        .chain(std::iter::once("from_logits"))
        .collect();
    words.sort_unstable();
    words.dedup();
    if let Some(bare) = words.iter().find(|w| !LOGITS_LOSS_ANCHORS.iter().any(|a| w.contains(a))) {
        panic!("the logits loss word {bare:?} holds none of LOGITS_LOSS_ANCHORS: add one");
    }
    let matcher = aho_corasick::AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(&words)
        .expect("loss names build a matcher");
    let anchors = LOGITS_LOSS_ANCHORS.iter().map(|a| memchr::memmem::Finder::new(a.as_bytes())).collect();
    let longest = words.iter().map(|w| w.len()).max().unwrap_or(0);
    LogitsLossWords { words, matcher, anchors, longest }
});

/// `word` is the last segment of a loss that applies `prob` to logits.
pub fn takes_logits(word: &str, prob: Prob) -> bool {
    LOSSES.iter().any(|l| l.expects == Logits(prob) && l.name.rsplit('.').next() == Some(word))
}

/// Keras's string names of losses (`model.compile(loss="categorical_crossentropy")`): what they
/// expect (never logits: a string cannot say `from_logits=True`).
pub const KERAS_STRINGS: &[(&str, Expects)] = &[
    ("categorical_crossentropy", Probabilities(Softmax)),
    ("sparse_categorical_crossentropy", Probabilities(Softmax)),
    ("binary_crossentropy", Probabilities(Sigmoid)),
    ("categorical_focal_crossentropy", Probabilities(Softmax)),
    ("binary_focal_crossentropy", Probabilities(Sigmoid)),
    ("kl_divergence", Probabilities(Softmax)),
    ("kullback_leibler_divergence", Probabilities(Softmax)),
    ("kld", Probabilities(Softmax)),
];

/// The loss of this canonical name.
pub fn by_name(name: &str) -> Option<&'static Loss> {
    LOSSES.iter().find(|l| l.name == name)
}

/// Every canonical name of a loss function (not class), for queries and tests.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    LOSSES.iter().filter(|l| !l.object).map(|l| l.name)
}

/// Words a unit of code that computes a loss almost always holds (case-insensitive): the loss
/// functions' names, and the names given to losses and criteria. A unit without any is taken to
/// call no loss (the flow facts skip it, see `flows`).
pub fn mentions_a_loss(text: &str) -> bool {
    const WORDS: &[&str] = &["loss", "criterion", "entropy", "nll", "bce", "kl_div", "compile"];
    let lower = text.to_ascii_lowercase();
    WORDS.iter().any(|w| lower.contains(w))
}

impl Loss {
    /// The short name the message uses: `nn.CrossEntropyLoss`, `F.cross_entropy`,
    /// `tf.nn.softmax_cross_entropy_with_logits`.
    pub fn display(&self) -> String {
        let short =
            [("torch.nn.functional.", "F."), ("torch.nn.", "nn."), ("tensorflow.", "tf."), ("keras.", "keras.")];
        for (long, s) in short {
            if let Some(rest) = self.name.strip_prefix(long) {
                return format!("{s}{rest}");
            }
        }
        self.name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::apis;

    #[test]
    fn names_are_canonical_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for l in LOSSES {
            assert!(apis::is_canonical(l.name), "{} is not canonical", l.name);
            assert!(seen.insert(l.name), "{} twice", l.name);
            // Classes are capitalized, functions not.
            assert_eq!(l.object, apis::leaf(l.name).chars().next().unwrap().is_uppercase(), "{}", l.name);
        }
    }

    #[test]
    fn contracts() {
        assert_eq!(by_name("torch.nn.CrossEntropyLoss").unwrap().expects, Logits(Softmax));
        assert_eq!(by_name("torch.nn.functional.nll_loss").unwrap().expects, LogProbabilities);
        assert!(by_name("keras.losses.BinaryCrossentropy").unwrap().from_logits.is_some());
        assert_eq!(by_name("torch.nn.functional.cross_entropy").unwrap().display(), "F.cross_entropy");
        assert!(mentions_a_loss("loss = criterion(out, y)"));
        assert!(!mentions_a_loss("return self.fc(x)"));
    }

    #[test]
    fn the_logits_loss_words_found_in_one_pass_are_those_each_word_finds() {
        // The words one at a time, as the single pass replaced them.
        let each = |src: &str| {
            let mut w: Vec<String> = LOSSES
                .iter()
                .filter(|l| matches!(l.expects, Logits(_)))
                .map(|l| l.name.rsplit('.').next().unwrap_or(l.name))
                .chain(std::iter::once("from_logits"))
                .filter(|w| src.contains(w))
                .map(str::to_string)
                .collect();
            w.sort();
            w.dedup();
            w
        };
        let all: String = LOSSES.iter().map(|l| format!("{}(x)\n", l.name)).collect();
        // Far apart, at the very ends, among multi-byte text: each found in its own window.
        let spread: String = LOSSES.iter().map(|l| format!("{}{}\n", l.name, "é = 1  # ...\n".repeat(20))).collect();
        for src in [
            "",
            "cross_entropy",
            "from_logits é sigmoid_focal_loss",
            spread.as_str(),
            "loss = nn.CrossEntropyLoss()(out, y)",
            "tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=z)",
            "keras.losses.BinaryCrossentropy(from_logits=True)",
            all.as_str(),
        ] {
            assert_eq!(logits_loss_words_in(src), each(src), "in {src:?}");
        }
        assert!(logits_loss_words_in(&all).len() > 3);
    }
}
