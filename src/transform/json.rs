//! A JSON tree that writes back exactly what it read.
//!
//! Transforms take records apart and put them together again. The encoder
//! writes numbers as Java does (`1.0E7`) and strings as Jackson escapes
//! them; a general JSON library would rewrite both. Here scalars and
//! object keys keep their text as read, so a record a transform does not
//! change comes out byte for byte the same, and a changed one differs only
//! where it was changed.

use crate::encode::write_json_str;

/// A JSON value; scalars and keys as their source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    /// `null`.
    Null,
    /// A number, `true`, `false` or a string, as written (strings quoted
    /// and escaped).
    Scalar(Box<str>),
    /// An array.
    Array(Vec<Json>),
    /// An object: keys as written (quoted, escaped), in order.
    Object(Vec<(Box<str>, Json)>),
}

/// Why text is not JSON (the byte offset).
#[derive(Debug, PartialEq, Eq)]
pub struct NotJson(pub usize);

impl Json {
    /// Parses one JSON value filling all of `text` (whitespace around it
    /// allowed).
    pub fn parse(text: &[u8]) -> Result<Json, NotJson> {
        let mut p = Parser { s: text, i: 0 };
        let v = p.value(0)?;
        p.ws();
        if p.i != text.len() {
            return Err(NotJson(p.i));
        }
        Ok(v)
    }

    /// A string scalar, escaped as the encoder escapes strings.
    pub fn string(s: &str) -> Json {
        let mut buf = Vec::with_capacity(s.len() + 2);
        write_json_str(&mut buf, s);
        Json::Scalar(String::from_utf8(buf).expect("escaped UTF-8").into())
    }

    /// Writes compact JSON.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Json::Null => out.extend_from_slice(b"null"),
            Json::Scalar(s) => out.extend_from_slice(s.as_bytes()),
            Json::Array(items) => {
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.write(out);
                }
                out.push(b']');
            }
            Json::Object(members) => {
                out.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(k.as_bytes());
                    out.push(b':');
                    v.write(out);
                }
                out.push(b'}');
            }
        }
    }

    /// The compact JSON text.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    /// The member `name` of an object.
    pub fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().find(|(k, _)| key_is(k, name)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The member `name` of an object, to change.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Json> {
        match self {
            Json::Object(m) => m.iter_mut().find(|(k, _)| key_is(k, name)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets member `name` (in place if present, else appended).
    pub fn set(&mut self, name: &str, value: Json) {
        if let Some(v) = self.get_mut(name) {
            *v = value;
        } else if let Json::Object(m) = self {
            m.push((quoted(name), value));
        }
    }

    /// Removes member `name`, if present.
    pub fn remove(&mut self, name: &str) {
        if let Json::Object(m) = self {
            m.retain(|(k, _)| !key_is(k, name));
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// The value of a string scalar, unescaped.
    pub fn as_str(&self) -> Option<String> {
        match self {
            Json::Scalar(s) if s.starts_with('"') => serde_json::from_str(s).ok(),
            _ => None,
        }
    }
}

/// A key as written: quoted and escaped.
pub fn quoted(name: &str) -> Box<str> {
    match Json::string(name) {
        Json::Scalar(s) => s,
        _ => unreachable!("a string is a scalar"),
    }
}

/// Whether written key `k` names `name`.
fn key_is(k: &str, name: &str) -> bool {
    match k.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => inner == name,
        _ => serde_json::from_str::<String>(k).is_ok_and(|s| s == name),
    }
}

/// Nesting deeper than this is refused (the encoder never writes it; a
/// bound keeps a hostile input from exhausting the stack).
const MAX_DEPTH: usize = 128;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self
            .s
            .get(self.i)
            .is_some_and(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
        {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, NotJson> {
        if depth > MAX_DEPTH {
            return Err(NotJson(self.i));
        }
        self.ws();
        let start = self.i;
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    self.expect(b':')?;
                    let v = self.value(depth + 1)?;
                    members.push((k, v));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Object(members));
                        }
                        _ => return Err(NotJson(self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(NotJson(self.i)),
                    }
                }
            }
            Some(b'"') => Ok(Json::Scalar(self.string()?)),
            Some(_) => {
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
                {
                    self.i += 1;
                }
                let text =
                    std::str::from_utf8(&self.s[start..self.i]).map_err(|_| NotJson(start))?;
                match text {
                    "null" => Ok(Json::Null),
                    "true" | "false" => Ok(Json::Scalar(text.into())),
                    // A number as JSON (or Java) writes it.
                    _ if !text.is_empty()
                        && text.parse::<f64>().is_ok()
                        && !text.starts_with('+')
                        && !text.eq_ignore_ascii_case("nan")
                        && !text.to_ascii_lowercase().contains("inf") =>
                    {
                        Ok(Json::Scalar(text.into()))
                    }
                    _ => Err(NotJson(start)),
                }
            }
            None => Err(NotJson(self.i)),
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), NotJson> {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            Ok(())
        } else {
            Err(NotJson(self.i))
        }
    }

    /// A string token, as written.
    fn string(&mut self) -> Result<Box<str>, NotJson> {
        let start = self.i;
        self.expect(b'"')?;
        loop {
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => self.i += 2,
                Some(b) if *b < 0x20 => return Err(NotJson(self.i)),
                Some(_) => self.i += 1,
                None => return Err(NotJson(self.i)),
            }
        }
        let text = self.s.get(start..self.i).ok_or(NotJson(start))?;
        std::str::from_utf8(text)
            .map(Into::into)
            .map_err(|_| NotJson(start))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|i| serde_json::json!(i)),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(|x| serde_json::json!(x)),
            "\\PC{0,6}|[\"\\\\\\x00-\\x1f]{0,3}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(3, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                prop::collection::vec(("[a-z\"\\\\\u{e9}]{0,4}", inner), 0..5)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn what_is_read_is_written_back_byte_for_byte(v in value()) {
            let text = serde_json::to_vec(&v).unwrap();
            let tree = Json::parse(&text).unwrap();
            prop_assert_eq!(tree.to_bytes(), text);
        }

        #[test]
        fn strings_read_back_as_they_were(s in "\\PC{0,8}|[\"\\\\\\x00-\\x1f\u{1f600}]{0,4}") {
            prop_assert_eq!(Json::string(&s).as_str(), Some(s));
        }

        #[test]
        fn garbage_is_refused_not_panicked_on(b in prop::collection::vec(any::<u8>(), 0..32)) {
            let _ = Json::parse(&b);
        }
    }

    #[test]
    fn java_numbers_and_members() {
        let mut v = Json::parse(br#"{"a":1.0E7,"b\"c":"x","n":null}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Json::Scalar("1.0E7".into())));
        assert_eq!(v.get("b\"c").and_then(Json::as_str), Some("x".into()));
        v.set("a", Json::string("y"));
        v.set("z", Json::Null);
        v.remove("n");
        assert_eq!(v.to_bytes(), br#"{"a":"y","b\"c":"x","z":null}"#);
        assert!(Json::parse(b"{\"a\":1} x").is_err());
        assert!(Json::parse(b"[1,]").is_err());
    }
}
