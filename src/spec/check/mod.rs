//! Rules that need more than one key at a time.

mod part;

use super::{ColorMapSpec, DPI_RANGE, Key, KeyError, Length, Spec, TICK_SCALE, Width};
use part::check_part;

/// Longest title, label or cell-text template, in characters: a figure
/// text longer than this is a mistake, and would lay out for seconds.
pub(crate) const MAX_TEXT: usize = 500;
/// Most thresholds.
pub(super) const MAX_ITEMS: usize = 256;
/// Most values on one axis, and most cells in a figure: a 64 × 64 grid
/// already takes seconds in Typst, and a sweep has a few dozen configs.
pub(crate) const MAX_AXIS_VALUES: usize = 100;
pub(crate) const MAX_CELLS: usize = 4096;
/// Most panels in a figure: more would be too small to read side by side.
pub(super) const MAX_PANELS: usize = 8;
/// Largest gap between cells.
pub(super) const MAX_GAP_PT: f64 = 20.0;

impl Spec {
    /// Checks that need more than one value at a time.
    /// Every problem found, not only the first, so one run reports them all;
    /// too many panels or thresholds stops there, before they are looked at.
    pub(super) fn check(&self) -> Result<(), Vec<KeyError>> {
        if let Some(too_many) = self.too_many_panels() {
            return Err(vec![too_many]);
        }
        let mut errors = Vec::new();
        self.check_parts(&mut errors);
        self.check_texts(&mut errors);
        errors.extend(self.check_unit_texts());
        if let Some(too_many) = self.too_many_thresholds() {
            errors.push(too_many);
            return Err(errors);
        }
        self.check_color(&mut errors);
        self.check_thresholds(&mut errors);
        self.check_cells(&mut errors);
        self.check_output(&mut errors);
        self.check_style(&mut errors);
        errors.extend(self.check_text_sizes());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn too_many_panels(&self) -> Option<KeyError> {
        use Key::Field as F;
        if self.panels.len() > MAX_PANELS {
            return Some(KeyError::new(
                &[F("panels")],
                format!("{} panels is too many", self.panels.len()),
                Some(format!("a figure has at most {MAX_PANELS} panels")),
            ));
        }
        None
    }

    fn too_many_thresholds(&self) -> Option<KeyError> {
        use Key::Field as F;
        if self.thresholds.len() > MAX_ITEMS {
            return Some(KeyError::new(
                &[F("thresholds")],
                format!("{} thresholds is too many", self.thresholds.len()),
                Some(format!("use at most {MAX_ITEMS}")),
            ));
        }
        None
    }

    /// Inputs or panels, the panel columns, and each part's inputs and axes.
    fn check_parts(&self, errors: &mut Vec<KeyError>) {
        use Key::Field as F;
        if self.panels.is_empty() && self.inputs.is_none() {
            errors.push(KeyError::new(
                &[],
                "the spec has neither `inputs` nor `panels`",
                Some("add `inputs: {traces: ../runs/*.json}`, or a list of `panels`".into()),
            ));
        }
        if let Some(columns) = self.style.panel_columns
            && !(1..=MAX_PANELS).contains(&columns)
        {
            errors.push(KeyError::new(
                &[F("style"), F("panel-columns")],
                format!("{columns} panel columns is out of range"),
                Some(format!("use 1 to {MAX_PANELS}")),
            ));
        }
        for part in self.parts() {
            errors.extend(check_part(&part).into_iter().map(|e| part.error(e)));
        }
    }

    /// Titles, labels and cell-text templates: none longer than [`MAX_TEXT`].
    fn check_texts(&self, errors: &mut Vec<KeyError>) {
        use Key::Field as F;
        let texts = [
            (vec![F("title")], self.title.as_deref()),
            (vec![F("subtitle")], self.subtitle.as_deref()),
            (
                vec![F("axes"), F("x"), F("title")],
                self.axes.x.title.as_deref(),
            ),
            (
                vec![F("axes"), F("y"), F("title")],
                self.axes.y.title.as_deref(),
            ),
            (vec![F("color"), F("title")], self.color.title.as_deref()),
        ];
        let panel_titles = self.panels.iter().enumerate().map(|(i, p)| {
            (
                vec![F("panels"), Key::Index(i), F("title")],
                Some(p.title.as_str()),
            )
        });
        let cell_texts = self
            .cells
            .text
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, t)| (vec![F("cells"), F("text"), Key::Index(i)], Some(t.as_str())));
        for (keys, text) in texts.into_iter().chain(panel_titles).chain(cell_texts) {
            let chars = text.map_or(0, |t| t.chars().count());
            if chars > MAX_TEXT {
                errors.push(KeyError::new(
                    &keys,
                    format!("text of {chars} characters is too long"),
                    Some(format!("use at most {MAX_TEXT} characters")),
                ));
            }
        }
    }

    /// The colour range, its centre, the ticks and the map.
    fn check_color(&self, errors: &mut Vec<KeyError>) {
        use Key::Field as F;
        let [lo, hi] = self.color.range();
        if !(lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite()) {
            errors.push(KeyError::new(
                &[F("color"), F("range")],
                format!("colour range [{lo:?}, {hi:?}] is empty or not finite"),
                Some("write it as [low, high] with low < high".into()),
            ));
        } else if let Some(center) = self.color.center
            && !(lo < center && center < hi)
        {
            // An end as the centre would leave half the map without values.
            errors.push(KeyError::new(
                &[F("color"), F("center")],
                format!("`center` {center:?} is not inside the colour range [{lo:?}, {hi:?}]"),
                Some(
                    "the centre gets the map's midpoint: give a value strictly inside `range`"
                        .into(),
                ),
            ));
        }
        if !(2..=20).contains(&self.color.ticks) {
            errors.push(KeyError::new(
                &[F("color"), F("ticks")],
                format!("{} colorbar ticks is out of range", self.color.ticks),
                Some("use 2 to 20 ticks".into()),
            ));
        }
        if let ColorMapSpec::Stops(stops) = &self.color.map
            && stops.len() < 2
        {
            errors.push(KeyError::new(
                &[F("color"), F("map")],
                "a colour map needs at least two stops",
                None,
            ));
        }
        if let ColorMapSpec::Name(name) = &self.color.map
            && crate::colormap::named(name).is_none()
        {
            errors.push(KeyError::new(
                &[F("color"), F("map")],
                format!("unknown colour map `{name}`"),
                Some(match super::closest(name, crate::colormap::NAMES) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "use one of {}, or a list of colours",
                        crate::colormap::NAMES.join(", ")
                    ),
                }),
            ));
        }
    }

    /// Each threshold compares with exactly one finite number.
    fn check_thresholds(&self, errors: &mut Vec<KeyError>) {
        use Key::Field as F;
        for (i, t) in self.thresholds.iter().enumerate() {
            let Some(comparison) = t.comparison() else {
                errors.push(KeyError::new(
                    &[F("thresholds"), Key::Index(i)],
                    "a threshold needs exactly one of `above`, `at-least`, `below`, `at-most`",
                    Some("e.g. `above: 80` marks cells whose value is > 80".into()),
                ));
                continue;
            };
            let (symbol, value) = comparison.symbol();
            if !value.is_finite() {
                errors.push(KeyError::new(
                    &[F("thresholds"), Key::Index(i), F(comparison.key())],
                    format!("threshold `{symbol} {value}` is not a finite number"),
                    Some("give a number in display units, e.g. `above: 80`".into()),
                ));
            }
        }
    }

    /// Cell text: one source of it, and a sane number of decimals.
    fn check_cells(&self, errors: &mut Vec<KeyError>) {
        use Key::Field as F;
        if self.cells.text.is_some()
            && let Some(form) = self.cells.form
        {
            errors.push(KeyError::new(
                &[F("cells"), F("form")],
                format!(
                    "`form: {}` picks a built-in cell text, and `cells.text` gives one",
                    form.name()
                ),
                Some("remove one of them".into()),
            ));
        }
        if self.cells.decimals > 6 {
            errors.push(KeyError::new(
                &[F("cells"), F("decimals")],
                format!("{} decimals is too many", self.cells.decimals),
                Some("use 0 to 6".into()),
            ));
        }
    }

    /// DPI and the list of formats.
    fn check_output(&self, errors: &mut Vec<KeyError>) {
        use Key::Field as F;
        if !DPI_RANGE.contains(&self.output.dpi) {
            errors.push(KeyError::new(
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
            errors.push(KeyError::new(
                &[F("output"), F("formats")],
                "no output formats",
                Some("use any of [pdf, png, svg, typ]".into()),
            ));
        }
        for (i, format) in self.output.formats.iter().enumerate() {
            if self.output.formats[..i].contains(format) {
                errors.push(KeyError::new(
                    &[F("output"), F("formats"), Key::Index(i)],
                    format!("`{}` is listed twice", format.extension()),
                    Some("list each format once".into()),
                ));
            }
        }
    }

    /// Aspect, gap, a venue width without a venue, and every size in range.
    fn check_style(&self, errors: &mut Vec<KeyError>) {
        use Key::Field as F;
        if let Some(aspect) = self.style.aspect {
            if self.style.width.is_none() || self.style.height.is_some() {
                errors.push(KeyError::new(
                    &[F("style"), F("aspect")],
                    "`aspect` needs `width` and no `height`",
                    Some("set `width`, then `aspect: 0.4` makes the height 0.4 × width".into()),
                ));
            }
            if !(aspect.is_finite() && (0.05..=5.0).contains(&aspect)) {
                errors.push(KeyError::new(
                    &[F("style"), F("aspect")],
                    format!("aspect {aspect} is out of range"),
                    Some("use a height:width ratio between 0.05 and 5".into()),
                ));
            }
        }
        if self.style.gap.0 > MAX_GAP_PT {
            errors.push(KeyError::new(
                &[F("style"), F("gap")],
                format!("gap {:.1}pt is out of range", self.style.gap.0),
                Some(format!("use at most {MAX_GAP_PT}pt")),
            ));
        }
        let style = &self.style;
        if let (Some(which @ (Width::Column | Width::Text)), None) = (style.width, style.venue) {
            let name = if which == Width::Column {
                "column"
            } else {
                "text"
            };
            errors.push(KeyError::new(
                &[F("style"), F("width")],
                format!("`width: {name}` is the {name} width of a venue, and `style.venue` is not set"),
                Some(format!(
                    "add `venue: usenix`, `acm` or `ieee`, or write a preset such as `usenix-{name}`"
                )),
            ));
        }
        let width = match style.width {
            Some(Width::Length(l)) => Some(l),
            _ => None,
        };
        let sizes = [
            ("width", width),
            ("height", style.height),
            ("font-size", style.font_size),
            ("title-font-size", style.title_font_size),
            ("cell-font-size", style.cell_font_size),
            ("tick-font-size", style.tick_font_size),
            ("min-font-size", Some(style.min_font_size)),
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
                errors.push(KeyError::new(
                    &[F("style"), F(key)],
                    format!("{key} {pt:.1}pt is out of range"),
                    Some(format!("use {}pt to {}pt", limit.start(), limit.end())),
                ));
            }
        }
    }

    /// Text set at a size below `min-font-size` is an error at the key
    /// that set it: its own, `font-size` (which the others follow), or
    /// `min-font-size` when the size is a default. One error per key.
    fn check_text_sizes(&self) -> Vec<KeyError> {
        use Key::Field as F;
        let style = &self.style;
        let min = style.min_font_size.0;
        let ticks = if style.tick_font_size.is_none() && style.font_size.is_some() {
            format!("tick labels and the legend ({TICK_SCALE} × font-size)")
        } else {
            "tick labels and the legend".into()
        };
        let mut texts = vec![
            (
                Some(("tick-font-size", style.tick_font_size)),
                ticks,
                style.tick_font_size(),
                min / TICK_SCALE,
            ),
            (
                Some(("cell-font-size", style.cell_font_size)),
                "cell text".to_string(),
                style.cell_font_size(),
                min,
            ),
        ];
        if self.title.is_some() && style.shows_title() {
            texts.push((
                Some(("title-font-size", style.title_font_size)),
                "the title".into(),
                style.title_font_size(),
                min,
            ));
        }
        let mut errors: Vec<KeyError> = Vec::new();
        for (own, what, size, needed) in texts {
            if size >= min - 1e-9 {
                continue;
            }
            let (key, needed) = match (own, style.font_size) {
                (Some((key, Some(_))), _) => (key, min),
                (_, Some(_)) => ("font-size", needed),
                (_, None) => ("min-font-size", needed),
            };
            let sets = own.map_or("font-size", |(own, _)| own);
            let keys = [F("style"), F(key)];
            if errors.iter().any(|e| e.keys == keys) {
                continue;
            }
            let fix = if key == "min-font-size" {
                format!("lower `min-font-size`, or set `{sets}`")
            } else {
                format!(
                    "make `{key}` at least {:.1}pt, or lower `min-font-size`",
                    (needed * 10.0 - 1e-6).ceil() / 10.0
                )
            };
            errors.push(KeyError::new(
                &keys,
                format!("{what} would be {size:.1}pt, below `style.min-font-size` ({min}pt)"),
                Some(fix),
            ));
        }
        errors
    }

    /// Width and height of the figure in points, where fixed.
    pub fn figure_size(&self) -> (Option<f64>, Option<f64>) {
        let width = self.style.width.and_then(|w| match (w, self.style.venue) {
            (Width::Length(l), _) => Some(l.0),
            (which, Some(venue)) => venue.width(which),
            // `check` refuses a venue's width without a venue.
            (_, None) => None,
        });
        let height = match (self.style.height, self.style.aspect, width) {
            (Some(h), _, _) => Some(h.0),
            (None, Some(a), Some(w)) => Some(w * a),
            _ => None,
        };
        (width, height)
    }
}
