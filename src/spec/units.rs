//! Numbers and their unit: text that names a unit must name the one the
//! numbers are in (`units.display`), or the figure is off by a factor of
//! 1000 or more under its own label.

use super::{Key, KeyError, RATIO, Spec, Unit};

impl Spec {
    /// Text naming a unit of another size than `units.display` would
    /// print every number under a unit 1000 or 1024 times off: the label,
    /// a colorbar title the spec wrote, and the literal text of
    /// `cells.text`. A label padded with spaces would double the separator.
    pub(super) fn check_unit_texts(&self) -> Vec<KeyError> {
        use Key::Field as F;
        let units = &self.units;
        let display = units.display;
        let mut errors = Vec::new();
        let other = |text: &str| {
            Unit::named_in(text)
                .into_iter()
                .find(|u| u.magnitude() != display.magnitude())
        };
        if units.label_written {
            if units.label.trim() != units.label {
                errors.push(KeyError::new(
                    &[F("units"), F("label")],
                    format!("label `{}` has spaces around it", units.label),
                    Some(format!(
                        "write `label: {}`; the space between a number and its unit is `units.separator` (none, thin or space)",
                        units.label.trim()
                    )),
                ));
            }
            if let Some(named) = other(&units.label) {
                errors.push(KeyError::new(
                    &[F("units"), F("label")],
                    format!(
                        "label `{}` names {}, but the numbers are in {} (`units.display`)",
                        units.label,
                        named.name(),
                        display.name()
                    ),
                    Some(format!(
                        "remove `label` to print `{}`, or set `display: {}` to show the numbers in {}",
                        display.label(),
                        named.name(),
                        named.name()
                    )),
                ));
            }
        }
        let title = self
            .color
            .title
            .as_deref()
            .filter(|_| self.color.metric != RATIO);
        if let Some((title, named)) = title.and_then(|t| Some((t, other(t)?))) {
            errors.push(KeyError::new(
                &[F("color"), F("title")],
                format!(
                    "colorbar title `{title}` names {}, but its ticks are in {} (`units.display`)",
                    named.name(),
                    display.name()
                ),
                Some(format!(
                    "name {} in the title, or remove `title` to get one that follows the unit",
                    units.label
                )),
            ));
        }
        for (i, line) in self.cells.text.iter().flatten().enumerate() {
            if let Some(named) = other(&literal_text(line)) {
                errors.push(KeyError::new(
                    &[F("cells"), F("text"), Key::Index(i)],
                    format!(
                        "cell text `{line}` names {}, but the numbers are in {} (`units.display`)",
                        named.name(),
                        display.name()
                    ),
                    Some(
                        "print the unit with `{{ unit }}` or `|amount`, which follow `units.display`"
                            .into(),
                    ),
                ));
            }
        }
        errors
    }
}

/// A minijinja template without its `{{ … }}`, `{% … %}` and `{# … #}`:
/// the text it prints as written.
fn literal_text(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find(['{']) {
        let close = match rest[start..].get(..2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            Some("{#") => "#}",
            _ => {
                out.push_str(&rest[..=start]);
                rest = &rest[start + 1..];
                continue;
            }
        };
        out.push_str(&rest[..start]);
        out.push(' ');
        rest = rest[start..]
            .find(close)
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_one;

    /// The first error of a spec with `extra` keys: its key path, message
    /// and hint.
    fn error(extra: &str) -> (String, String, String) {
        let e = parse_one("t.yaml", &format!("inputs: {{traces: x}}\n{extra}")).unwrap_err();
        let crate::spec::Place::File { .. } = e.place else {
            panic!("{e}")
        };
        let text = e.to_string();
        let (place, message) = text.split_once(": ").unwrap();
        (place.into(), message.into(), e.hint.unwrap_or_default())
    }

    #[test]
    fn r19_units_are_named_spelled_out_and_not_as_batch_sizes() {
        assert_eq!(Unit::named_in("Peak (GB/GPU)"), [Unit::GB]);
        assert_eq!(
            Unit::named_in("gigabytes, Mbytes, kibibyte, bytes"),
            [Unit::GB, Unit::MB, Unit::KiB, Unit::B]
        );
        // Batch sizes and plurals of the short names are not units.
        assert!(Unit::named_in("mbs=2, gbs=1024, GBs").is_empty());
    }

    #[test]
    fn r19_text_that_names_another_unit_than_the_numbers_is_an_error() {
        assert_eq!(
            error("units: {label: megabytes}\n").1,
            "label `megabytes` names MB, but the numbers are in GiB (`units.display`)"
        );
        let (place, message, hint) =
            error("units: {display: MiB}\ncolor: {title: 'Peak memory (GB)'}\n");
        assert_eq!(place, "t.yaml:3:16");
        assert_eq!(
            message,
            "colorbar title `Peak memory (GB)` names GB, but its ticks are in MiB (`units.display`)"
        );
        assert_eq!(
            hint,
            "name MiB in the title, or remove `title` to get one that follows the unit"
        );
        let (place, message, _) = error(
            "units: {display: MiB}\ncells: {text: ['mbs {{ mbs }}', '{{ actual|fixed }} Gbyte']}\n",
        );
        assert_eq!(place, "t.yaml:3:33");
        assert_eq!(
            message,
            "cell text `{{ actual|fixed }} Gbyte` names GB, but the numbers are in MiB (`units.display`)"
        );
        let (_, message, hint) = error("units: {label: ' GB'}\n");
        assert_eq!(message, "label ` GB` has spaces around it");
        assert_eq!(
            hint,
            "write `label: GB`; the space between a number and its unit is `units.separator` (none, thin or space)"
        );
        // Same magnitude, a ratio's title, fields in the template: fine.
        for fine in [
            "units: {display: GiB}\ncolor: {title: 'Peak (GB)'}\n",
            "units: {display: MiB}\ncolor: {metric: ratio, title: 'GB / GB'}\n",
            "units: {display: MiB}\ncells: {text: ['{{ gbs }} {{ actual|amount }}']}\n",
        ] {
            parse_one("t.yaml", &format!("inputs: {{traces: x}}\n{fine}"))
                .unwrap_or_else(|e| panic!("{fine}: {e}"));
        }
    }

    #[test]
    fn r19_the_separator_follows_the_venue_and_never_stands_alone() {
        let suffix = |extra: &str| {
            parse_one("t.yaml", &format!("inputs: {{traces: x}}\n{extra}"))
                .unwrap()
                .unit_suffix()
        };
        assert_eq!(suffix(""), "GB");
        assert_eq!(suffix("style: {venue: ieee}\n"), "\u{202f}GB");
        assert_eq!(
            suffix("style: {venue: ieee}\nunits: {separator: space, display: MiB}\n"),
            "\u{a0}MiB"
        );
        // No label, no separator: numbers end where they end.
        assert_eq!(suffix("style: {venue: acm}\nunits: {label: ''}\n"), "");
    }

    #[test]
    fn literal_text_drops_template_code() {
        assert_eq!(literal_text("a {{ b }}c{% if x %}d{# e #}{"), "a  c d {");
    }
}
