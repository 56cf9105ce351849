//! `org.apache.kafka.connect.transforms.RegexRouter`: a topic that the
//! regex matches whole (`Matcher.matches`) is replaced by
//! `Matcher.replaceFirst(replacement)`: the first match `find()` gives is
//! replaced, the rest of the topic kept. Records of other topics pass
//! unchanged.

use super::{TRecord, TransformError};

pub(super) fn regex_router(
    whole: &regex::Regex,
    find: &regex::Regex,
    replacement: &str,
    mut r: TRecord,
) -> Result<Option<TRecord>, TransformError> {
    if !whole.is_match(&r.topic) {
        return Ok(Some(r));
    }
    let Some(caps) = find.captures(&r.topic) else {
        return Ok(Some(r));
    };
    let m = caps.get(0).expect("group 0");
    let mut topic = String::with_capacity(r.topic.len());
    topic.push_str(&r.topic[..m.start()]);
    java_replacement(replacement, &caps, find, &mut topic)?;
    topic.push_str(&r.topic[m.end()..]);
    r.topic = topic;
    Ok(Some(r))
}

/// Appends `replacement` as Java's `Matcher.appendReplacement` reads it:
/// `\x` is `x`; `$n` a numbered group (more digits are taken while the
/// number stays a group), `${name}` a named one; a group that did not
/// take part adds nothing; a group that does not exist is an error.
pub(super) fn java_replacement(
    replacement: &str,
    caps: &regex::Captures<'_>,
    re: &regex::Regex,
    out: &mut String,
) -> Result<(), TransformError> {
    let groups = re.captures_len() - 1;
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => out.push(next),
                None => {
                    return Err(TransformError(
                        "replacement: character to be escaped is missing".into(),
                    ))
                }
            },
            '$' => {
                if chars.peek() == Some(&'{') {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    if !re.capture_names().any(|n| n == Some(name.as_str())) {
                        return Err(TransformError(format!(
                            "replacement: no group with name {{{name}}}"
                        )));
                    }
                    if let Some(g) = caps.name(&name) {
                        out.push_str(g.as_str());
                    }
                    continue;
                }
                let Some(first) = chars.peek().and_then(|c| c.to_digit(10)) else {
                    return Err(TransformError(
                        "replacement: illegal group reference ('$' not followed by a group)".into(),
                    ));
                };
                chars.next();
                let mut n = first as usize;
                while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                    let next = n * 10 + d as usize;
                    if next > groups {
                        break;
                    }
                    n = next;
                    chars.next();
                }
                if n > groups {
                    return Err(TransformError(format!("replacement: no group {n}")));
                }
                if let Some(g) = caps.get(n) {
                    out.push_str(g.as_str());
                }
            }
            c => out.push(c),
        }
    }
    Ok(())
}
