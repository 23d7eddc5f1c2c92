//! Short names for what a wasm-bindgen module imports from its script.
//!
//! wasm-bindgen names each browser function the module imports
//! `__wbg_<name>_<16 hex digits>`, from the module `./<out-name>_bg.js`,
//! and writes every name twice: in the wasm's import section and as a key
//! of the script's import object. Brotli cannot shrink the hex digits: for
//! the client's ~400 imports they cost about 10 KB on every start. Both
//! sides are renamed here to `a`, `b`, … from a module named `a`.

use std::path::Path;

use crate::{Result, XtaskError};

/// What reading a module came to: a reason if it could not be read.
type Parsed<T> = std::result::Result<T, String>;

/// The wasm section that lists imports.
const IMPORT_SECTION: u8 = 2;

/// Renames the imports of `wasm` from `module` and the keys of `js`'s
/// import object that name them. Fails, changing nothing, if the script
/// does not name each import exactly once.
pub fn shorten(wasm: &Path, js: &Path, module: &str) -> Result<()> {
    let bytes = std::fs::read(wasm).map_err(|source| io(wasm, source))?;
    let script = std::fs::read_to_string(js).map_err(|source| io(js, source))?;
    let (bytes, renamed) = rename_imports(&bytes, module).map_err(|what| malformed(wasm, what))?;
    let mut script = script;
    for (old, new) in &renamed {
        let key = format!("{old}:");
        if script.matches(&key).count() != 1 {
            return Err(XtaskError::Setup(format!(
                "{}: the import `{old}` is not one key of the import object",
                js.display()
            )));
        }
        script = script.replacen(&key, &format!("{new}:"), 1);
    }
    let object = format!("\"{module}\": ");
    if script.matches(&object).count() != 1 {
        return Err(XtaskError::Setup(format!(
            "{}: no single import object for `{module}`",
            js.display()
        )));
    }
    let script = script.replacen(&object, &format!("\"{SHORT_MODULE}\": "), 1);
    std::fs::write(wasm, bytes).map_err(|source| io(wasm, source))?;
    std::fs::write(js, script).map_err(|source| io(js, source))
}

/// An import's name before and after.
type Renamed = (String, String);

/// The module name the renamed imports come from.
const SHORT_MODULE: &str = "a";

/// `wasm` with the imports from `module` renamed, and the names given.
fn rename_imports(wasm: &[u8], module: &str) -> Parsed<(Vec<u8>, Vec<Renamed>)> {
    let mut reader = Reader { bytes: wasm, at: 0 };
    let header = reader.take(8)?;
    let mut out = header.to_vec();
    let mut renamed = Vec::new();
    while !reader.done() {
        let id = reader.byte()?;
        let size = reader.leb()?;
        let body = reader.take(size)?;
        let body = if id == IMPORT_SECTION {
            imports(body, module, &mut renamed)?
        } else {
            body.to_vec()
        };
        out.push(id);
        push_leb(&mut out, body.len());
        out.extend_from_slice(&body);
    }
    Ok((out, renamed))
}

/// The import section `body`, renamed.
fn imports(body: &[u8], module: &str, renamed: &mut Vec<(String, String)>) -> Parsed<Vec<u8>> {
    let mut reader = Reader { bytes: body, at: 0 };
    let count = reader.leb()?;
    let mut out = Vec::with_capacity(body.len());
    push_leb(&mut out, count);
    for _ in 0..count {
        let from = reader.name()?;
        let name = reader.name()?;
        let start = reader.at;
        reader.skip_descriptor()?;
        let descriptor = &body[start..reader.at];
        let (from, name) = if from == module {
            let short = short_name(renamed.len());
            renamed.push((name.to_owned(), short.clone()));
            (SHORT_MODULE.to_owned(), short)
        } else {
            (from.to_owned(), name.to_owned())
        };
        push_name(&mut out, &from);
        push_name(&mut out, &name);
        out.extend_from_slice(descriptor);
    }
    if !reader.done() {
        return Err("bytes after the imports".to_owned());
    }
    Ok(out)
}

/// `a`…`z`, `A`…`Z`, then `aa`, `ab`…: identifiers, so the script's
/// object keys stay unquoted.
fn short_name(mut index: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(LETTERS[index % LETTERS.len()]);
        index /= LETTERS.len();
        if index == 0 {
            break;
        }
        index -= 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, len: usize) -> Parsed<&'a [u8]> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Parsed<u8> {
        Ok(self.take(1)?[0])
    }

    /// An unsigned LEB128 number (sizes and counts fit in 32 bits).
    fn leb(&mut self) -> Parsed<usize> {
        let mut value = 0usize;
        for shift in (0..35).step_by(7) {
            let byte = self.byte()?;
            value |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(format!("a number too long at byte {}", self.at))
    }

    fn name(&mut self) -> Parsed<&'a str> {
        let len = self.leb()?;
        std::str::from_utf8(self.take(len)?).map_err(|_| "a name that is not UTF-8".to_owned())
    }

    /// Limits of a table or memory: a flag, the minimum, maybe a maximum.
    fn skip_limits(&mut self) -> Parsed<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }

    /// What is imported: a function's type, a table, a memory, a global
    /// or a tag.
    fn skip_descriptor(&mut self) -> Parsed<()> {
        match self.byte()? {
            0x00 => self.leb().map(drop),
            0x01 => {
                self.byte()?;
                self.skip_limits()
            }
            0x02 => self.skip_limits(),
            0x03 => self.take(2).map(drop),
            0x04 => {
                self.byte()?;
                self.leb().map(drop)
            }
            other => Err(format!("an import of unknown kind {other:#x}")),
        }
    }
}

fn push_leb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn push_name(out: &mut Vec<u8>, name: &str) {
    push_leb(out, name.len());
    out.extend_from_slice(name.as_bytes());
}

fn io(path: &Path, source: std::io::Error) -> XtaskError {
    XtaskError::Io {
        path: path.to_owned(),
        source,
    }
}

fn malformed(path: &Path, what: String) -> XtaskError {
    XtaskError::Setup(format!(
        "{}: not a wasm module this can read: {what}",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_distinct_identifiers() {
        let names: Vec<String> = (0..3000).map(short_name).collect();
        assert_eq!(&names[..3], ["a", "b", "c"]);
        assert_eq!(names[52], "aa");
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(names
            .iter()
            .all(|name| name.bytes().all(|b| b.is_ascii_alphabetic())));
    }

    /// A module with `imports` (module, name, descriptor) and a custom
    /// section after them.
    fn module(imports: &[(&str, &str, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        push_leb(&mut body, imports.len());
        for (from, name, descriptor) in imports {
            push_name(&mut body, from);
            push_name(&mut body, name);
            body.extend_from_slice(descriptor);
        }
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.push(IMPORT_SECTION);
        push_leb(&mut wasm, body.len());
        wasm.extend_from_slice(&body);
        wasm.extend_from_slice(&[0x00, 0x02, 0x01, b'z']);
        wasm
    }

    #[test]
    fn imports_from_the_script_are_renamed_and_the_rest_kept() {
        // A function of type 0, and a memory of 1 to 2 pages.
        let function: &[u8] = &[0x00, 0x00];
        let memory: &[u8] = &[0x02, 0x01, 0x01, 0x02];
        let wasm = module(&[
            ("./x_bg.js", "__wbg_f_0123", function),
            ("env", "memory", memory),
        ]);
        let (out, renamed) = rename_imports(&wasm, "./x_bg.js").expect("renamed");
        assert_eq!(renamed, [("__wbg_f_0123".to_owned(), "a".to_owned())]);
        assert_eq!(
            out,
            module(&[("a", "a", function), ("env", "memory", memory)])
        );
        assert!(rename_imports(&wasm[..wasm.len() - 3], "./x_bg.js").is_err());
    }
}
