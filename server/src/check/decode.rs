//! Source bytes to text as Python reads them (PEP 263 and PEP 3120): UTF-8 unless the first or
//! second line declares another encoding (`# -*- coding: latin-1 -*-`), a UTF-8 byte order mark
//! allowed. Fixed text is written back in the encoding it came in.

/// How a file's bytes became its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceEncoding {
    Utf8 {
        bom: bool,
    },
    /// ISO-8859-1: every byte is the code point of the same value (Python's `latin-1`).
    Latin1,
    /// Any other encoding the declaration names, through the WHATWG Encoding Standard's tables.
    Other(&'static encoding_rs::Encoding),
}

impl SourceEncoding {
    pub fn name(self) -> &'static str {
        match self {
            SourceEncoding::Utf8 { .. } => "utf-8",
            SourceEncoding::Latin1 => "latin-1",
            SourceEncoding::Other(e) => e.name(),
        }
    }
}

#[derive(Debug)]
pub struct Decoded {
    pub text: String,
    pub encoding: SourceEncoding,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes Python source bytes; the error says why they are not text Python would read.
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    let (bom, body) = match bytes.strip_prefix(BOM) {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let declared = declaration(body);
    let encoding = match &declared {
        None => SourceEncoding::Utf8 { bom },
        Some((label, line)) => {
            let encoding =
                lookup(label).ok_or_else(|| format!("unknown encoding `{label}` declared on line {line}"))?;
            if bom && !matches!(encoding, SourceEncoding::Utf8 { .. }) {
                return Err(format!("the file starts with a UTF-8 byte order mark but line {line} declares `{label}`"));
            }
            match encoding {
                SourceEncoding::Utf8 { .. } => SourceEncoding::Utf8 { bom },
                other => other,
            }
        }
    };
    let text = match encoding {
        SourceEncoding::Utf8 { .. } => std::str::from_utf8(body).map(str::to_string).map_err(|e| {
            let at = e.valid_up_to();
            let line = body[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            match &declared {
                None => format!(
                    "not valid UTF-8 (byte {at}, line {line}) and no PEP 263 coding declaration names another encoding"
                ),
                Some(_) => format!("not valid UTF-8 as declared (byte {at}, line {line})"),
            }
        })?,
        SourceEncoding::Latin1 => body.iter().map(|&b| b as char).collect(),
        SourceEncoding::Other(e) => e
            .decode_without_bom_handling_and_without_replacement(body)
            .map(|t| t.into_owned())
            .ok_or_else(|| format!("not valid {} as its coding declaration says", e.name()))?,
    };
    Ok(Decoded { text, encoding })
}

/// Encodes fixed text back into the file's encoding. Refuses when a character cannot be written
/// in it, or when the encoding would not give back the original bytes of `original` (so nothing a
/// fix did not touch can change).
pub fn encode(text: &str, encoding: SourceEncoding, original: &[u8]) -> Result<Vec<u8>, String> {
    let encode_body = |t: &str| -> Result<Vec<u8>, String> {
        match encoding {
            SourceEncoding::Utf8 { bom } => {
                let mut out = if bom { BOM.to_vec() } else { Vec::new() };
                out.extend_from_slice(t.as_bytes());
                Ok(out)
            }
            SourceEncoding::Latin1 => t
                .chars()
                .map(|c| u8::try_from(u32::from(c)).map_err(|_| format!("`{c}` cannot be written in latin-1")))
                .collect(),
            SourceEncoding::Other(e) => {
                let (bytes, used, unmappable) = e.encode(t);
                if used != e || unmappable {
                    return Err(format!("the fixed text cannot be written in {}", e.name()));
                }
                Ok(bytes.into_owned())
            }
        }
    };
    if !matches!(encoding, SourceEncoding::Utf8 { .. }) {
        let original_text = decode(original)?.text;
        if encode_body(&original_text)? != original {
            return Err(format!("{} does not round-trip this file's bytes", encoding.name()));
        }
    }
    encode_body(text)
}

/// The encoding a PEP 263 comment declares on line 1, or on line 2 when line 1 is blank or a
/// comment (CPython's tokenizer), with its line number.
fn declaration(bytes: &[u8]) -> Option<(String, usize)> {
    let mut lines = bytes.split(|&b| b == b'\n');
    for number in 1..=2 {
        let line = lines.next()?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(label) = coding_of(line) {
            return Some((label, number));
        }
        let trimmed = line.iter().skip_while(|b| matches!(b, b' ' | b'\t' | b'\x0c')).collect::<Vec<_>>();
        if !(trimmed.is_empty() || *trimmed[0] == b'#') {
            return None;
        }
    }
    None
}

/// PEP 263's `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)`.
fn coding_of(line: &[u8]) -> Option<String> {
    let line = std::str::from_utf8(line).ok()?;
    let rest = line.trim_start_matches([' ', '\t', '\x0c']).strip_prefix('#')?;
    let mut search = rest;
    while let Some(at) = search.find("coding") {
        let after = &search[at + "coding".len()..];
        if let Some(value) = after.strip_prefix([':', '=']) {
            let value = value.trim_start_matches([' ', '\t']);
            let label: String =
                value.chars().take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
            if !label.is_empty() {
                return Some(label);
            }
        }
        search = after;
    }
    None
}

/// Python's name for the encoding (`_get_normal_name` in `tokenize`), then its table.
fn lookup(label: &str) -> Option<SourceEncoding> {
    let lower: String = label.chars().take(12).collect::<String>().to_ascii_lowercase().replace('_', "-");
    if lower == "utf-8" || lower.starts_with("utf-8-") || lower == "utf8" {
        return Some(SourceEncoding::Utf8 { bom: false });
    }
    let latin1 = ["latin-1", "iso-8859-1", "iso-latin-1", "latin1", "l1", "iso8859-1"];
    if latin1.iter().any(|l| lower == *l || lower.starts_with(&format!("{l}-"))) {
        return Some(SourceEncoding::Latin1);
    }
    let full = label.to_ascii_lowercase();
    [full.clone(), full.replace('_', "-")]
        .iter()
        .find_map(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        // UTF-16 and the replacement encoding are not ASCII-compatible: Python rejects them too.
        .filter(|e| e.is_ascii_compatible())
        .map(|e| if e == encoding_rs::UTF_8 { SourceEncoding::Utf8 { bom: false } } else { SourceEncoding::Other(e) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_by_default_and_with_a_bom() {
        let d = decode("x = 'é'\n".as_bytes()).unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("x = 'é'\n", SourceEncoding::Utf8 { bom: false }));
        let d = decode(b"\xEF\xBB\xBFx = 1\n").unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("x = 1\n", SourceEncoding::Utf8 { bom: true }));
        assert_eq!(encode("y = 2\n", d.encoding, b"\xEF\xBB\xBFx = 1\n").unwrap(), b"\xEF\xBB\xBFy = 2\n");
        let e = decode(b"x = 1\n# caf\xe9\n").unwrap_err();
        assert!(e.contains("not valid UTF-8 (byte 11, line 2)"), "{e}");
    }

    #[test]
    fn pep263_declarations() {
        let latin = b"# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n";
        let d = decode(latin).unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("# -*- coding: latin-1 -*-\ns = 'café'\n", SourceEncoding::Latin1));
        let renamed = b"# -*- coding: latin-1 -*-\nt = 'caf\xe9'\n";
        assert_eq!(encode(&d.text.replace("s =", "t ="), d.encoding, latin).unwrap(), renamed);
        // Line 2 counts after a shebang; Emacs and Vim spellings; `=` as well as `:`.
        assert_eq!(
            decode(b"#!/usr/bin/env python\n# vim: set fileencoding=iso-8859-15 :\nx = '\xa4'\n").unwrap().text,
            "#!/usr/bin/env python\n# vim: set fileencoding=iso-8859-15 :\nx = '€'\n"
        );
        assert_eq!(decode(b"# coding=cp1252\nx = '\x80'\n").unwrap().text, "# coding=cp1252\nx = '€'\n");
        // Not on line 2 after code, and not outside a comment.
        assert!(decode(b"x = 1\n# coding: latin-1\ny = '\xe9'\n").is_err());
        assert!(decode(b"s = 'coding: latin-1'\ny = '\xe9'\n").is_err());
        assert_eq!(decode(b"# coding: nope\n").unwrap_err(), "unknown encoding `nope` declared on line 1");
        assert!(decode(b"\xEF\xBB\xBF# coding: latin-1\n").unwrap_err().contains("byte order mark"));
        assert_eq!(decode(b"# coding: utf-8\nx = 1\n").unwrap().encoding, SourceEncoding::Utf8 { bom: false });
        assert!(decode(b"# coding: utf-16\n").is_err(), "not ASCII-compatible");
    }

    #[test]
    fn unencodable_fixes_are_refused() {
        let latin = b"# coding: latin-1\nx = 1\n";
        assert!(encode("# coding: latin-1\nx = '€'\n", SourceEncoding::Latin1, latin).is_err());
        let sjis = SourceEncoding::Other(encoding_rs::SHIFT_JIS);
        let src = b"# coding: shift_jis\nx = '\x93\xfa'\n";
        let d = decode(src).unwrap();
        assert_eq!(d.text, "# coding: shift_jis\nx = '日'\n");
        assert_eq!(encode(&d.text, sjis, src).unwrap(), src);
    }
}
