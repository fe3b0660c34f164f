//! Checks every message from the client before tower-lsp-server sees it.
//!
//! tower-lsp-server stops serving at the first message it cannot decode (tokio-util's
//! `FramedRead` ends its stream after a decoder error), so one malformed or non-UTF-8 message
//! would end the session. Here each frame is read and checked first: a frame the server could not
//! decode is answered with a JSON-RPC error (-32700 parse error, -32600 invalid request) and
//! dropped, and the server only ever reads frames it can decode. Its output is passed on whole
//! frames at a time, so the error answers never land inside one of its messages.
//!
//! The server may also send messages it serialized itself through an [`Outbox`] (diagnostics,
//! which the framework would first turn into a `serde_json::Value`); they are framed and written
//! between the framework's messages the same way.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream,
};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// What tower-lsp-server decodes a frame into (its own type is private): the same untagged enum,
/// so a frame passes this check exactly when the server can decode it.
#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Message {
    Response(Response),
    Request(Request),
}

/// Buffer size of the in-memory pipes to and from the server.
const PIPE: usize = 64 * 1024;

enum Frame {
    Body(Vec<u8>),
    /// A header block without a usable `Content-Length`.
    BadHeader(String),
}

/// Reads one frame: header lines up to an empty line, then `Content-Length` bytes of body.
/// `None` at the end of the input (a frame cut short included).
async fn read_frame(input: &mut (impl AsyncBufRead + Unpin)) -> std::io::Result<Option<Frame>> {
    let mut length = None;
    let mut seen_header = false;
    loop {
        let mut line = Vec::new();
        if input.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        let line = line.trim_ascii();
        if line.is_empty() {
            if seen_header {
                break;
            }
            continue;
        }
        seen_header = true;
        // After a header block whose length could not be read, the body that followed it was
        // never consumed: without a newline of its own it runs into the next frame's header
        // line (`{}Content-Length: 59`). That header is taken where it starts, so the next frame
        // is read whole and the stream is back in step.
        let line = last_content_length(line).map_or(line, |at| &line[at..]);
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        if line[..colon].eq_ignore_ascii_case(b"content-length") {
            let value = String::from_utf8_lossy(&line[colon + 1..]).trim().to_string();
            length = Some(value.parse::<usize>().map_err(|_| format!("bad Content-Length {value:?}")));
        }
    }
    let length = match length {
        Some(Ok(n)) => n,
        Some(Err(why)) => return Ok(Some(Frame::BadHeader(why))),
        None => return Ok(Some(Frame::BadHeader("missing Content-Length header".into()))),
    };
    let mut body = Vec::new();
    (&mut *input).take(length as u64).read_to_end(&mut body).await?;
    Ok((body.len() == length).then_some(Frame::Body(body)))
}

/// Where the last `Content-Length:` (any case) in a header line starts.
fn last_content_length(line: &[u8]) -> Option<usize> {
    const NAME: &[u8] = b"content-length:";
    (0..=line.len().checked_sub(NAME.len())?).rev().find(|&i| line[i..i + NAME.len()].eq_ignore_ascii_case(NAME))
}

/// Sends whole messages (JSON-RPC bodies) to the client, beside the framework's. Weak, so a
/// handler still holding one does not keep the output open after `exit`.
#[derive(Clone)]
pub struct Outbox(mpsc::WeakSender<Vec<u8>>);

impl Outbox {
    /// Frames and queues `body`; dropped once the connection is closing.
    pub async fn send(&self, body: &[u8]) {
        if let Some(sender) = self.0.upgrade() {
            let _ = sender.send(frame(body)).await;
        }
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn error_response(id: Value, code: i64, message: &str, detail: String) -> Vec<u8> {
    tracing::warn!("answered a message the server cannot decode with {message}: {detail}");
    let response = json!({"jsonrpc": "2.0", "error": {"code": code, "message": message, "data": detail}, "id": id});
    frame(response.to_string().as_bytes())
}

/// Logs `message` as a warning, and frames it as a `window/logMessage` for the client.
fn log_message(message: &str) -> Vec<u8> {
    tracing::warn!("{message}");
    let note = json!({"jsonrpc": "2.0", "method": "window/logMessage", "params": {"type": 2, "message": format!("nanlint: {message}")}});
    frame(note.to_string().as_bytes())
}

/// What to do with a frame from the client.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Pass it on.
    Pass,
    /// Pass it on and read no further: it is `exit`. Some clients never close their end, and a
    /// read of stdin still pending would keep the process alive (as tower-lsp-server also knows).
    Exit,
    /// The server could not decode it: send this error answer instead.
    Answer(Vec<u8>),
    /// A notification the server would drop without a word (its params have the wrong shape):
    /// drop it here, and say so in the log and to the client (`window/logMessage`).
    Drop(String),
}

/// Whether `params` has the shape of `T` (what tower-lsp-server decodes a notification's
/// params into before calling the handler; it drops the notification silently otherwise).
fn shape<T: serde::de::DeserializeOwned>(params: Option<&Value>) -> Result<(), String> {
    T::deserialize(params.unwrap_or(&Value::Null)).map(drop).map_err(|e| e.to_string())
}

/// The notifications the server handles, checked for their params' shape.
fn notification_shape(method: &str, params: Option<&Value>) -> Result<(), String> {
    use tower_lsp_server::ls_types as lsp;
    match method {
        "textDocument/didOpen" => shape::<lsp::DidOpenTextDocumentParams>(params),
        "textDocument/didChange" => shape::<lsp::DidChangeTextDocumentParams>(params),
        "textDocument/didClose" => shape::<lsp::DidCloseTextDocumentParams>(params),
        "workspace/didChangeConfiguration" => shape::<lsp::DidChangeConfigurationParams>(params),
        "workspace/didChangeWatchedFiles" => shape::<lsp::DidChangeWatchedFilesParams>(params),
        "$/cancelRequest" => shape::<lsp::CancelParams>(params),
        _ => Ok(()),
    }
}

/// What the reader has seen of the session so far.
struct Gate {
    /// An `initialize` request has been passed on.
    initialize: bool,
    /// Set when the server's answer to `initialize` goes to the client (by the relay, which
    /// sees it in [`answers_initialize`]). tower-lsp-server drops a notification that comes
    /// before its `initialize` handler has returned, in silence.
    answered: Arc<AtomicBool>,
    /// Set when a `shutdown` request is passed on after `initialize`. Set here, as the frame
    /// is read, and not only in the server's handler: a client that sends `exit` right behind
    /// `shutdown` has the framework cancel the handler before it runs, and the session then
    /// ended with exit code 1 and a log saying no `shutdown` came.
    shut_down: Arc<AtomicBool>,
}

impl Gate {
    /// [`check`], also noting the `initialize` request and what arrives before it.
    fn check(&mut self, body: &[u8]) -> Verdict {
        let (verdict, request) = check_request(body);
        if let Some((method, id)) = request {
            match id {
                Some(_) if method == "initialize" => self.initialize = true,
                Some(_) if method == "shutdown" && self.initialize && verdict == Verdict::Pass => {
                    self.shut_down.store(true, Ordering::SeqCst)
                }
                _ => {}
            }
            if let Some(warning) = self.early(&method, id.as_ref(), &verdict) {
                tracing::warn!("{warning}");
            }
        }
        verdict
    }

    /// What to log of a message that came before `initialize` was answered: tower-lsp-server
    /// answers such a request with ServerNotInitialized (-32002) and drops such a notification,
    /// as the spec says ("the client must not send any additional requests or notifications to
    /// the server until it has received the InitializeResult"); say so instead of nothing.
    fn early(&self, method: &str, id: Option<&tower_lsp_server::jsonrpc::Id>, verdict: &Verdict) -> Option<String> {
        if *verdict != Verdict::Pass || method == "initialize" || self.answered.load(Ordering::SeqCst) {
            return None;
        }
        Some(match (id, self.initialize) {
            (None, false) => format!("dropped the notification `{method}`, received before `initialize`"),
            (Some(id), false) => {
                format!("refused request {id} `{method}`, received before `initialize` (ServerNotInitialized)")
            }
            // The handler may have returned in the instant since the answer was last looked at.
            (None, true) => format!(
                "the notification `{method}` came before the answer to `initialize` (the spec forbids it): \
                 dropped unless initializing had just ended"
            ),
            (Some(id), true) => format!(
                "request {id} `{method}` came before the answer to `initialize` (the spec forbids it): refused \
                 (ServerNotInitialized) unless initializing had just ended"
            ),
        })
    }
}

/// Whether a message of the server is its answer to `initialize` (a result holding
/// `capabilities`, the `InitializeResult`). Looked at only until that answer has gone.
fn answers_initialize(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Answer {
        result: Option<Result>,
    }
    #[derive(serde::Deserialize)]
    struct Result {
        capabilities: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Answer>(body).is_ok_and(|a| a.result.is_some_and(|r| r.capabilities.is_some()))
}

#[cfg(test)]
fn check(body: &[u8]) -> Verdict {
    check_request(body).0
}

/// What to do with a frame, and the method and id of a request or notification that decoded.
fn check_request(body: &[u8]) -> (Verdict, Option<(String, Option<tower_lsp_server::jsonrpc::Id>)>) {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => {
            let answer = error_response(Value::Null, -32700, "Parse error", format!("invalid UTF-8: {e}"));
            return (Verdict::Answer(answer), None);
        }
    };
    let request = match serde_json::from_str::<Message>(text) {
        Ok(Message::Request(r)) => r,
        Ok(Message::Response(_)) => return (Verdict::Pass, None),
        Err(e) if e.is_syntax() || e.is_eof() => {
            return (Verdict::Answer(error_response(Value::Null, -32700, "Parse error", e.to_string())), None);
        }
        Err(e) => {
            // Valid JSON, but not a JSON-RPC message: answer the request's id if it has one.
            let id = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("id").filter(|id| id.is_number() || id.is_string()).cloned())
                .unwrap_or(Value::Null);
            return (Verdict::Answer(error_response(id, -32600, "Invalid request", e.to_string())), None);
        }
    };
    let verdict = match (request.method(), request.id()) {
        ("exit", _) => Verdict::Exit,
        (method, None) => match notification_shape(method, request.params()) {
            Ok(()) => Verdict::Pass,
            Err(e) => {
                Verdict::Drop(format!("dropped a `{method}` notification whose params have the wrong shape: {e}"))
            }
        },
        _ => Verdict::Pass,
    };
    (verdict, Some((request.method().to_string(), request.id().cloned())))
}

/// Runs the server made by `server` (from its input and output pipes) between `input` and
/// `output`, checking every frame from the client. Returns once the server has returned (after
/// `exit`, even if the client keeps its end open) or the client's input has ended, and the
/// server's last messages have been written.
pub async fn run<F: Future<Output = ()>>(
    input: impl AsyncRead + Unpin,
    output: impl AsyncWrite,
    shut_down: Arc<AtomicBool>,
    server: impl FnOnce(DuplexStream, DuplexStream, Outbox) -> F,
) {
    let (mut to_server, server_input) = tokio::io::duplex(PIPE);
    let (server_output, from_server) = tokio::io::duplex(PIPE);
    // Whole frames for the client, in order: the server's messages and our error answers.
    let (frames, mut outbox) = mpsc::channel::<Vec<u8>>(16);
    let direct = Outbox(frames.downgrade());

    let answered = Arc::new(AtomicBool::new(false));
    let relay_frames = frames.clone();
    let relay_answered = answered.clone();
    let relay = async move {
        let mut from_server = BufReader::new(from_server);
        while let Ok(Some(Frame::Body(body))) = read_frame(&mut from_server).await {
            if !relay_answered.load(Ordering::SeqCst) && answers_initialize(&body) {
                relay_answered.store(true, Ordering::SeqCst);
            }
            if relay_frames.send(frame(&body)).await.is_err() {
                break;
            }
        }
    };
    let serving = async { tokio::join!(server(server_input, server_output, direct), relay) };
    tokio::pin!(serving);

    let read = async move {
        let mut input = BufReader::new(input);
        let mut gate = Gate { initialize: false, answered, shut_down };
        loop {
            let answer = match read_frame(&mut input).await {
                Ok(Some(Frame::Body(body))) if body.is_empty() => continue,
                Ok(Some(Frame::Body(body))) => match gate.check(&body) {
                    Verdict::Answer(answer) => answer,
                    Verdict::Drop(why) => log_message(&why),
                    verdict => {
                        if to_server.write_all(&frame(&body)).await.is_err() || verdict == Verdict::Exit {
                            break;
                        }
                        continue;
                    }
                },
                Ok(Some(Frame::BadHeader(why))) => error_response(Value::Null, -32700, "Parse error", why),
                Ok(None) => break,
                Err(e) => {
                    tracing::error!("reading from the client failed: {e}");
                    break;
                }
            };
            if frames.send(answer).await.is_err() {
                break;
            }
        }
        // Dropping `to_server` ends the server's input (after `exit` it has stopped reading).
    };

    let write = async move {
        tokio::pin!(output);
        while let Some(bytes) = outbox.recv().await {
            if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
                break;
            }
        }
        let _ = output.shutdown().await;
    };

    let main = async {
        tokio::select! {
            // `exit`: stop reading the client (this drops `read` and with it our last sender).
            _ = &mut serving => {}
            // The client's input ended: the server sees the end of its own and stops.
            _ = read => {
                serving.await;
            }
        }
    };
    tokio::join!(main, write);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a notification sent right behind `initialize`, before its answer, was
    /// dropped by tower-lsp-server with no word in the log.
    #[test]
    fn what_comes_before_initialize_is_answered_is_logged() {
        let mut gate = Gate { initialize: false, answered: Arc::default(), shut_down: Arc::default() };
        let open = br#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///a.py","languageId":"python","version":1,"text":""}}}"#;
        let hover = br#"{"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///a.py"},"position":{"line":0,"character":0}}}"#;
        let early = |gate: &mut Gate, body: &[u8]| {
            let (verdict, request) = check_request(body);
            let (method, id) = request.unwrap();
            assert_eq!(gate.check(body), verdict);
            gate.early(&method, id.as_ref(), &verdict)
        };
        assert_eq!(
            early(&mut gate, open).as_deref(),
            Some("dropped the notification `textDocument/didOpen`, received before `initialize`")
        );
        assert!(early(&mut gate, hover).unwrap().starts_with("refused request 7 `textDocument/hover`"));
        let initialize = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
        assert_eq!(early(&mut gate, initialize), None);
        let warning = early(&mut gate, open).expect("no word of the notification before the answer");
        assert!(warning.starts_with("the notification `textDocument/didOpen` came before the answer"), "{warning}");
        assert!(early(&mut gate, hover).unwrap().starts_with("request 7 `textDocument/hover` came before the answer"));
        // Once the answer has gone to the client, all is as it should be.
        gate.answered.store(true, Ordering::SeqCst);
        assert_eq!(early(&mut gate, open), None);
        assert_eq!(early(&mut gate, hover), None);
    }

    #[test]
    fn the_answer_to_initialize_is_told_from_other_messages() {
        assert!(answers_initialize(br#"{"jsonrpc":"2.0","id":1,"result":{"capabilities":{"hoverProvider":true}}}"#));
        assert!(!answers_initialize(br#"{"jsonrpc":"2.0","id":2,"result":null}"#));
        assert!(!answers_initialize(br#"{"jsonrpc":"2.0","id":2,"result":{"contents":"capabilities"}}"#));
        assert!(!answers_initialize(br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"x"}}"#));
        assert!(!answers_initialize(
            br#"{"jsonrpc":"2.0","method":"window/logMessage","params":{"type":3,"message":"capabilities"}}"#
        ));
    }

    #[test]
    fn check_passes_what_the_server_decodes() {
        assert_eq!(check(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#), Verdict::Pass);
        assert_eq!(check(br#"{"jsonrpc":"2.0","id":1,"result":null}"#), Verdict::Pass);
        assert_eq!(check(br#"{"jsonrpc":"2.0","method":"exit"}"#), Verdict::Exit);
    }

    fn answer(body: &[u8]) -> Value {
        let Verdict::Answer(bytes) = check(body) else { panic!("no error answer") };
        let text = String::from_utf8(bytes).unwrap();
        serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap()
    }

    async fn frames(input: &[u8]) -> Vec<Result<String, String>> {
        let mut input = BufReader::new(input);
        let mut out = Vec::new();
        while let Some(frame) = read_frame(&mut input).await.unwrap() {
            out.push(match frame {
                Frame::Body(b) => Ok(String::from_utf8(b).unwrap()),
                Frame::BadHeader(why) => Err(why),
            });
        }
        out
    }

    #[tokio::test]
    async fn a_bad_content_length_costs_only_its_own_frame() {
        // The body after an unreadable length ran into the next header line, and every later
        // frame was read as "missing Content-Length header": the server went deaf.
        let shutdown = r#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#;
        let input = format!(
            "Content-Length: abc\r\n\r\n{{}}Content-Length: {}\r\n\r\n{shutdown}content-length: 2\r\n\r\n[]",
            shutdown.len()
        );
        assert_eq!(
            frames(input.as_bytes()).await,
            [Err("bad Content-Length \"abc\"".to_string()), Ok(shutdown.to_string()), Ok("[]".to_string())]
        );
        // A body with lines of its own: they are read as header lines without a length.
        let input = format!("Content-Length: -1\r\n\r\n{{\n}}\r\nContent-Length: {}\r\n\r\n{shutdown}", shutdown.len());
        let got = frames(input.as_bytes()).await;
        assert_eq!(got.last(), Some(&Ok(shutdown.to_string())), "{got:?}");
        assert!(got[..got.len() - 1].iter().all(Result::is_err), "{got:?}");
    }

    #[test]
    fn check_answers_what_the_server_cannot_decode() {
        let a = answer(br#"{"jsonrpc": "2.0", "id": 7, "meth"#);
        assert_eq!((&a["id"], &a["error"]["code"]), (&Value::Null, &json!(-32700)));
        let a = answer(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\"\xff\"}");
        assert_eq!((&a["id"], &a["error"]["code"]), (&Value::Null, &json!(-32700)));
        let a = answer(b"[1, 2]");
        assert_eq!((&a["id"], &a["error"]["code"]), (&Value::Null, &json!(-32600)));
        let a = answer(br#"{"jsonrpc":"1.0","id":"a","method":"x"}"#);
        assert_eq!((&a["id"], &a["error"]["code"]), (&json!("a"), &json!(-32600)));
    }
}
