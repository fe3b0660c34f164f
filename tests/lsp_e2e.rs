//! The language server end to end: the real `serve` in-process over `tokio::io::duplex`, real
//! JSON-RPC frames, two typical clients (VS Code-like: UTF-16, pushed diagnostics; Neovim
//! 0.11-like: UTF-8, pulled diagnostics, `workspace/configuration`, watched files).

mod common;

use common::{
    Change, Client, Doc, Encoding, frame, neovim_like, on_thread_with_stack, pos_of, range_json, vscode_like, with,
};
use serde_json::{Value, json};

const URI: &str = "file:///nanlint-e2e/loss.py";

/// The TF1 tutorial's loss on a ReLU output: one NL101 with a related location (the assignment).
/// (On the tutorial's softmax output it is one NL104: `the_seed_is_one_cross_entropy_finding`.)
const MNIST: &str = "import tensorflow as tf


def loss(x, W, b, y_):
    y_conv = tf.nn.relu(tf.matmul(x, W) + b)
    return -tf.reduce_sum(y_ * tf.log(y_conv))
";

/// Three smells from three libraries.
const THREE: &str = "import numpy as np
import tensorflow as tf
import torch


def mnist_loss(x, W, b, y_):
    y_conv = tf.nn.relu(tf.matmul(x, W) + b)
    return -tf.reduce_sum(y_ * tf.log(y_conv))


def torch_nll(z, y):
    p = torch.relu(z)
    return -(y * torch.log(p)).sum()


def entropy(counts):
    p = counts / counts.sum()
    return -np.sum(p * np.log(p))
";

const RULE_DOC: &str = include_str!("../queries/python/NL101-log-of-possibly-zero/rule.md");

/// The body of the rule's "Why is this bad?" section.
fn why_is_this_bad() -> &'static str {
    let start = RULE_DOC.find("## Why is this bad?\n").expect("rule.md has the heading");
    let body = &RULE_DOC[start..];
    let end = body[3..].find("\n## ").map_or(body.len(), |i| i + 3);
    let section = &body[..end];
    assert!(section.len() > 100, "the section has text: {section:?}");
    section
}

fn uri(name: &str) -> String {
    format!("file:///nanlint-e2e/{name}")
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics.iter().map(|d| d["code"].as_str().unwrap()).collect()
}

fn lines(diagnostics: &[Value]) -> Vec<u64> {
    diagnostics.iter().map(|d| d["range"]["start"]["line"].as_u64().unwrap()).collect()
}

/// The text of the first quick fix's first edit for `diagnostic` of `uri`, which the server
/// makes from its current finding: where the epsilon shows.
async fn clip_text(client: &Client, uri: &str, diagnostic: &Value) -> String {
    let actions = client.code_actions(uri, diagnostic["range"].clone(), std::slice::from_ref(diagnostic), None).await;
    actions[0]["edit"]["changes"][uri][0]["newText"].as_str().unwrap().to_string()
}

fn titles(actions: &Value) -> Vec<&str> {
    actions.as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect()
}

/// Opens `doc`'s current text as a new document and checks that its diagnostics equal `got`
/// (with the URI swapped): incremental updates must end where a fresh analysis does.
async fn assert_same_as_fresh(client: &Client, doc: &Doc, got: &[Value]) {
    let fresh_uri = format!("{}.fresh{}", doc.uri, doc.version);
    client.open(&fresh_uri, &doc.text).await;
    let fresh = client.wait_for_diagnostics(&fresh_uri, 1).await;
    let fresh = serde_json::to_string(&fresh).unwrap().replace(&fresh_uri, &doc.uri);
    assert_eq!(serde_json::from_str::<Value>(&fresh).unwrap(), json!(got), "incremental != fresh for:\n{}", doc.text);
    client.notify("textDocument/didClose", json!({"textDocument": {"uri": fresh_uri}})).await;
}

/// The `InitializeResult` with the crate's version (checked separately) taken out, so a release
/// does not touch the snapshot. (insta's redactions feature is not enabled in this crate.)
fn without_version(mut result: Value) -> Value {
    assert_eq!(result["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
    result["serverInfo"]["version"] = json!("[version]");
    result
}

/// The range of the whole of `text` (which ends with a newline).
fn whole(text: &str) -> Value {
    range_json((0, 0), (text.lines().count() as u32, 0))
}

// ---------------------------------------------------------------------------------------------
// initialize

#[tokio::test]
async fn initialize_announces_utf8_only_when_the_client_offers_it() {
    let (mut nvim, result) = Client::start(neovim_like(), None).await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-8");
    insta::assert_json_snapshot!("initialize_neovim_like", without_version(result));
    nvim.shutdown_and_exit().await;

    let (mut code, result) = Client::start(vscode_like(), None).await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(result["capabilities"].get("diagnosticProvider"), None, "push only: no pull capability");
    insta::assert_json_snapshot!("initialize_vscode_like", without_version(result));
    code.shutdown_and_exit().await;

    for offered in [json!(["utf-32", "utf-16"]), json!([]), Value::Null] {
        let caps = with(vscode_like(), "/general/positionEncodings", offered.clone());
        let (mut client, result) = Client::start(caps, None).await;
        assert_eq!(result["capabilities"]["positionEncoding"], "utf-16", "offered {offered}");
        client.shutdown_and_exit().await;
    }
    // No capabilities at all: UTF-16, push.
    let (mut client, result) = Client::start(json!({}), None).await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(result["capabilities"].get("diagnosticProvider"), None);
    client.shutdown_and_exit().await;
}

// ---------------------------------------------------------------------------------------------
// open, change

#[tokio::test]
async fn open_publishes_diagnostics_with_related_information_and_fixes_on_request() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let doc = client.open(URI, MNIST).await;
    let publish = client.wait_for_publish(URI, 1).await;
    let d = &publish["diagnostics"][0];
    assert_eq!(publish["diagnostics"].as_array().unwrap().len(), 1);
    assert_eq!(d["code"], "NL101");
    assert_eq!(d["source"], "nanlint");
    assert_eq!(d["severity"], 2);
    // A link only where Cargo.toml names a repository: never one that points nowhere.
    match nanlint::rules::by_code("NL101").unwrap().url() {
        Some(url) => assert_eq!(d["codeDescription"]["href"], url),
        None => assert!(d.get("codeDescription").is_none(), "{d}"),
    }
    let start = client.find(&doc, "tf.log(", 0);
    assert_eq!(pos_of(&d["range"]["start"]), start);
    assert_eq!(pos_of(&d["range"]["end"]), (start.0, start.1 + "tf.log(y_conv)".len() as u32));
    let related = &d["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], URI);
    assert_eq!(related["location"]["range"]["start"]["line"], 4, "points at the ReLU assignment");
    // The fixes are made when asked for, from the current finding, not sent with every publish.
    assert_eq!(d.get("data"), None, "{d}");
    let actions = client.code_actions(URI, d["range"].clone(), std::slice::from_ref(d), None).await;
    let new_text = |a: &Value| a["edit"]["changes"][URI][0]["newText"].as_str().unwrap().to_string();
    assert_eq!(
        titles(&actions)[..2],
        ["nanlint (NL101): Raise `y_conv` to at least 1e-7", "nanlint (NL101): Use `tf.math.xlogy(y_, y_conv)`"]
    );
    assert_eq!(new_text(&actions[0]), "tf.math.maximum(y_conv, 1e-7)");
    assert_eq!(new_text(&actions[1]), "tf.math.xlogy(y_, y_conv)");
    assert_eq!((&actions[0]["isPreferred"], &actions[1]["isPreferred"]), (&json!(true), &json!(false)));
    // A diagnostic no current finding has (the client's, from before an edit): no fix and no
    // `# noqa` is made for text it was not computed on.
    let mut stale = d.clone();
    stale["range"]["start"]["line"] = json!(0);
    let actions = client.code_actions(URI, stale["range"].clone(), &[stale], None).await;
    assert_eq!(actions, json!([]));
    insta::assert_json_snapshot!("open_mnist_publish", publish);

    // A client that does not want related information does not get it.
    let caps = with(vscode_like(), "/textDocument/publishDiagnostics/relatedInformation", json!(false));
    let mut other = Client::start_initialized(caps, None, json!({})).await;
    other.open(URI, MNIST).await;
    let diagnostics = other.wait_for_diagnostics(URI, 1).await;
    assert_eq!(diagnostics[0].get("relatedInformation"), None);
    other.shutdown_and_exit().await;

    // Closing clears the document's diagnostics.
    client.notify("textDocument/didClose", json!({"textDocument": {"uri": URI}})).await;
    let cleared = client
        .wait_for("publish on close", |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == URI
                && m["params"].get("version").is_none()
        })
        .await;
    assert_eq!(cleared["params"]["diagnostics"], json!([]));
    client.shutdown_and_exit().await;
}

/// Regression (a newcomer's run): "Disable" wrote `# noqa` into a string the line leaves open
/// and after a backslash (a syntax error), where `check --add-noqa` refuses.
#[tokio::test]
async fn no_noqa_is_offered_where_a_comment_would_not_be_one() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let text = "import torch\n\n\ndef f(z):\n    e = torch.log(torch.softmax(z, -1)); s = \"\"\"x\n    y\"\"\"\n    w = torch.log(torch.softmax(z, -1)) \\\n        + 1\n    a = torch.log(torch.softmax(z, -1))\n    return e, s, w, a\n";
    client.open(URI, text).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    assert_eq!(lines(&d), [4, 6, 8]);
    let mut disables = Vec::new();
    for d in &d {
        let actions = client.code_actions(URI, d["range"].clone(), std::slice::from_ref(d), None).await;
        assert!(titles(&actions).iter().any(|t| t.contains("log_softmax")), "{actions}");
        disables.push(titles(&actions).iter().any(|t| t.contains("Disable")));
    }
    assert_eq!(disables, [false, false, true]);
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn incremental_changes_add_and_remove_smells() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let clean = "import torch\n\n\ndef f(z):\n    p = torch.sigmoid(z)\n    return p\n";
    let mut doc = client.open(URI, clean).await;
    assert_eq!(client.wait_for_diagnostics(URI, 1).await, Vec::<Value>::new());

    // Insert a smell.
    client.change(&mut doc, vec![Change::insert((5, 0), "    q = torch.log(p)\n")]).await;
    let d = client.wait_for_diagnostics(URI, 2).await;
    assert_eq!(codes(&d), ["NL103"]);
    assert_eq!(d[0]["range"], range_json((5, 8), (5, 20)));
    assert!(d[0]["message"].as_str().unwrap().contains("`p`"), "{}", d[0]["message"]);
    assert_same_as_fresh(&client, &doc, &d).await;

    // Delete it again.
    client.change(&mut doc, vec![Change::range((5, 0), (6, 0), "")]).await;
    assert_eq!(doc.text, clean);
    assert_eq!(client.wait_for_diagnostics(URI, 3).await, Vec::<Value>::new());

    // Several changes in one notification, each relative to the text the previous one left.
    client
        .change(
            &mut doc,
            vec![
                Change::insert((5, 0), "    bits = torch.log2(p)\n"),
                Change::insert((6, 0), "    total = torch.log10(torch.relu(z))\n"),
                Change::range((4, 8), (4, 21), "torch.softmax"),
            ],
        )
        .await;
    assert!(
        doc.text.contains("p = torch.softmax(z)\n    bits = torch.log2(p)\n    total = torch.log10(torch.relu(z))\n")
    );
    let d = client.wait_for_diagnostics(URI, 4).await;
    assert_eq!(codes(&d), ["NL101", "NL101"]);
    assert_eq!(lines(&d), [5, 6]);
    assert!(d[0]["message"].as_str().unwrap().contains("softmax"), "the edited line 4 is seen: {}", d[0]["message"]);
    assert_same_as_fresh(&client, &doc, &d).await;

    // A line inserted above moves the findings down.
    client.change(&mut doc, vec![Change::insert((0, 0), "# header\n")]).await;
    let d = client.wait_for_diagnostics(URI, 5).await;
    assert_eq!(lines(&d), [6, 7]);
    assert_same_as_fresh(&client, &doc, &d).await;

    // A full-text replacement.
    client.change(&mut doc, vec![Change::full(MNIST)]).await;
    let d = client.wait_for_diagnostics(URI, 6).await;
    assert_eq!(lines(&d), [5]);
    assert!(d[0]["message"].as_str().unwrap().starts_with("`tf.log` of `y_conv`"));
    assert_same_as_fresh(&client, &doc, &d).await;

    // A full replacement followed by a range change in the same notification.
    client.change(&mut doc, vec![Change::full(clean), Change::insert((6, 0), "r = torch.log(torch.relu(z))\n")]).await;
    let d = client.wait_for_diagnostics(URI, 7).await;
    assert_eq!(lines(&d), [6]);
    assert_same_as_fresh(&client, &doc, &d).await;
    client.shutdown_and_exit().await;
}

// ---------------------------------------------------------------------------------------------
// hover

#[tokio::test]
async fn hover_shows_the_rewrite_and_the_rule_documentation() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let doc = client.open(URI, MNIST).await;
    let d = client.wait_for_diagnostics(URI, 1).await;

    let at = client.find(&doc, "log(y_conv)", 0);
    let hover = client.hover(URI, at).await;
    assert_eq!(hover["contents"]["kind"], "markdown");
    let md = hover["contents"]["value"].as_str().unwrap();
    assert!(md.starts_with("**NL101** `log-of-possibly-zero`: `tf.log` of `y_conv`"), "{md}");
    assert!(md.contains("**Quick fix (unsafe: review it):** Raise `y_conv` to at least 1e-7"), "{md}");
    assert!(
        md.contains("```python\nreturn -tf.reduce_sum(y_ * tf.log(tf.math.maximum(y_conv, 1e-7)))\n```"),
        "the rewrite of this very line: {md}"
    );
    assert!(md.contains(why_is_this_bad()), "the rule's \"Why is this bad?\": {md}");
    assert_eq!(hover["range"], d[0]["range"]);

    // The edges of the smell count; outside it there is nothing.
    let end = pos_of(&d[0]["range"]["end"]);
    assert_ne!(client.hover(URI, end).await, Value::Null);
    assert_eq!(client.hover(URI, (0, 3)).await, Value::Null);
    assert_eq!(client.hover(URI, client.find(&doc, "relu", 0)).await, Value::Null);
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn hover_over_a_code_in_a_noqa_comment_shows_the_rule() {
    let mut client = Client::start_initialized(neovim_like(), None, json!({})).await;
    let text = "import torch\n\n\ndef f(p: torch.Tensor):\n    return torch.log(p)  # noqa: NL101\n";
    let doc = client.open(URI, text).await;
    assert_eq!(client.pull_diagnostics(URI).await["items"], json!([]), "suppressed");

    let code = client.find(&doc, "NL101", 0);
    for at in [code, (code.0, code.1 + 2), (code.0, code.1 + 5)] {
        let hover = client.hover(URI, at).await;
        let md = hover["contents"]["value"].as_str().unwrap_or_else(|| panic!("no hover at {at:?}"));
        assert!(md.starts_with("**NL101** `log-of-possibly-zero`\n\n"), "{md}");
        assert!(md.contains(why_is_this_bad()), "{md}");
        assert_eq!(hover.get("range"), None);
    }
    // Elsewhere in the comment, or on the suppressed call: no hover.
    assert_eq!(client.hover(URI, client.find(&doc, "noqa", 0)).await, Value::Null);
    assert_eq!(client.hover(URI, client.find(&doc, "log(p)", 0)).await, Value::Null);
    client.shutdown_and_exit().await;
}

/// Regression (a review of 68cbe95): `# noqa: NL101` silenced an NL204 that took no NL101's
/// place (the `where` guards its division); it silences an NL104 that took the place of an NL102
/// holding an NL101, also after edits that reuse the cached functions (a line above) or analyze
/// one function alone (a line in each), and no longer once it names a code the NL104 did not
/// absorb.
#[tokio::test]
async fn a_noqa_code_silences_an_outer_finding_only_where_it_absorbed_that_code() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let text = "import torch


def masked_mean_loss(x, mask):
    total = (x * mask).sum(-1)
    n = mask.sum(-1)
    return torch.where(n > 0, total / n, torch.zeros_like(total))  # noqa: NL101


def cross_entropy(y, z):
    p = torch.softmax(z, -1)
    ce = torch.log(p) * y  # noqa: NL101
    return ce
";
    let mut doc = client.open(URI, text).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    assert_eq!((codes(&d), lines(&d)), (vec!["NL204"], vec![6]));

    client.change(&mut doc, vec![Change::insert((0, 0), "# header\n")]).await;
    let d = client.wait_for_diagnostics(URI, 2).await;
    assert_eq!((codes(&d), lines(&d)), (vec!["NL204"], vec![7]));
    assert_same_as_fresh(&client, &doc, &d).await;

    client.change(&mut doc, vec![Change::insert((11, 0), "    y = y.float()\n")]).await;
    let d = client.wait_for_diagnostics(URI, 3).await;
    assert_eq!((codes(&d), lines(&d)), (vec!["NL204"], vec![7]));
    assert_same_as_fresh(&client, &doc, &d).await;

    client.change(&mut doc, vec![Change::insert((5, 0), "    x = x * 2\n")]).await;
    let d = client.wait_for_diagnostics(URI, 4).await;
    assert_eq!((codes(&d), lines(&d)), (vec!["NL204"], vec![8]));
    assert_same_as_fresh(&client, &doc, &d).await;

    let at = client.find(&doc, "NL101", 1);
    client.change(&mut doc, vec![Change::range(at, (at.0, at.1 + 5), "NL103")]).await;
    assert!(doc.text.contains("ce = torch.log(p) * y  # noqa: NL103\n"), "{}", doc.text);
    let d = client.wait_for_diagnostics(URI, 5).await;
    assert_eq!((codes(&d), lines(&d)), (vec!["NL204", "NL104"], vec![8, 14]));
    assert_same_as_fresh(&client, &doc, &d).await;
    client.shutdown_and_exit().await;
}

// ---------------------------------------------------------------------------------------------
// code actions

#[tokio::test]
async fn quick_fixes_clip_xlogy_and_noqa() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let doc = client.open(URI, MNIST).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    let actions = client.code_actions(URI, d[0]["range"].clone(), &d, None).await;
    assert_eq!(
        titles(&actions),
        [
            "nanlint (NL101): Raise `y_conv` to at least 1e-7",
            "nanlint (NL101): Use `tf.math.xlogy(y_, y_conv)`",
            "nanlint (NL101): Disable NL101 for this line",
        ]
    );
    let preferred: Vec<&Value> = actions.as_array().unwrap().iter().map(|a| &a["isPreferred"]).collect();
    assert_eq!(preferred, [&json!(true), &json!(false), &json!(false)]);
    for action in actions.as_array().unwrap() {
        assert_eq!(action["kind"], "quickfix");
        assert_eq!(action["diagnostics"], json!([d[0]]));
    }
    let line_end = doc.text.lines().nth(5).unwrap().len() as u32;
    assert_eq!(
        actions[2]["edit"]["changes"][URI],
        json!([{"range": range_json((5, line_end), (5, line_end)), "newText": "  # noqa: NL101"}])
    );
    // Each action carries the diagnostic (checked above); the snapshot shows the rest.
    let mut shown = actions.clone();
    for action in shown.as_array_mut().unwrap() {
        action["diagnostics"] = json!("[the diagnostic]");
    }
    insta::assert_json_snapshot!("quick_fixes_mnist", shown);

    // Without diagnostics in the context (or with someone else's), there is nothing to offer.
    assert_eq!(client.code_actions(URI, d[0]["range"].clone(), &[], None).await, json!([]));
    let mut foreign = d[0].clone();
    foreign["source"] = json!("ruff");
    assert_eq!(client.code_actions(URI, d[0]["range"].clone(), &[foreign], None).await, json!([]));
    // Asking only for source actions leaves the quick fixes out.
    assert_eq!(client.code_actions(URI, d[0]["range"].clone(), &d, Some(&["source.fixAll.nanlint"])).await, json!([]));
    client.shutdown_and_exit().await;
}

/// The seed's own line, the TF1 tutorial's loss on a softmax output: one diagnostic, NL104, whose
/// quick fixes are the loss on logits (preferred), NL102's safe `log_softmax`, xlogy, then
/// NL101's clip.
#[tokio::test]
async fn the_seed_is_one_cross_entropy_finding() {
    let seed = MNIST.replace("tf.nn.relu(", "tf.nn.softmax(");
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let mut doc = client.open(URI, &seed).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    assert_eq!(codes(&d), ["NL104"]);
    let start = client.find(&doc, "-tf.reduce_sum", 0);
    assert_eq!(pos_of(&d[0]["range"]["start"]), start);
    let actions = client.code_actions(URI, d[0]["range"].clone(), &d, None).await;
    let titles = titles(&actions);
    assert_eq!(
        titles[..4],
        [
            "nanlint (NL104): Use `softmax_cross_entropy_with_logits` on the logits",
            "nanlint (NL104): Bind the logits to `logits`, then use `tf.nn.log_softmax(logits)`",
            "nanlint (NL104): Use `tf.math.xlogy(y_, y_conv)`",
            "nanlint (NL104): Clip `y_conv` into [1e-7, 1]",
        ]
    );
    assert_eq!(*titles.last().unwrap(), "nanlint (NL104): Disable NL104 for this line");
    client.apply_workspace_edit(&mut doc, &actions[0]["edit"]).await;
    assert!(
        doc.text.contains(
            "    logits = tf.matmul(x, W) + b\n    y_conv = tf.nn.softmax(logits)\n    return tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=logits))\n"
        ),
        "{}",
        doc.text
    );
    assert_eq!(client.wait_for_diagnostics(URI, 2).await, Vec::<Value>::new());
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn noqa_action_extends_an_existing_noqa_comment() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let text = "import torch\n\n\ndef f(p: torch.Tensor):\n    return torch.log(torch.relu(p))  # noqa: NL301\n";
    let mut doc = client.open(URI, text).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    assert_eq!(codes(&d), ["NL101"], "another code's noqa does not suppress NL101");
    let actions = client.code_actions(URI, d[0]["range"].clone(), &d, None).await;
    let noqa = &actions.as_array().unwrap().last().unwrap();
    assert_eq!(noqa["title"], "nanlint (NL101): Disable NL101 for this line");
    let after = client.find(&doc, "NL301", 0);
    let at = (after.0, after.1 + 5);
    assert_eq!(noqa["edit"]["changes"][URI], json!([{"range": range_json(at, at), "newText": ", NL101"}]));

    client.apply_workspace_edit(&mut doc, &noqa["edit"]).await;
    assert!(doc.text.ends_with("    return torch.log(torch.relu(p))  # noqa: NL301, NL101\n"), "{}", doc.text);
    assert_eq!(client.wait_for_diagnostics(URI, 2).await, Vec::<Value>::new());
    client.shutdown_and_exit().await;
}

/// Regression (a newcomer's run): `# noqa: none` silenced every rule on its line. As in
/// `nanlint check`, it silences nothing; the log names the file and line once (not again at
/// each keystroke on that line), and "Disable NL101" puts the code into its list.
#[tokio::test]
async fn a_noqa_directive_without_codes_is_not_blanket_and_logged_once() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let text = "import torch\n\n\ndef f(p: torch.Tensor):\n    return torch.log(torch.relu(p))  # noqa: none\n";
    let mut doc = client.open(URI, text).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    assert_eq!(codes(&d), ["NL101"], "`# noqa: none` does not silence NL101");
    let logged = client.wait_for_notification("window/logMessage").await;
    let expected = format!("nanlint: {URI}:5: invalid `# noqa` directive: expected a comma-separated list of codes");
    assert!(logged["message"].as_str().unwrap().starts_with(&expected), "{logged}");
    // Typing in the comment, or a line moving it down, does not log it again.
    client.change(&mut doc, vec![Change::insert((4, 49), "!")]).await;
    client.change(&mut doc, vec![Change::insert((0, 0), "# top\n")]).await;
    let d = client.wait_for_diagnostics(URI, 3).await;
    let invalid = |client: &Client| {
        let logged = client.notifications("window/logMessage");
        logged.iter().filter(|m| m["message"].as_str().is_some_and(|t| t.contains("invalid `# noqa`"))).count()
    };
    assert_eq!(invalid(&client), 1);

    let actions = client.code_actions(URI, d[0]["range"].clone(), &d, None).await;
    let noqa = &actions.as_array().unwrap().last().unwrap();
    assert_eq!(noqa["title"], "nanlint (NL101): Disable NL101 for this line");
    client.apply_workspace_edit(&mut doc, &noqa["edit"]).await;
    assert!(doc.text.ends_with("    return torch.log(torch.relu(p))  # noqa: NL101 none!\n"), "{}", doc.text);
    assert_eq!(client.wait_for_diagnostics(URI, 4).await, Vec::<Value>::new());
    client.shutdown_and_exit().await;
    assert_eq!(invalid(&client), 1);
}

/// A `# noqa` naming a code no rule has (`NL110`, a typo of `NL101`) is logged once, as
/// `nanlint check` warns of it, and the finding it meant to silence stays.
#[tokio::test]
async fn a_noqa_naming_an_unknown_code_is_logged_once() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let text = "import torch\n\n\ndef f(p: torch.Tensor):\n    return torch.log(torch.relu(p))  # noqa: NL110\n";
    let mut doc = client.open(URI, text).await;
    assert_eq!(codes(&client.wait_for_diagnostics(URI, 1).await), ["NL101"]);
    let logged = client.wait_for_notification("window/logMessage").await;
    let expected = format!("nanlint: {URI}:5: `# noqa` names `NL110`, which is no nanlint rule");
    assert!(logged["message"].as_str().unwrap().starts_with(&expected), "{logged}");
    // Typing after the code does not log it again.
    client.change(&mut doc, vec![Change::insert((4, 50), " (typo)")]).await;
    client.wait_for_diagnostics(URI, 2).await;
    client.shutdown_and_exit().await;
    let logged = client.notifications("window/logMessage");
    let unknown = logged.iter().filter(|m| m["message"].as_str().is_some_and(|t| t.contains("`NL110`"))).count();
    assert_eq!(unknown, 1, "{logged:?}");
}

#[tokio::test]
async fn applying_each_quick_fix_clears_the_diagnostic() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let expected_lines = [
        "    return -tf.reduce_sum(y_ * tf.log(tf.math.maximum(y_conv, 1e-7)))",
        "    return -tf.reduce_sum(tf.math.xlogy(y_, y_conv))",
        "    return -tf.reduce_sum(y_ * tf.log(y_conv))  # noqa: NL101",
    ];
    for (i, expected) in expected_lines.iter().enumerate() {
        let uri = uri(&format!("fix{i}.py"));
        let mut doc = client.open(&uri, MNIST).await;
        let d = client.wait_for_diagnostics(&uri, 1).await;
        let actions = client.code_actions(&uri, d[0]["range"].clone(), &d, None).await;
        client.apply_workspace_edit(&mut doc, &actions[i]["edit"]).await;
        assert_eq!(doc.text.lines().nth(5).unwrap(), *expected);
        assert_eq!(client.wait_for_diagnostics(&uri, 2).await, Vec::<Value>::new(), "after {}", actions[i]["title"]);
    }
    client.shutdown_and_exit().await;
}

/// As `nanlint check --fix` (and ruff's server): no quick fix and no fix-all while the document
/// has a syntax error, whose tree was parsed by recovering around it; "Disable" stays. Once the
/// error is mended, the fixes are offered again.
#[tokio::test]
async fn no_fix_is_offered_while_the_document_has_a_syntax_error() {
    let options = json!({"settings": {"fixAll": {"unsafe": true}}});
    let mut client = Client::start_initialized(vscode_like(), Some(options), json!({})).await;
    let text = "import torch\n\n\ndef g(z):\n    x = 1 +\n    return torch.log(torch.softmax(z, -1))\n";
    let mut doc = client.open(URI, text).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    assert_eq!(codes(&d), ["NL102"]);
    let actions = client.code_actions(URI, d[0]["range"].clone(), &d, None).await;
    assert_eq!(titles(&actions), ["nanlint (NL102): Disable NL102 for this line"], "{actions}");
    assert_eq!(client.code_actions(URI, whole(text), &[], Some(&["source.fixAll.nanlint"])).await, json!([]));
    // Mended: `x = 1`.
    client.change(&mut doc, vec![Change::range((4, 10), (4, 12), "")]).await;
    let d = client.wait_for_diagnostics(URI, 2).await;
    let actions = client.code_actions(URI, d[0]["range"].clone(), &d, None).await;
    assert!(titles(&actions).iter().any(|t| t.contains("log_softmax")), "{actions}");
    let fix_all = client.code_actions(URI, whole(&doc.text), &[], Some(&["source.fixAll.nanlint"])).await;
    assert_eq!(titles(&fix_all), ["nanlint: Fix all auto-fixable problems"]);
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn fix_all_applies_only_safe_fixes_unless_unsafe_is_enabled() {
    // Default settings: NL101's fixes are unsafe, so fix-all has nothing to do.
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    client.open(URI, THREE).await;
    assert_eq!(client.wait_for_diagnostics(URI, 1).await.len(), 3);
    for only in [&["source.fixAll.nanlint"][..], &["source.fixAll"], &["source"]] {
        assert_eq!(client.code_actions(URI, whole(THREE), &[], Some(only)).await, json!([]), "only {only:?}");
    }
    client.shutdown_and_exit().await;

    // `fixAll.unsafe: true`: one action that fixes the whole file.
    let options = json!({"settings": {"fixAll": {"unsafe": true}}});
    let mut client = Client::start_initialized(vscode_like(), Some(options), json!({})).await;
    let mut doc = client.open(URI, THREE).await;
    assert_eq!(client.wait_for_diagnostics(URI, 1).await.len(), 3);
    let actions = client.code_actions(URI, whole(THREE), &[], Some(&["source.fixAll.nanlint"])).await;
    assert_eq!(titles(&actions), ["nanlint: Fix all auto-fixable problems"]);
    assert_eq!(actions[0]["kind"], "source.fixAll.nanlint");
    // It belongs to no single diagnostic.
    assert_eq!(actions[0].get("diagnostics"), None);
    client.apply_workspace_edit(&mut doc, &actions[0]["edit"]).await;
    insta::assert_json_snapshot!("fix_all_unsafe_three_smells", doc.text.lines().collect::<Vec<_>>());
    assert_eq!(client.wait_for_diagnostics(URI, 2).await, Vec::<Value>::new());
    // Nothing left to fix.
    assert_eq!(client.code_actions(URI, whole(&doc.text), &[], Some(&["source.fixAll.nanlint"])).await, json!([]));
    client.shutdown_and_exit().await;
}

// ---------------------------------------------------------------------------------------------
// configuration

#[tokio::test]
async fn initialization_options_set_the_epsilon() {
    let options = json!({"settings": {"epsilon": 1e-4, "severity": "information"}});
    let mut client = Client::start_initialized(vscode_like(), Some(options), json!({})).await;
    client.open(URI, MNIST).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    assert_eq!(clip_text(&client, URI, &d[0]).await, "tf.math.maximum(y_conv, 1e-4)");
    assert_eq!(d[0]["severity"], 3);
    assert!(client.notifications("window/showMessage").is_empty());
    client.shutdown_and_exit().await;

    // A bad value is reported (and ignored).
    let options = json!({"settings": {"epsilon": "tiny"}});
    let mut client = Client::start_initialized(vscode_like(), Some(options), json!({})).await;
    let shown = client.wait_for_notification("window/showMessage").await;
    assert_eq!(shown["type"], 1);
    assert!(shown["message"].as_str().unwrap().contains("`epsilon` must be a number in (0, 1)"), "{shown}");
    client.open(URI, MNIST).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    assert_eq!(clip_text(&client, URI, &d[0]).await, "tf.math.maximum(y_conv, 1e-7)");
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn configuration_is_pulled_after_initialized_and_watchers_registered() {
    let (mut client, _) = Client::start(neovim_like(), None).await;
    client.set_configuration(json!({"epsilon": 1e-3, "severity": "error"}));
    assert!(client.history().iter().all(|m| m["method"] != "workspace/configuration"), "not before initialized");
    client.notify("initialized", json!({})).await;

    let request = client.wait_for_server_request("workspace/configuration").await;
    assert_eq!(request["params"]["items"], json!([{"section": "nanlint"}]));
    let registration = client.wait_for_server_request("client/registerCapability").await;
    assert_eq!(
        registration["params"]["registrations"],
        json!([{
            "id": "nanlint-pyproject",
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": {"watchers": [
                {"globPattern": "**/.nanlint.toml"},
                {"globPattern": "**/nanlint.toml"},
                {"globPattern": "**/pyproject.toml"}
            ]}
        }])
    );
    // The refresh request follows the settings being applied.
    client.wait_for_server_request("workspace/diagnostic/refresh").await;

    client.open(URI, MNIST).await;
    let report = client.pull_diagnostics(URI).await;
    assert_eq!(clip_text(&client, URI, &report["items"][0]).await, "tf.math.maximum(y_conv, 1e-3)");
    assert_eq!(report["items"][0]["severity"], 1);
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn pushed_settings_republish_every_open_document() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let (a, b) = (uri("a.py"), uri("b.py"));
    client.open(&a, MNIST).await;
    client.open(&b, THREE).await;
    assert_eq!(client.wait_for_diagnostics(&a, 1).await.len(), 1);
    assert_eq!(client.wait_for_diagnostics(&b, 1).await.len(), 3);

    let push = |settings: Value| json!({"settings": {"nanlint": settings}});
    client.notify("workspace/didChangeConfiguration", push(json!({"epsilon": 1e-5, "severity": "error"}))).await;
    for (uri, n) in [(&a, 1), (&b, 3)] {
        let d = client.wait_for_diagnostics(uri, 1).await;
        assert_eq!(d.len(), n);
        for d in &d {
            assert_eq!(d["severity"], 1);
            assert!(clip_text(&client, uri, d).await.contains("1e-5"), "{d}");
        }
    }

    client.notify("workspace/didChangeConfiguration", push(json!({"select": ["NL2"]}))).await;
    assert_eq!(client.wait_for_diagnostics(&a, 1).await, Vec::<Value>::new());
    assert_eq!(client.wait_for_diagnostics(&b, 1).await, Vec::<Value>::new());

    client.notify("workspace/didChangeConfiguration", push(json!({"select": ["NL1"], "ignore": ["NL101"]}))).await;
    assert_eq!(client.wait_for_diagnostics(&a, 1).await, Vec::<Value>::new());
    assert_eq!(client.wait_for_diagnostics(&b, 1).await, Vec::<Value>::new());

    // A selector naming no rule is reported with the command line's message, and its list is not
    // applied: before, `select: ["NL999"]` switched every rule off without a word.
    client.notify("workspace/didChangeConfiguration", push(json!({"select": ["NL999"], "ignore": ["bogus"]}))).await;
    for (key, selector) in [("select", "NL999"), ("ignore", "bogus")] {
        let shown = client.wait_for_notification("window/showMessage").await;
        assert_eq!(shown["type"], 1);
        let expected = format!("nanlint: `{key}`: unknown rule selector \"{selector}\": expected a rule code");
        assert!(shown["message"].as_str().unwrap().starts_with(&expected), "{shown}");
    }
    assert_eq!(client.wait_for_diagnostics(&a, 1).await.len(), 1);
    assert_eq!(client.wait_for_diagnostics(&b, 1).await.len(), 3);

    // The settings object itself (no `nanlint` key) is accepted too.
    client.notify("workspace/didChangeConfiguration", json!({"settings": {"severity": "hint"}})).await;
    let d = client.wait_for_diagnostics(&a, 1).await;
    assert_eq!((d.len(), &d[0]["severity"]), (1, &json!(4)));
    assert_eq!(clip_text(&client, &a, &d[0]).await, "tf.math.maximum(y_conv, 1e-7)");
    assert_eq!(client.wait_for_diagnostics(&b, 1).await.len(), 3);
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn did_change_configuration_pulls_settings_when_the_client_supports_it() {
    // Push diagnostics, pull configuration (VS Code's real shape).
    let caps = with(vscode_like(), "/workspace/configuration", json!(true));
    let mut client = Client::start_initialized(caps, None, json!({"severity": "information"})).await;
    client.wait_for_server_request("workspace/configuration").await;
    let (a, b) = (uri("a.py"), uri("b.py"));
    client.open(&a, MNIST).await;
    client.open(&b, THREE).await;
    let severity_is = |n: u64| {
        move |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["diagnostics"]
                    .as_array()
                    .is_some_and(|d| !d.is_empty() && d.iter().all(|d| d["severity"] == n))
        }
    };
    // Whether the settings arrive before or after the opens, both documents end up at severity 3.
    for uri in [&a, &b] {
        client.wait_for("severity 3", |m| severity_is(3)(m) && m["params"]["uri"] == uri.as_str()).await;
    }

    client.set_configuration(json!({"epsilon": 0.01, "severity": "hint"}));
    client.notify("workspace/didChangeConfiguration", json!({"settings": null})).await;
    client.wait_for_server_request("workspace/configuration").await;
    for uri in [&a, &b] {
        let m = client.wait_for("severity 4", |m| severity_is(4)(m) && m["params"]["uri"] == uri.as_str()).await;
        assert_eq!(m["params"]["version"], 1);
        for d in m["params"]["diagnostics"].as_array().unwrap() {
            assert!(clip_text(&client, uri, d).await.contains("0.01"), "{m}");
        }
    }
    client.shutdown_and_exit().await;

    // Pull diagnostics too (Neovim): the server asks the client to pull again.
    let mut client = Client::start_initialized(neovim_like(), None, json!({})).await;
    client.wait_for_server_request("workspace/configuration").await;
    client.wait_for_server_request("workspace/diagnostic/refresh").await;
    client.open(URI, MNIST).await;
    assert_eq!(client.pull_diagnostics(URI).await["items"][0]["severity"], 2);
    client.set_configuration(json!({"severity": "error", "epsilon": 1e-6}));
    client.notify("workspace/didChangeConfiguration", json!({"settings": {}})).await;
    client.wait_for_server_request("workspace/configuration").await;
    client.wait_for_server_request("workspace/diagnostic/refresh").await;
    let items = client.pull_diagnostics(URI).await["items"].clone();
    assert_eq!(items[0]["severity"], 1);
    assert_eq!(clip_text(&client, URI, &items[0]).await, "tf.math.maximum(y_conv, 1e-6)");
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn a_late_configuration_answer_does_not_undo_newer_pushed_settings() {
    let caps = with(vscode_like(), "/workspace/configuration", json!(true));
    let (mut client, _) = Client::start(caps, None).await;
    // The stale answer's severity (hint, 4) shows in every publish it would reach.
    client.set_configuration(json!({"epsilon": 0.01, "severity": "hint"}));
    client.hold_configuration_answers();
    client.notify("initialized", json!({})).await;
    client.wait_for_server_request("workspace/configuration").await;

    client.open(URI, MNIST).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    assert_eq!(clip_text(&client, URI, &d[0]).await, "tf.math.maximum(y_conv, 1e-7)");
    let pushed = json!({"settings": {"nanlint": {"epsilon": 1e-5}}});
    client.notify("workspace/didChangeConfiguration", pushed).await;
    let d = client.wait_for_diagnostics(URI, 1).await;
    assert_eq!(clip_text(&client, URI, &d[0]).await, "tf.math.maximum(y_conv, 1e-5)");

    // The answer to the first request (epsilon 0.01) arrives now; it is older than the push.
    client.release_configuration_answers();
    client.hover(URI, (0, 0)).await;
    let other = uri("other.py");
    client.open(&other, MNIST).await;
    let d = client.wait_for_diagnostics(&other, 1).await;
    assert_eq!(clip_text(&client, &other, &d[0]).await, "tf.math.maximum(y_conv, 1e-5)");
    client.shutdown_and_exit().await;
    let stale = client
        .notifications("textDocument/publishDiagnostics")
        .into_iter()
        .filter(|p| p["diagnostics"].as_array().unwrap().iter().any(|d| d["severity"] == 4));
    assert_eq!(stale.count(), 0, "nothing was ever published with the stale settings");
}

// ---------------------------------------------------------------------------------------------
// push and pull

#[tokio::test]
async fn pull_mode_answers_text_document_diagnostic_and_never_publishes() {
    let mut client = Client::start_initialized(neovim_like(), None, json!({})).await;
    let mut doc = client.open(URI, MNIST).await;
    let report = client.pull_diagnostics(URI).await;
    assert_eq!(report["kind"], "full");
    assert_eq!(report["resultId"], "1");
    assert_eq!(codes(report["items"].as_array().unwrap()), ["NL101"]);
    insta::assert_json_snapshot!("pull_report_mnist_utf8", report);

    client.change(&mut doc, vec![Change::insert((6, 0), "z = tf.math.log(tf.nn.relu(x))\n")]).await;
    let report = client.pull_diagnostics(URI).await;
    assert_eq!(report["resultId"], "2");
    assert_eq!(lines(report["items"].as_array().unwrap()), [5, 6]);

    // A document that is not open has no findings.
    let report = client.pull_diagnostics(&uri("never-opened.py")).await;
    assert_eq!((&report["kind"], &report["items"]), (&json!("full"), &json!([])));

    client.notify("textDocument/didClose", json!({"textDocument": {"uri": URI}})).await;
    client.shutdown_and_exit().await;
    // The whole conversation is over: not one publishDiagnostics in it.
    assert_eq!(client.notifications("textDocument/publishDiagnostics"), Vec::<Value>::new());
}

#[tokio::test]
async fn a_client_that_pulls_but_cannot_be_asked_to_refresh_gets_pushed_diagnostics() {
    // Neovim 0.11 as released: `textDocument/diagnostic` but no `workspace/diagnostic/refresh`.
    let caps = with(neovim_like(), "/workspace/diagnostics", Value::Null);
    let (mut client, result) = Client::start(caps, None).await;
    assert_eq!(result["capabilities"].get("diagnosticProvider"), None);
    client.notify("initialized", json!({})).await;
    client.open(URI, MNIST).await;
    assert_eq!(codes(&client.wait_for_diagnostics(URI, 1).await), ["NL101"]);
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn push_mode_publishes_with_versions() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let mut doc = client.open(URI, MNIST).await;
    client.wait_for_diagnostics(URI, 1).await;
    client.change(&mut doc, vec![Change::insert((6, 0), "z = tf.math.log(tf.nn.relu(x))\n")]).await;
    client.wait_for_diagnostics(URI, 2).await;
    client.shutdown_and_exit().await;
    let versions: Vec<Value> =
        client.notifications("textDocument/publishDiagnostics").iter().map(|p| p["version"].clone()).collect();
    assert_eq!(versions, [json!(1), json!(2)]);
}

// ---------------------------------------------------------------------------------------------
// positions

#[tokio::test]
async fn cjk_and_emoji_before_a_smell_give_the_right_offsets_in_both_encodings() {
    let line = "    s = \"交叉熵🔥\"; loss = -tf.reduce_sum(y_ * tf.log(y_conv))";
    let text = format!(
        "import tensorflow as tf\n\n\ndef loss(x, W, b, y_):\n    y_conv = tf.nn.relu(tf.matmul(x, W) + b)\n{line}\n"
    );
    // (client, smell start, smell end, line end) in that client's units.
    for (caps, encoding, start, end, eol) in
        [(neovim_like(), Encoding::Utf8, 52, 66, 67), (vscode_like(), Encoding::Utf16, 44, 58, 59)]
    {
        let caps = with(caps, "/textDocument/diagnostic", Value::Null); // push, to see the versions
        let mut client = Client::start_initialized(caps, None, json!({})).await;
        assert_eq!(client.encoding, encoding);
        let mut doc = client.open(URI, &text).await;
        let d = client.wait_for_diagnostics(URI, 1).await;
        assert_eq!(d[0]["range"], range_json((5, start), (5, end)), "{encoding:?}");
        let hover = client.hover(URI, (5, start + 3)).await;
        assert_eq!(hover["range"], d[0]["range"], "{encoding:?}");
        assert_eq!(client.hover(URI, (5, start - 3)).await, Value::Null);

        let actions = client.code_actions(URI, d[0]["range"].clone(), &d, None).await;
        // The fixes' edits are in the same units.
        assert_eq!(actions[0]["edit"]["changes"][URI][0]["range"], range_json((5, start + 7), (5, end - 1)));
        assert_eq!(actions[1]["edit"]["changes"][URI][0]["range"], range_json((5, start - 5), (5, end)));
        assert_eq!(actions[2]["edit"]["changes"][URI][0]["range"], range_json((5, eol), (5, eol)), "{encoding:?}");
        client.apply_workspace_edit(&mut doc, &actions[0]["edit"]).await;
        assert!(doc.text.contains("\"交叉熵🔥\"; loss = -tf.reduce_sum(y_ * tf.log(tf.math.maximum(y_conv, 1e-7)))\n"));
        assert_eq!(client.wait_for_diagnostics(URI, 2).await, Vec::<Value>::new(), "{encoding:?}");

        // Typing right after the emoji lands where the client meant it.
        let after_emoji = client.find(&doc, "\";", 0);
        client.change(&mut doc, vec![Change::insert(after_emoji, "!")]).await;
        client.change(&mut doc, vec![Change::insert((6, 0), "q = tf.math.log(tf.nn.relu(s))  # 🔥\n")]).await;
        let d = client.wait_for_diagnostics(URI, 4).await;
        assert_eq!(d[0]["range"], range_json((6, 4), (6, 30)));
        assert_same_as_fresh(&client, &doc, &d).await;
        assert!(doc.text.contains("🔥!\";"), "{}", doc.text);
        client.shutdown_and_exit().await;
    }
}

// ---------------------------------------------------------------------------------------------
// pyproject.toml

fn file_uri(path: &std::path::Path) -> String {
    tower_lsp_server::ls_types::Uri::from_file_path(path).expect("an absolute path").as_str().to_string()
}

#[tokio::test]
async fn pyproject_settings_apply_and_a_broken_file_keeps_the_last_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let pyproject = dir.path().join("pyproject.toml");
    std::fs::write(&pyproject, "[project]\nname = \"demo\"\n\n[tool.nanlint]\nepsilon = 1e-3\n").unwrap();
    let source = dir.path().join("src").join("loss.py");
    std::fs::create_dir_all(source.parent().unwrap()).unwrap();
    std::fs::write(&source, MNIST).unwrap();
    let uri = file_uri(&source);

    let mut client = Client::start_initialized(neovim_like(), None, json!({})).await;
    client.wait_for_server_request("client/registerCapability").await;
    client.wait_for_server_request("workspace/diagnostic/refresh").await;
    client.open(&uri, MNIST).await;
    assert_eq!(
        clip_text(&client, &uri, &client.pull_diagnostics(&uri).await["items"][0]).await,
        "tf.math.maximum(y_conv, 1e-3)"
    );

    let watched = json!({"changes": [{"uri": file_uri(&pyproject), "type": 2}]});
    for broken in [
        "[tool.nanlint]\nepsilon = \"tiny\"\n",
        "[tool.nanlint\nepsilon = 1e-2\n",
        "[tool.nanlint]\nepsilon = 2.0\n",
        // As the command line refuses it (exit 2): a selector naming no rule.
        "[tool.nanlint]\nselect = [\"NL999\"]\n",
    ] {
        std::fs::write(&pyproject, broken).unwrap();
        client.notify("workspace/didChangeWatchedFiles", watched.clone()).await;
        let shown = client.wait_for_notification("window/showMessage").await;
        assert_eq!(shown["type"], 1);
        let message = shown["message"].as_str().unwrap();
        // The file, then the line and column when the error has them.
        assert!(message.starts_with(&format!("nanlint: {}:", pyproject.display())), "names the file: {message}");
        if broken.contains("NL999") {
            let expected = format!(
                "nanlint: {}:2:11: [tool.nanlint]: select: unknown rule selector \"NL999\"",
                pyproject.display()
            );
            assert!(message.starts_with(&expected), "{message}");
        }
        client.wait_for_server_request("workspace/diagnostic/refresh").await;
        // Still serving, with the last good settings.
        let items = client.pull_diagnostics(&uri).await["items"].clone();
        assert_eq!(clip_text(&client, &uri, &items[0]).await, "tf.math.maximum(y_conv, 1e-3)", "after {broken:?}");
    }

    std::fs::write(&pyproject, "[tool.nanlint]\nepsilon = 1e-2\n").unwrap();
    client.notify("workspace/didChangeWatchedFiles", watched.clone()).await;
    client.wait_for_server_request("workspace/diagnostic/refresh").await;
    assert_eq!(
        clip_text(&client, &uri, &client.pull_diagnostics(&uri).await["items"][0]).await,
        "tf.math.maximum(y_conv, 0.01)"
    );
    assert_eq!(client.notifications("window/showMessage").len(), 4, "no message once the file is good again");

    std::fs::write(&pyproject, "[tool.nanlint]\nignore = [\"NL1\"]\n").unwrap();
    client.notify("workspace/didChangeWatchedFiles", watched).await;
    client.wait_for_server_request("workspace/diagnostic/refresh").await;
    assert_eq!(client.pull_diagnostics(&uri).await["items"], json!([]));

    // A nanlint.toml nearer the file wins over the pyproject.toml above it, as in the CLI.
    let nanlint_toml = source.parent().unwrap().join("nanlint.toml");
    std::fs::write(&nanlint_toml, "epsilon = 1e-4\n").unwrap();
    let created = json!({"changes": [{"uri": file_uri(&nanlint_toml), "type": 1}]});
    client.notify("workspace/didChangeWatchedFiles", created).await;
    client.wait_for_server_request("workspace/diagnostic/refresh").await;
    assert_eq!(
        clip_text(&client, &uri, &client.pull_diagnostics(&uri).await["items"][0]).await,
        "tf.math.maximum(y_conv, 1e-4)"
    );

    // A file that is broken from the start: defaults, and a message naming it.
    let other = tempfile::tempdir().unwrap();
    let broken = other.path().join("pyproject.toml");
    std::fs::write(&broken, "[tool.nanlint]\nepsilon = [1]\n").unwrap();
    let source = other.path().join("train.py");
    std::fs::write(&source, MNIST).unwrap();
    let other_uri = file_uri(&source);
    client.open(&other_uri, MNIST).await;
    let shown = client.wait_for_notification("window/showMessage").await;
    assert!(shown["message"].as_str().unwrap().contains(&broken.display().to_string()), "{shown}");
    assert_eq!(
        clip_text(&client, &other_uri, &client.pull_diagnostics(&other_uri).await["items"][0]).await,
        "tf.math.maximum(y_conv, 1e-7)"
    );
    client.shutdown_and_exit().await;
}

// ---------------------------------------------------------------------------------------------
// robustness

#[tokio::test]
async fn malformed_json_gets_a_parse_error_and_the_server_keeps_serving() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    client.send_bytes(frame(br#"{"jsonrpc": "2.0", "id": 7, "method": "textDocument/hov"#));
    let error = client.wait_for("parse error", |m| m.get("error").is_some()).await;
    assert_eq!((&error["id"], &error["error"]["code"]), (&Value::Null, &json!(-32700)), "{error}");
    assert_eq!(error["error"]["message"], "Parse error");
    assert!(error["error"]["data"].as_str().unwrap().contains("EOF while parsing"), "{error}");

    // Valid JSON that is not a JSON-RPC message.
    client.send_bytes(frame(b"[1, 2, 3]"));
    let error = client.wait_for("invalid request", |m| m.get("error").is_some()).await;
    assert_eq!((&error["id"], &error["error"]["code"]), (&Value::Null, &json!(-32600)), "{error}");
    // A request the server cannot read: its id is answered.
    client.send_bytes(frame(br#"{"jsonrpc": "1.0", "id": 99, "method": "textDocument/hover"}"#));
    let error = client.wait_for("invalid request", |m| m.get("error").is_some()).await;
    assert_eq!((&error["id"], &error["error"]["code"]), (&json!(99), &json!(-32600)), "{error}");

    // A header block without Content-Length.
    client.send_bytes(b"X-Nonsense: 1\r\n\r\n".to_vec());
    let error = client.wait_for("header error", |m| m.get("error").is_some()).await;
    assert_eq!((&error["id"], &error["error"]["code"]), (&Value::Null, &json!(-32700)), "{error}");
    assert_eq!(error["error"]["data"], "missing Content-Length header");

    // Still serving: documents, diagnostics, requests.
    let doc = client.open(URI, MNIST).await;
    assert_eq!(client.wait_for_diagnostics(URI, 1).await.len(), 1);
    assert_ne!(client.hover(URI, client.find(&doc, "tf.log", 0)).await, Value::Null);
    client.shutdown_and_exit().await;
    assert_eq!(client.history().iter().filter(|m| m.get("error").is_some()).count(), 4, "one answer each");
}

#[tokio::test]
async fn invalid_utf8_gets_an_error_and_the_server_survives() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let mut body = br#"{"jsonrpc": "2.0", "id": 5, "method": "textDocument/hover", "params": "#.to_vec();
    body.extend_from_slice(b"\"\xff\xfe\"}");
    client.send_bytes(frame(&body));
    let error = client.wait_for("utf-8 error", |m| m.get("error").is_some()).await;
    assert_eq!((&error["id"], &error["error"]["code"]), (&Value::Null, &json!(-32700)));

    // A didOpen whose text is not UTF-8: rejected, nothing opened.
    let mut open = br#"{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///nanlint-e2e/bad.py", "languageId": "python", "version": 1, "text": "import torch\ntorch.log(p)  # "#.to_vec();
    open.extend_from_slice(b"\xc3\x28\"}}}");
    client.send_bytes(frame(&open));
    client.wait_for("utf-8 error", |m| m.get("error").is_some()).await;

    client.open(URI, MNIST).await;
    assert_eq!(client.wait_for_diagnostics(URI, 1).await.len(), 1);
    client.shutdown_and_exit().await;
    assert!(
        client
            .notifications("textDocument/publishDiagnostics")
            .iter()
            .all(|p| p["uri"] != "file:///nanlint-e2e/bad.py"),
        "the broken didOpen was not applied"
    );
}

#[tokio::test]
async fn a_request_with_invalid_params_gets_invalid_params() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let response = client.request_raw("textDocument/hover", json!({"textDocument": 5})).await;
    assert_eq!(response["error"]["code"], -32602, "{response}");
    let response = client.request_raw("textDocument/codeAction", json!({"textDocument": {"uri": URI}})).await;
    assert_eq!(response["error"]["code"], -32602, "{response}");
    let response = client.request_raw("textDocument/diagnostic", json!("nonsense")).await;
    assert_eq!(response["error"]["code"], -32602, "{response}");
    // Unknown methods are -32601; the server goes on.
    let response = client.request_raw("nanlint/unknown", json!({})).await;
    assert_eq!(response["error"]["code"], -32601, "{response}");
    // A notification with bad params is ignored.
    client.notify("textDocument/didOpen", json!({"textDocument": {"uri": 1}})).await;
    client.open(URI, MNIST).await;
    assert_eq!(client.wait_for_diagnostics(URI, 1).await.len(), 1);
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn a_change_with_a_stale_version_is_dropped() {
    // Pull mode shows the version the server holds (as the result id).
    let mut client = Client::start_initialized(neovim_like(), None, json!({})).await;
    let mut doc = client.open_version(URI, 5, MNIST).await;
    assert_eq!(client.pull_diagnostics(URI).await["resultId"], "5");
    for stale in [3, 5] {
        client.send_change(URI, stale, &[Change::insert((6, 0), "z = tf.math.log(tf.nn.relu(x))\n")]).await;
        client.send_change(URI, stale, &[Change::full("import torch\n")]).await;
    }
    let report = client.pull_diagnostics(URI).await;
    assert_eq!(report["resultId"], "5");
    assert_eq!(lines(report["items"].as_array().unwrap()), [5]);
    // The user-facing log says why each was dropped.
    let logged = client.notifications("window/logMessage");
    let stale = logged.iter().filter(|m| m["message"].as_str().is_some_and(|t| t.contains("stale change"))).count();
    assert_eq!(stale, 4, "{logged:?}");
    // The next real change applies to the text the server kept.
    client.change(&mut doc, vec![Change::insert((3, 0), "# note\n")]).await;
    let report = client.pull_diagnostics(URI).await;
    assert_eq!(report["resultId"], "6");
    assert_eq!(lines(report["items"].as_array().unwrap()), [6]);
    client.shutdown_and_exit().await;

    // Push mode: no publish for a stale change.
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let mut doc = client.open_version(URI, 5, MNIST).await;
    client.wait_for_diagnostics(URI, 5).await;
    client.send_change(URI, 4, &[Change::full("import torch\n")]).await;
    client.change(&mut doc, vec![Change::insert((3, 0), "# note\n")]).await;
    let d = client.wait_for_diagnostics(URI, 6).await;
    assert_same_as_fresh(&client, &doc, &d).await;
    client.shutdown_and_exit().await;
    let versions = client.published_versions(URI);
    assert_eq!(versions, [json!(5), json!(6)]);
}

#[tokio::test]
async fn out_of_range_positions_are_clamped() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let mut doc = client.open(URI, MNIST).await;
    client.wait_for_diagnostics(URI, 1).await;

    // A range far past the end appends.
    client.change(&mut doc, vec![Change::insert((1000, 1000), "\nq = tf.math.log(tf.nn.relu(x))\n")]).await;
    assert!(doc.text.ends_with("))\n\nq = tf.math.log(tf.nn.relu(x))\n"));
    let d = client.wait_for_diagnostics(URI, 2).await;
    let logged = client.wait_for_notification("window/logMessage").await;
    assert!(logged["message"].as_str().unwrap().contains("1000:1000 is past the last line"), "{logged}");
    assert_eq!(lines(&d), [5, 7]);
    assert_same_as_fresh(&client, &doc, &d).await;

    // A character past the end of its line clamps to the end of that line.
    client.change(&mut doc, vec![Change::range((0, 500), (0, u32::MAX), "  # tf")]).await;
    assert!(doc.text.starts_with("import tensorflow as tf  # tf\n"));
    let d = client.wait_for_diagnostics(URI, 3).await;
    let logged = client.wait_for_notification("window/logMessage").await;
    assert!(logged["message"].as_str().unwrap().contains("0:500 is past the end of its line"), "{logged}");
    assert_same_as_fresh(&client, &doc, &d).await;

    // A reversed range (end before start) is taken in order: this deletes one blank line.
    client.send_change(URI, 4, &[Change::range((2, 0), (1, 0), "")]).await;
    doc.version = 4;
    doc.text = doc.text.replacen("\n\n\n", "\n\n", 1);
    let d = client.wait_for_diagnostics(URI, 4).await;
    // Logged as what it is (it used to say "outside the document").
    let logged = client.wait_for_notification("window/logMessage").await;
    let message = logged["message"].as_str().unwrap();
    assert!(message.contains("reversed range") && !message.contains("outside"), "{logged}");
    assert_eq!(lines(&d), [4, 6]);
    assert_same_as_fresh(&client, &doc, &d).await;

    // Hovers and code actions far outside the text answer without an error.
    assert_eq!(client.hover(URI, (1_000_000, 1_000_000)).await, Value::Null);
    assert_eq!(client.hover(URI, (u32::MAX, u32::MAX)).await, Value::Null);
    assert_eq!(client.hover(URI, (4, u32::MAX)).await, Value::Null);
    let mut far = d[0].clone();
    far["range"] = range_json((1_000_000, 5), (1_000_001, 0));
    let actions = client.code_actions(URI, far["range"].clone(), &[far], None).await;
    assert!(actions.is_array(), "{actions}");
    // Still serving.
    client.change(&mut doc, vec![Change::full(MNIST)]).await;
    assert_eq!(lines(&client.wait_for_diagnostics(URI, 5).await), [5]);
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn a_position_inside_a_character_refuses_the_whole_change() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let text = "import torch\ns = '🔥'\np = torch.relu(z)\ny = torch.log(p)\n";
    let mut doc = client.open(URI, text).await;
    client.wait_for_diagnostics(URI, 1).await;

    // Between the two UTF-16 code units of the emoji: no text has a place there.
    client.send_change(URI, 2, &[Change::insert((1, 6), "x")]).await;
    let logged = client.wait_for_notification("window/logMessage").await;
    let message = logged["message"].as_str().unwrap();
    assert!(message.contains("refused change 1 of 1") && message.contains("position 1:6"), "{logged}");
    assert!(message.contains("the document keeps version 1"), "{logged}");
    // Several changes: the valid first one is taken back with the rest.
    client.send_change(URI, 3, &[Change::insert((0, 0), "# first\n"), Change::insert((2, 6), "x")]).await;
    let logged = client.wait_for_notification("window/logMessage").await;
    assert!(logged["message"].as_str().unwrap().contains("refused change 2 of 2"), "{logged}");

    // The server kept the last good text: the next change applies to it.
    doc.version = 3;
    client.change(&mut doc, vec![Change::insert((3, 0), "q = torch.log(torch.relu(r))\n")]).await;
    let d = client.wait_for_diagnostics(URI, 4).await;
    assert_eq!(lines(&d), [3, 4]);
    assert_same_as_fresh(&client, &doc, &d).await;
    client.shutdown_and_exit().await;
    let versions = client.published_versions(URI);
    assert_eq!(versions, [json!(1), json!(4)], "nothing published for the refused versions");

    // UTF-8 positions: inside the three bytes of a CJK character.
    let mut client = Client::start_initialized(neovim_like(), None, json!({})).await;
    client.open(URI, "损失 = 0\n").await;
    client.send_change(URI, 2, &[Change::insert((0, 4), "x")]).await;
    let logged = client.wait_for_notification("window/logMessage").await;
    let message = logged["message"].as_str().unwrap();
    assert!(message.contains("position 0:4 is inside the UTF-8 bytes of one character"), "{logged}");
    assert_eq!(client.pull_diagnostics(URI).await["resultId"], "1");
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn a_notification_of_the_wrong_shape_is_logged_not_dropped_silently() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    client.open(URI, MNIST).await;
    client.wait_for_diagnostics(URI, 1).await;
    let wrong = json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": "nope"});
    client.notify("textDocument/didChange", wrong).await;
    let logged = client.wait_for_notification("window/logMessage").await;
    let message = logged["message"].as_str().unwrap();
    assert!(message.contains("`textDocument/didChange`") && message.contains("wrong shape"), "{logged}");
    // Version 2 is still free: nothing was applied.
    client.send_change(URI, 2, &[Change::full("import torch\n")]).await;
    assert_eq!(client.wait_for_diagnostics(URI, 2).await, Vec::<Value>::new());
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn a_twenty_megabyte_document_is_handled() {
    // About 1,100 functions of 19 KB each, a smell in the first and the last.
    let mut text = String::from("import torch\n\n\ndef first(p: torch.Tensor):\n    return torch.log(torch.relu(p))\n");
    let statement = "    value = alpha * beta + gamma  # filler filler filler filler filler filler\n";
    let mut n = 0;
    while text.len() < 20 * 1024 * 1024 {
        text.push_str(&format!("\n\ndef f{n}(alpha, beta, gamma):\n"));
        text.push_str(&statement.repeat(250));
        text.push_str("    return value\n");
        n += 1;
    }
    text.push_str("\n\ndef last(q: torch.Tensor):\n    return torch.log(torch.relu(q))\n");
    let last_line = text.lines().count() as u64 - 1;

    // Over the default `max-file-size` (10 MB), which would report NL002 and not analyze it
    // (`a_document_over_max_file_size_is_reported_not_analyzed_until_it_shrinks`): raised here.
    let dir = limited(30_000_000);
    let uri = file_uri(&dir.path().join("big.py"));
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let mut doc = client.open(&uri, &text).await;
    let d = client.wait_for_diagnostics(&uri, 1).await;
    assert_eq!(lines(&d), [4, last_line]);

    // Edits in the middle and at the very end.
    let middle = client.find(&doc, &format!("def f{}(", n / 2), 0);
    let end = last_line as u32 + 1;
    client
        .change(
            &mut doc,
            vec![
                Change::insert((end, 0), "more = torch.log10(torch.relu(r))\n"),
                Change::insert((middle.0 + 1, 0), "    gamma = torch.log2(torch.relu(gamma))\n"),
            ],
        )
        .await;
    let d = client.wait_for_diagnostics(&uri, 2).await;
    assert_eq!(lines(&d), [4, middle.0 as u64 + 1, last_line + 1, last_line + 2]);
    let hover = client.hover(&uri, (end + 1, 10)).await;
    assert!(hover["contents"]["value"].as_str().unwrap().contains("`torch.log10` of"), "{hover}");
    client.shutdown_and_exit().await;
}

#[test]
fn deep_nesting_is_handled_on_a_2_mib_stack() {
    // A smell, then 5,000 nested parentheses, then 3,000 nested blocks, a smell inside each.
    // Past `MAX_NESTING` each nest is reported once as NL003 and not followed; beyond
    // tree-sitter's nesting limit the root is an ERROR node (scope climbing once looped forever
    // there); `on_thread_with_stack` turns a hang into a failure.
    let mut text = format!(
        "import torch\np = torch.relu(z)\nw = torch.log(p)\nx = {}torch.log(p){}\n",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    for depth in 0..3000 {
        text.push_str(&" ".repeat(depth));
        text.push_str("if p:\n");
    }
    text.push_str(&" ".repeat(3000));
    text.push_str("y = torch.log(p)\n");

    on_thread_with_stack(2 * 1024 * 1024, move || async move {
        let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
        client.open(URI, &text).await;
        let d = client.wait_for_diagnostics(URI, 1).await;
        assert_eq!(codes(&d), ["NL101", "NL003", "NL003"]);
        let rows: Vec<u32> = d.iter().map(|d| pos_of(&d["range"]["start"]).0).collect();
        assert_eq!(rows[..2], [2, 3]);
        assert!(rows[2] > 4, "{rows:?}");
        // The smell before the nests keeps its hover and its "Disable"; the file is a syntax
        // error (Python too refuses 5,000 nested parentheses), so no fix is offered, as
        // `nanlint check --fix` applies none there.
        let (line, character) = pos_of(&d[0]["range"]["start"]);
        let hover = client.hover(URI, (line, character + 2)).await;
        assert_eq!(hover["range"], d[0]["range"]);
        let actions = client.code_actions(URI, d[0]["range"].clone(), &d[0..=0], None).await;
        assert_eq!(titles(&actions), ["nanlint (NL101): Disable NL101 for this line"]);
        client.shutdown_and_exit().await;
    });
}

// ---------------------------------------------------------------------------------------------
// lifecycle

#[tokio::test]
async fn shutdown_then_exit_ends_serve() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    client.open(URI, MNIST).await;
    client.wait_for_diagnostics(URI, 1).await;
    assert_eq!(client.request("shutdown", Value::Null).await, Value::Null);
    // After shutdown, requests are refused.
    let response = client
        .request_raw(
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": {"line": 5, "character": 32}}),
        )
        .await;
    assert_eq!(response["error"]["code"], -32600, "{response}");
    // `exit` ends `serve` although our end of the pipe stays open.
    client.notify("exit", Value::Null).await;
    client.wait_for_serve_to_end().await;
}

#[tokio::test]
async fn exit_right_behind_shutdown_is_a_clean_ending() {
    // A client that sends `exit` without waiting for the answer to `shutdown` (the framework
    // then cancels the `shutdown` handler) still sent `shutdown` first: exit code 0, not the
    // code 1 of a session ended without one.
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    client.open(URI, MNIST).await;
    client.wait_for_diagnostics(URI, 1).await;
    client.send(&json!({"jsonrpc": "2.0", "id": 9999, "method": "shutdown"}));
    client.notify("exit", Value::Null).await;
    assert_eq!(client.wait_for_serve_to_end().await, nanlint::lsp::Ending::AfterShutdown);
}

#[tokio::test]
async fn closing_the_input_ends_serve() {
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    client.open(URI, MNIST).await;
    client.wait_for_diagnostics(URI, 1).await;
    client.close_input();
    client.wait_for_serve_to_end().await;
}

// ---------------------------------------------------------------------------------------------
// pathological files: line endings, NUL bytes, max-file-size

/// `text` with each `\n` replaced by `ending`.
fn ended(text: &str, ending: &str) -> String {
    text.replace('\n', ending)
}

#[tokio::test]
async fn cr_only_and_mixed_line_endings_are_lines() {
    // Old Mac line endings: a lone `\r` ends a line for Python and for the LSP. tree-sitter
    // starts rows only at `\n`, and read the file as one line: the indented bodies did not parse
    // and the smell inside them was lost.
    let lf = "import torch\n\n\ndef f(x):\n    p = torch.relu(x)\n    if x:\n        q = 1\n    return torch.log(p)\n";
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let expected = {
        let doc = client.open(&uri("lf.py"), lf).await;
        client.wait_for_diagnostics(&doc.uri, doc.version).await
    };
    assert_eq!((codes(&expected), lines(&expected)), (vec!["NL101"], vec![7]), "{expected:?}");
    let mixed =
        "import torch\r\n\r\rdef f(x):\n    p = torch.relu(x)\r    if x:\r\n        q = 1\r    return torch.log(p)\r";
    for (name, text) in [("cr.py", ended(lf, "\r")), ("crlf.py", ended(lf, "\r\n")), ("mixed.py", mixed.to_string())] {
        let mut doc = client.open(&uri(name), &text).await;
        let got = client.wait_for_diagnostics(&doc.uri, doc.version).await;
        let ranges: Vec<&Value> = got.iter().map(|d| &d["range"]).collect();
        assert_eq!(ranges, expected.iter().map(|d| &d["range"]).collect::<Vec<_>>(), "{name}: {got:?}");
        assert_eq!(got[0]["relatedInformation"][0]["location"]["range"]["start"]["line"], 4, "{name}: {got:?}");
        // Typing into the file: a new line after a lone `\r`, then joining a `\r` to a new `\n`.
        client.change(&mut doc, vec![Change::insert((4, 0), "    z = torch.log(torch.softmax(x, 1))\r")]).await;
        let got = client.wait_for_diagnostics(&doc.uri, doc.version).await;
        assert_eq!((codes(&got), lines(&got)), (vec!["NL102", "NL101"], vec![4, 8]), "{name}: {got:?}");
        assert_same_as_fresh(&client, &doc, &got).await;
        client.change(&mut doc, vec![Change::insert((5, 0), "\n")]).await;
        let got = client.wait_for_diagnostics(&doc.uri, doc.version).await;
        assert_same_as_fresh(&client, &doc, &got).await;
    }
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn a_nul_byte_or_a_bom_loses_no_finding_and_moves_no_column() {
    // tree-sitter's lexer takes a NUL byte for the end of the input: the import on its line was
    // lost, and with it every finding of the file.
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    for (name, text, at) in [
        ("nul_import.py", "import torch\0\ny = torch.log(torch.relu(p))\n", (1, 4)),
        ("nul_string.py", "import torch\ns = 'a\0b'; y = torch.log(torch.relu(p))\n", (1, 15)),
        ("bom.py", "\u{feff}y = torch.log(torch.relu(p)); import torch\n", (0, 5)),
    ] {
        let doc = client.open(&uri(name), text).await;
        let got = client.wait_for_diagnostics(&doc.uri, doc.version).await;
        assert_eq!(codes(&got), ["NL101"], "{name}: {got:?}");
        assert_eq!(pos_of(&got[0]["range"]["start"]), at, "{name}: {got:?}");
    }
    client.shutdown_and_exit().await;
}

/// A folder whose `nanlint.toml` sets `max-file-size` to `limit`.
fn limited(limit: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nanlint.toml"), format!("max-file-size = {limit}\n")).unwrap();
    dir
}

/// The CLI's NL002 message for a file of `len` bytes over `limit`.
fn too_large_message(len: usize, limit: u64) -> String {
    format!("File too large to check: {len} bytes, more than `max-file-size` ({limit} bytes); not checked")
}

#[tokio::test]
async fn a_document_over_max_file_size_is_reported_not_analyzed_until_it_shrinks() {
    // The server analyzed documents of any size; the CLI skips files over `max-file-size`.
    let dir = limited(200);
    let uri = file_uri(&dir.path().join("big.py"));
    let small = "import torch\ny = torch.log(torch.relu(p))\n";
    let big = format!("{small}{}", "# padding\n".repeat(20));
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    let mut doc = client.open(&uri, &big).await;
    let got = client.wait_for_diagnostics(&uri, doc.version).await;
    assert_eq!(codes(&got), ["NL002"], "{got:?}");
    assert_eq!(got[0]["range"], range_json((0, 0), (0, 0)));
    assert_eq!(got[0]["message"], too_large_message(big.len(), 200));

    // Typing in it: still not analyzed (a new smell is not reported), the size follows.
    let line = "z = torch.log(torch.softmax(x, 1))\n";
    client.change(&mut doc, vec![Change::insert((2, 0), line)]).await;
    let got = client.wait_for_diagnostics(&uri, doc.version).await;
    assert_eq!(
        (codes(&got), got[0]["message"].clone()),
        (vec!["NL002"], json!(too_large_message(doc.text.len(), 200)))
    );

    // Under the limit again: analyzed, as a fresh document is.
    client.change(&mut doc, vec![Change::range((3, 0), (23, 0), "")]).await;
    assert_eq!(doc.text, format!("{small}{line}"));
    let got = client.wait_for_diagnostics(&uri, doc.version).await;
    assert_eq!(codes(&got), ["NL101", "NL102"], "{got:?}");
    assert_same_as_fresh(&client, &doc, &got).await;

    // And over it again.
    client.change(&mut doc, vec![Change::insert((3, 0), &"# padding\n".repeat(20))]).await;
    let got = client.wait_for_diagnostics(&uri, doc.version).await;
    assert_eq!(codes(&got), ["NL002"], "{got:?}");
    client.shutdown_and_exit().await;
}

#[tokio::test]
async fn a_notebook_over_max_file_size_is_reported_in_its_first_code_cell() {
    let dir = limited(200);
    let nb = file_uri(&dir.path().join("big.ipynb"));
    let cells = ["import torch\n", "y = torch.log(torch.relu(p))\n"];
    let cell_uri = |i: usize| format!("vscode-notebook-cell:{}#cell{i}", nb.trim_start_matches("file:"));
    let padding = "# padding\n".repeat(20);
    let open = json!({
        "notebookDocument": {
            "uri": nb, "notebookType": "jupyter-notebook", "version": 1,
            "cells": [
                {"kind": 1, "document": cell_uri(0)},
                {"kind": 2, "document": cell_uri(1)},
                {"kind": 2, "document": cell_uri(2)},
            ]
        },
        "cellTextDocuments": [
            {"uri": cell_uri(0), "languageId": "markdown", "version": 1, "text": "# Title\n"},
            {"uri": cell_uri(1), "languageId": "python", "version": 1, "text": cells[0]},
            {"uri": cell_uri(2), "languageId": "python", "version": 1, "text": format!("{}{padding}", cells[1])},
        ]
    });
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    client.notify("notebookDocument/didOpen", open).await;
    let got = client.wait_for_diagnostics(&cell_uri(1), 1).await;
    assert_eq!(codes(&got), ["NL002"], "{got:?}");
    assert_eq!(got[0]["range"], range_json((0, 0), (0, 0)));
    assert!(got[0]["message"].as_str().unwrap().starts_with("File too large to check: "), "{got:?}");

    // The padding removed: the cells are analyzed, the finding in the cell that holds it.
    let change = json!({
        "notebookDocument": {"uri": nb, "version": 2},
        "change": {"cells": {"textContent": [{
            "document": {"uri": cell_uri(2), "version": 2},
            "changes": [{"range": range_json((1, 0), (21, 0)), "text": ""}]
        }]}}
    });
    client.notify("notebookDocument/didChange", change).await;
    let got = client.wait_for_diagnostics(&cell_uri(2), 2).await;
    assert_eq!((codes(&got), lines(&got)), (vec!["NL101"], vec![0]), "{got:?}");
    assert_eq!(client.wait_for_diagnostics(&cell_uri(1), 1).await, Vec::<Value>::new());
    client.shutdown_and_exit().await;
}

/// `notebookDocument/didOpen` of `nb.ipynb` with two code cells (`#cell0`, `#cell1`) holding
/// `texts`, at the cell documents' `versions`.
fn two_cells_open(texts: [&str; 2], versions: [i32; 2]) -> Value {
    let cell_uri = |i: usize| format!("vscode-notebook-cell:/nanlint-e2e/nb.ipynb#cell{i}");
    json!({
        "notebookDocument": {
            "uri": "file:///nanlint-e2e/nb.ipynb", "notebookType": "jupyter-notebook", "version": 1,
            "cells": [{"kind": 2, "document": cell_uri(0)}, {"kind": 2, "document": cell_uri(1)}]
        },
        "cellTextDocuments": [
            {"uri": cell_uri(0), "languageId": "python", "version": versions[0], "text": texts[0]},
            {"uri": cell_uri(1), "languageId": "python", "version": versions[1], "text": texts[1]},
        ]
    })
}

/// In a notebook cell, NL104's `xlogy` fix adds its import to the cell holding the imports
/// (joining its `from scipy.special import`): the code action offers it, as `documentChanges`
/// (the client takes them) for both cells' URIs with their versions, the import in the first
/// cell and the rewrite in the finding's cell.
#[tokio::test]
async fn a_cell_quick_fix_adding_an_import_edits_the_imports_cell_too() {
    let cell_uri = |i: usize| format!("vscode-notebook-cell:/nanlint-e2e/nb.ipynb#cell{i}");
    let texts =
        ["import numpy as np\nfrom scipy.special import softmax\n", "p = softmax(z)\nloss = -np.sum(y * np.log(p))"];
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    client.notify("notebookDocument/didOpen", two_cells_open(texts, [3, 4])).await;
    let d = client.wait_for_diagnostics(&cell_uri(1), 4).await;
    assert_eq!(codes(&d), ["NL104"], "{d:?}");
    let actions = client.code_actions(&cell_uri(1), d[0]["range"].clone(), &d, None).await;
    assert_eq!(
        titles(&actions),
        [
            "nanlint (NL104): Use `log_softmax(z)`",
            "nanlint (NL104): Use `xlogy(y, p)`",
            "nanlint (NL104): Clip `p` into [1e-7, 1]",
            "nanlint (NL104): Disable NL104 for this line",
        ]
    );
    assert_eq!(
        actions[1]["edit"]["documentChanges"],
        json!([
            {
                "textDocument": {"uri": cell_uri(0), "version": 3},
                "edits": [{"range": range_json((1, 33), (1, 33)), "newText": ", xlogy"}]
            },
            {
                "textDocument": {"uri": cell_uri(1), "version": 4},
                "edits": [{"range": range_json((1, 15), (1, 28)), "newText": "xlogy(y, p)"}]
            }
        ])
    );
    // Regression (a newcomer's trial): the hover named the clip, the first fix editing this
    // cell alone, while the code actions preferred `log_softmax`. It names the same fix now,
    // showing its rewrite of this cell's line.
    let hover = client.hover(&cell_uri(1), (1, 20)).await;
    let md = hover["contents"]["value"].as_str().unwrap_or_else(|| panic!("no hover: {hover}"));
    assert!(md.contains("**Quick fix:** Use `log_softmax(z)`"), "{md}");
    assert!(md.contains("loss = -np.sum(y * log_softmax(z))"), "{md}");
    client.shutdown_and_exit().await;
}

/// Regression: in a notebook cell, "Disable" was offered on a line a string leaves open (the
/// cell's text had no tree; `# noqa` written there would have been string text). It is read in
/// the notebook's program now, and its edit lands at the cell's position past an IPython line
/// (blanked in the program, a different length there).
#[tokio::test]
async fn a_cell_noqa_is_offered_where_a_comment_would_be_one() {
    let cell_uri = |i: usize| format!("vscode-notebook-cell:/nanlint-e2e/nb.ipynb#cell{i}");
    let texts = [
        "import torch\n",
        "%matplotlib inline\ne = torch.log(torch.softmax(z, -1)); s = \"\"\"x\ny\"\"\"\na = torch.log(torch.softmax(z, -1))  # why",
    ];
    let mut client = Client::start_initialized(vscode_like(), None, json!({})).await;
    client.notify("notebookDocument/didOpen", two_cells_open(texts, [1, 1])).await;
    let d = client.wait_for_diagnostics(&cell_uri(1), 1).await;
    assert_eq!(lines(&d), [1, 3], "{d:?}");
    let disable = |actions: &Value| {
        actions.as_array().unwrap().iter().find(|a| a["title"].as_str().unwrap().contains("Disable")).cloned()
    };
    let first = client.code_actions(&cell_uri(1), d[0]["range"].clone(), &d[0..=0], None).await;
    assert!(titles(&first).iter().any(|t| t.contains("log_softmax")), "{first}");
    assert_eq!(disable(&first), None, "{first}");
    let last = client.code_actions(&cell_uri(1), d[1]["range"].clone(), &d[1..=1], None).await;
    let noqa = disable(&last).expect("a Disable action");
    let end = texts[1].lines().nth(3).unwrap().len() as u32;
    assert_eq!(
        noqa["edit"]["changes"][cell_uri(1)],
        json!([{"range": range_json((3, end), (3, end)), "newText": "  # noqa: NL102"}])
    );
    client.shutdown_and_exit().await;
}
