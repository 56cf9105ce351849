//! Single message transforms, configured with Kafka Connect's own keys:
//! `transforms` (names, applied in order), `transforms.<name>.type` and the
//! transform's options under `transforms.<name>.`, and predicates
//! (`predicates`, `predicates.<name>.type`, `transforms.<name>.predicate`,
//! `transforms.<name>.negate`). What each transform does is in
//! `crate::transform`; here they are read and checked, every problem
//! reported at once.

use super::reader::Reader;

/// The transform classes implemented, as `transforms.<name>.type` names them.
pub const SUPPORTED_TRANSFORMS: &[&str] = &[
    "io.debezium.transforms.ExtractNewRecordState",
    "org.apache.kafka.connect.transforms.RegexRouter",
];

/// The predicate classes implemented, as `predicates.<name>.type` names them.
pub const SUPPORTED_PREDICATES: &[&str] = &[
    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
    "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
];

/// One configured transform and the predicate that gates it.
#[derive(Debug, Clone)]
pub struct TransformStage {
    /// The name in `transforms` (for messages).
    pub name: String,
    /// What it does.
    pub kind: TransformKind,
    /// Runs only when the predicate matches (`negate`: when it does not).
    pub predicate: Option<(PredicateKind, bool)>,
}

/// A transform and its options.
#[derive(Debug, Clone)]
pub enum TransformKind {
    /// `io.debezium.transforms.ExtractNewRecordState`.
    Unwrap(UnwrapOptions),
    /// `org.apache.kafka.connect.transforms.RegexRouter`: a topic that
    /// matches `regex` whole becomes `replacement` (Java's `$1` syntax).
    RegexRouter {
        /// Anchored at both ends (Java's `Matcher.matches`).
        regex: regex::Regex,
        /// The same pattern unanchored: Java's `replaceFirst` replaces the
        /// first match `find()` gives, which with an alternation may be a
        /// prefix of the topic.
        find: regex::Regex,
        /// The replacement as Java's `Matcher.replaceFirst` reads it.
        replacement: String,
    },
}

/// `ExtractNewRecordState`'s options (Debezium 3.6 names and defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnwrapOptions {
    /// `delete.tombstone.handling.mode`; default `tombstone`, Debezium's.
    pub mode: DeleteMode,
    /// `add.fields`, each `(struct or "" for the envelope root, field,
    /// output name with the prefix)`.
    pub add_fields: Vec<FieldRef>,
    /// `add.headers`, as `add.fields` with `add.headers.prefix`.
    pub add_headers: Vec<FieldRef>,
    /// `route.by.field`: the column whose (string) value becomes the topic.
    pub route_by_field: Option<String>,
    /// `replace.null.with.default` of the rewrite modes; default true.
    pub replace_null_with_default: bool,
}

/// What `ExtractNewRecordState` makes of deletes and tombstones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// Deletes and tombstones dropped.
    Drop,
    /// A delete becomes a null value (schema kept); tombstones dropped.
    Tombstone,
    /// A delete becomes its before image with `__deleted: "true"`;
    /// tombstones dropped.
    Rewrite,
    /// As `Rewrite`, tombstones kept.
    RewriteWithTombstone,
    /// A delete becomes a Kafka tombstone; the original tombstone dropped.
    DeleteToTombstone,
}

/// One entry of `add.fields` / `add.headers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// The envelope field it is read from (`source`, `transaction`), or
    /// `None` for the envelope's root (`op`, `ts_ms`).
    pub parent: Option<String>,
    /// The field read.
    pub field: String,
    /// The name it is written as (prefix included).
    pub name: String,
}

/// A predicate and its options.
#[derive(Debug, Clone)]
pub enum PredicateKind {
    /// `TopicNameMatches`: the topic matches `pattern` whole.
    TopicNameMatches(regex::Regex),
    /// `RecordIsTombstone`: the value is null.
    RecordIsTombstone,
    /// `HasHeaderKey`: a header named so exists.
    HasHeaderKey(String),
}

/// The comma-separated names of a list key, trimmed, empty ones dropped.
fn names(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A Java regex as Rust's `regex` reads it, anchored (Java's `matches()`).
fn whole_match(r: &mut Reader<'_>, key: &str, pattern: &str) -> Option<regex::Regex> {
    match regex::Regex::new(&format!("^(?:{pattern})$")) {
        Ok(re) => Some(re),
        Err(e) => {
            r.problems.push(format!(
                "{key}: {pattern:?} is not a regular expression this reader understands ({e}); Java-only syntax (look-around, back-references, possessive quantifiers) is not supported"
            ));
            None
        }
    }
}

/// Reads `transforms` and `predicates`; problems go to the reader.
pub(super) fn read(r: &mut Reader<'_>) -> Vec<TransformStage> {
    let transforms = names(r.opt_str("transforms"));
    let declared_predicates = names(r.opt_str("predicates"));
    // Kafka Connect reads the keys of listed names only; the others are
    // left alone there, and said so here.
    let raw: Vec<String> = r.raw.keys().cloned().collect();
    for key in raw {
        for (family, listed) in [
            ("transforms", &transforms),
            ("predicates", &declared_predicates),
        ] {
            let Some(rest) = key.strip_prefix(family).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            let name = rest.split('.').next().unwrap_or_default();
            if !listed.iter().any(|n| n == name) {
                r.raw_value(&key);
                r.warn(
                    &key,
                    format!("{name:?} is not listed in {family}; ignored, as Kafka Connect does"),
                );
            }
        }
    }
    // Every listed predicate is checked, used or not (as Kafka Connect).
    let predicates: Vec<(String, Option<PredicateKind>)> = declared_predicates
        .iter()
        .map(|p| (p.clone(), read_predicate(r, p)))
        .collect();
    let mut stages = Vec::new();
    for name in transforms {
        let p = |k: &str| format!("transforms.{name}.{k}");
        let ty = r.opt_str(&p("type"));
        let predicate_name = r.opt_str(&p("predicate"));
        let negate = match r.opt_str(&p("negate")) {
            // Kafka Connect's Boolean.parseBoolean: "true" in any case.
            Some(v) => {
                if predicate_name.is_none() {
                    r.problems.push(format!(
                        "{}: set, but there is no {} naming the predicate to negate",
                        p("negate"),
                        p("predicate")
                    ));
                }
                v.eq_ignore_ascii_case("true")
            }
            None => false,
        };
        let predicate = match predicate_name {
            None => None,
            Some(pn) => match predicates.iter().find(|(n, _)| *n == pn) {
                Some((_, kind)) => kind.clone().map(|k| (k, negate)),
                None => {
                    r.problems.push(format!(
                        "{}: predicate {pn:?} is not listed in predicates",
                        p("predicate")
                    ));
                    None
                }
            },
        };
        let kind = match ty.as_deref() {
            None => {
                r.problems.push(format!(
                    "{}: required for each name in transforms",
                    p("type")
                ));
                None
            }
            Some("io.debezium.transforms.ExtractNewRecordState") => read_unwrap(r, &name),
            Some("org.apache.kafka.connect.transforms.RegexRouter") => {
                let regex = r.opt_str(&p("regex"));
                let replacement = r.raw_value(&p("replacement")).cloned();
                match (regex, replacement) {
                    (Some(re), Some(replacement)) => {
                        whole_match(r, &p("regex"), &re).and_then(|regex| {
                            let find = regex::Regex::new(&re).ok()?;
                            Some(TransformKind::RegexRouter {
                                regex,
                                find,
                                replacement,
                            })
                        })
                    }
                    _ => {
                        r.problems.push(format!(
                            "transforms.{name}: RegexRouter needs {} and {}",
                            p("regex"),
                            p("replacement")
                        ));
                        None
                    }
                }
            }
            Some(other) => {
                r.problems.push(format!(
                    "{}: {other} is not supported; the supported transforms are {}",
                    p("type"),
                    SUPPORTED_TRANSFORMS.join(", ")
                ));
                None
            }
        };
        if let Some(kind) = kind {
            stages.push(TransformStage {
                name,
                kind,
                predicate,
            });
        }
    }
    stages
}

fn read_predicate(r: &mut Reader<'_>, name: &str) -> Option<PredicateKind> {
    let p = |k: &str| format!("predicates.{name}.{k}");
    match r.opt_str(&p("type")).as_deref() {
        Some("org.apache.kafka.connect.transforms.predicates.TopicNameMatches") => {
            match r.opt_str(&p("pattern")) {
                Some(pattern) => {
                    whole_match(r, &p("pattern"), &pattern).map(PredicateKind::TopicNameMatches)
                }
                None => {
                    r.problems
                        .push(format!("{}: required, and not empty", p("pattern")));
                    None
                }
            }
        }
        Some("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone") => {
            Some(PredicateKind::RecordIsTombstone)
        }
        Some("org.apache.kafka.connect.transforms.predicates.HasHeaderKey") => {
            match r.opt_str(&p("name")) {
                Some(h) => Some(PredicateKind::HasHeaderKey(h)),
                None => {
                    r.problems
                        .push(format!("{}: required, and not empty", p("name")));
                    None
                }
            }
        }
        Some(other) => {
            r.problems.push(format!(
                "{}: {other} is not supported; the supported predicates are {}",
                p("type"),
                SUPPORTED_PREDICATES.join(", ")
            ));
            None
        }
        None => {
            r.problems.push(format!(
                "{}: required for each name in predicates",
                p("type")
            ));
            None
        }
    }
}

fn read_unwrap(r: &mut Reader<'_>, name: &str) -> Option<TransformKind> {
    let p = |k: &str| format!("transforms.{name}.{k}");
    let mode = r.choice(
        &p("delete.tombstone.handling.mode"),
        DeleteMode::Tombstone,
        &[
            ("drop", DeleteMode::Drop),
            ("tombstone", DeleteMode::Tombstone),
            ("rewrite", DeleteMode::Rewrite),
            ("rewrite-with-tombstone", DeleteMode::RewriteWithTombstone),
            ("delete-to-tombstone", DeleteMode::DeleteToTombstone),
        ],
    );
    // Debezium 3.2 removed the old pair; 3.6 ignores them silently, which
    // would change what a 2.x registration produces without a word.
    for old in ["drop.tombstones", "delete.handling.mode"] {
        if r.opt_str(&p(old)).is_some() {
            r.problems.push(format!(
                "{}: removed in Debezium 3.2 (3.6 ignores it); use {} (drop.tombstones=false with delete.handling.mode=rewrite is rewrite-with-tombstone)",
                p(old),
                p("delete.tombstone.handling.mode")
            ));
        }
    }
    for unsupported in [
        "drop.fields.header.name",
        "drop.fields.from.key",
        "drop.fields.keep.schema.compatible",
    ] {
        if r.opt_str(&p(unsupported)).is_some() {
            r.problems.push(format!(
                "{}: not supported yet (no source of this poller sets the header it reads); remove the key",
                p(unsupported)
            ));
        }
    }
    let fields_prefix = r
        .raw_value(&p("add.fields.prefix"))
        .cloned()
        .unwrap_or_else(|| "__".into());
    let headers_prefix = r
        .raw_value(&p("add.headers.prefix"))
        .cloned()
        .unwrap_or_else(|| "__".into());
    let add_fields = field_refs(r, &p("add.fields"), &fields_prefix);
    let add_headers = field_refs(r, &p("add.headers"), &headers_prefix);
    let route_by_field = r.opt_str(&p("route.by.field"));
    let replace_null_with_default = r.bool_or(&p("replace.null.with.default"), true);
    Some(TransformKind::Unwrap(UnwrapOptions {
        mode,
        add_fields,
        add_headers,
        route_by_field,
        replace_null_with_default,
    }))
}

/// `add.fields` syntax: `field`, `struct.field`, either with `:alias`.
/// An unqualified name is read from the envelope's root for `op` and the
/// `ts_*` fields, from `transaction` for its fields, else from `source`
/// (Debezium's `determineStruct`).
fn field_refs(r: &mut Reader<'_>, key: &str, prefix: &str) -> Vec<FieldRef> {
    let mut out = Vec::new();
    for entry in names(r.opt_str(key)) {
        let parts: Vec<&str> = entry.split(':').collect();
        if parts.len() > 2 {
            r.problems
                .push(format!("{key}: {entry:?} has more than one ':'"));
            continue;
        }
        let path: Vec<&str> = parts[0].split('.').collect();
        let (parent, field) = match path.as_slice() {
            [f] => (
                match *f {
                    "op" | "ts_ms" | "ts_us" | "ts_ns" => None,
                    "id" | "total_order" | "data_collection_order" => {
                        Some("transaction".to_string())
                    }
                    _ => Some("source".to_string()),
                },
                f.to_string(),
            ),
            [s, f, ..] => (Some(s.to_string()), f.to_string()),
            [] => continue,
        };
        if let Some(s) = parent
            .as_deref()
            .filter(|s| !matches!(*s, "source" | "transaction"))
        {
            r.problems.push(format!(
                "{key}: {entry:?} reads from {s:?}, which a MySQL change event does not have (source, transaction, or a root field such as op)"
            ));
            continue;
        }
        let name = match parts.get(1) {
            Some(alias) => format!("{prefix}{alias}"),
            None if path.len() == 1 => format!("{prefix}{field}"),
            None => format!("{prefix}{}_{field}", path[0]),
        };
        out.push(FieldRef {
            parent,
            field,
            name,
        });
    }
    out
}
