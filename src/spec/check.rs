//! Rules that need more than one key at a time.

use super::{ColorMapSpec, DPI_RANGE, Key, KeyError, Length, Spec, X_DEFAULTS, Y_DEFAULTS};

impl Spec {
    /// Checks that need more than one value at a time.
    pub(super) fn check(&self) -> Result<(), KeyError> {
        use Key::Field as F;
        let x = self.axes.x.field(&X_DEFAULTS);
        let y = self.axes.y.field(&Y_DEFAULTS);
        if x == y {
            return Err(KeyError::new(
                &[F("axes"), F("y"), F("field")],
                format!("both axes use the field `{x}`"),
                Some("give x and y different fields, e.g. x: pp, y: tp".into()),
            ));
        }
        let mut patterns = vec![(vec![F("inputs"), F("filename")], &self.inputs.filename)];
        if let Some(logs) = &self.inputs.logs {
            patterns.push((vec![F("inputs"), F("logs"), F("line")], &logs.line));
        }
        for (keys, pattern) in patterns {
            for field in [x, y] {
                if !pattern.has_capture(field) {
                    return Err(KeyError::new(
                        &keys,
                        format!("pattern has no capture named `{field}`, which an axis needs"),
                        Some(format!("add a named group such as `(?P<{field}>\\d+)`")),
                    ));
                }
            }
        }
        if self.inputs.traces.0.is_empty() {
            return Err(KeyError::new(
                &[F("inputs"), F("traces")],
                "no trace globs given",
                Some("list at least one glob, e.g. `traces: ../runs/*.json`".into()),
            ));
        }
        if let Some(logs) = &self.inputs.logs
            && logs.success.0.is_empty()
            && logs.failure.0.is_empty()
        {
            return Err(KeyError::new(
                &[F("inputs"), F("logs")],
                "`logs` lists neither a success nor a failure log",
                Some("add `success:` and/or `failure:` globs, or remove `logs`".into()),
            ));
        }
        let [lo, hi] = self.color.range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(KeyError::new(
                &[F("color"), F("range")],
                format!("colour range [{lo}, {hi}] is empty"),
                Some("write it as [low, high] with low < high".into()),
            ));
        }
        if !(2..=20).contains(&self.color.ticks) {
            return Err(KeyError::new(
                &[F("color"), F("ticks")],
                format!("{} colorbar ticks is out of range", self.color.ticks),
                Some("use 2 to 20 ticks".into()),
            ));
        }
        if let ColorMapSpec::Stops(stops) = &self.color.map
            && stops.len() < 2
        {
            return Err(KeyError::new(
                &[F("color"), F("map")],
                "a colour map needs at least two stops",
                None,
            ));
        }
        if let ColorMapSpec::Name(name) = &self.color.map
            && crate::colormap::named(name).is_none()
        {
            return Err(KeyError::new(
                &[F("color"), F("map")],
                format!("unknown colour map `{name}`"),
                Some(format!(
                    "use one of {}, or a list of colours",
                    crate::colormap::NAMES.join(", ")
                )),
            ));
        }
        for (i, t) in self.thresholds.iter().enumerate() {
            if t.comparison().is_none() {
                return Err(KeyError::new(
                    &[F("thresholds"), Key::Index(i)],
                    "a threshold needs exactly one of `above`, `at-least`, `below`, `at-most`",
                    Some("e.g. `above: 80` marks cells whose value is > 80".into()),
                ));
            }
        }
        if self.cells.decimals > 6 {
            return Err(KeyError::new(
                &[F("cells"), F("decimals")],
                format!("{} decimals is too many", self.cells.decimals),
                Some("use 0 to 6".into()),
            ));
        }
        if !DPI_RANGE.contains(&self.output.dpi) {
            return Err(KeyError::new(
                &[F("output"), F("dpi")],
                format!("DPI {} is out of range", self.output.dpi),
                Some(format!(
                    "use {} to {} (300 for print, 600 for line art)",
                    DPI_RANGE.start(),
                    DPI_RANGE.end()
                )),
            ));
        }
        if self.output.formats.is_empty() {
            return Err(KeyError::new(
                &[F("output"), F("formats")],
                "no output formats",
                Some("use any of [pdf, png, svg, typ]".into()),
            ));
        }
        for (i, format) in self.output.formats.iter().enumerate() {
            if self.output.formats[..i].contains(format) {
                return Err(KeyError::new(
                    &[F("output"), F("formats"), Key::Index(i)],
                    format!("`{}` is listed twice", format.extension()),
                    Some("list each format once".into()),
                ));
            }
        }
        if let Some(aspect) = self.style.aspect {
            if self.style.width.is_none() || self.style.height.is_some() {
                return Err(KeyError::new(
                    &[F("style"), F("aspect")],
                    "`aspect` needs `width` and no `height`",
                    Some("set `width`, then `aspect: 0.4` makes the height 0.4 × width".into()),
                ));
            }
            if !(aspect.is_finite() && (0.05..=5.0).contains(&aspect)) {
                return Err(KeyError::new(
                    &[F("style"), F("aspect")],
                    format!("aspect {aspect} is out of range"),
                    Some("use a height:width ratio between 0.05 and 5".into()),
                ));
            }
        }
        let sizes = [
            ("width", self.style.width.map(|w| w.0)),
            ("height", self.style.height),
            ("font-size", Some(self.style.font_size)),
            ("title-font-size", self.style.title_font_size),
            ("cell-font-size", self.style.cell_font_size),
        ];
        for (key, value) in sizes {
            let limit = if key.ends_with("font-size") {
                2.0..=72.0
            } else {
                36.0..=1440.0
            };
            if let Some(Length(pt)) = value
                && !limit.contains(&pt)
            {
                return Err(KeyError::new(
                    &[F("style"), F(key)],
                    format!("{key} {pt:.1}pt is out of range"),
                    Some(format!("use {}pt to {}pt", limit.start(), limit.end())),
                ));
            }
        }
        Ok(())
    }

    /// Width and height of the figure in points, where fixed.
    pub fn figure_size(&self) -> (Option<f64>, Option<f64>) {
        let width = self.style.width.map(|w| w.0.0);
        let height = match (self.style.height, self.style.aspect, width) {
            (Some(h), _, _) => Some(h.0),
            (None, Some(a), Some(w)) => Some(w * a),
            _ => None,
        };
        (width, height)
    }
}
