//! `check`, `data` and `init`: the subcommands that stop before writing
//! a figure.

use std::io::Write as _;
use std::path::Path;

use rayon::prelude::*;

use super::{
    CheckArgs, DataArgs, InitArgs, file_or_stdout, print, report, usage_error, write_file,
};
use crate::compile::Engine;
use crate::diag::{self, DiagnosticFormat};
use crate::numbers::DataFormat;
use crate::{BuildOptions, Failed, Warning, paths};

pub(super) fn check(args: &CheckArgs, format: DiagnosticFormat) -> bool {
    let options = args.overrides.options(args.strict);
    let engine = Engine::default();
    let results: Vec<Result<Vec<Warning>, Box<Failed>>> = args
        .specs
        .par_iter()
        .map(|spec| {
            let model = crate::load(spec, &options, &engine)?;
            match crate::compile_checked(&model) {
                Ok(figure) => Ok(model.warnings_with(&figure)),
                Err(error) => Err(model.failed(error)),
            }
        })
        .collect();
    let mut all_ok = true;
    let mut err = std::io::stderr().lock();
    for result in &results {
        let text = match result {
            Ok(warnings) => diag::warnings(warnings, format),
            Err(failed) => {
                all_ok = false;
                diag::failure(failed, format)
            }
        };
        let _ = err.write_all(text.as_bytes());
    }
    all_ok
}

pub(super) fn data(args: &DataArgs, format: DiagnosticFormat) -> bool {
    let target = file_or_stdout(&args.output);
    if args.deps.is_some() && target.is_none() {
        usage_error(
            "--deps names what the -o file depends on; give one, e.g. `-o numbers/485B.tex --deps numbers/485B.d`",
        );
    }
    if args.deps.as_ref().is_some_and(|d| d.as_os_str() == "-") {
        usage_error("`--deps -`: give a file such as `numbers/485B.d`");
    }
    if let (Some(deps), Some(target)) = (&args.deps, target)
        && paths::tidy(deps) == paths::tidy(target)
    {
        usage_error("--deps and -o name the same file; name the depfile e.g. `numbers/485B.d`");
    }
    let options = BuildOptions {
        depfile: args.deps.clone(),
        ..args.overrides.options(args.strict)
    };
    let engine = Engine::default();
    let mut err = std::io::stderr().lock();
    let model = match crate::load(&args.spec, &options, &engine) {
        Ok(model) => model,
        Err(failed) => {
            let _ = err.write_all(diag::failure(&failed, format).as_bytes());
            drop(err);
            // A failure is never up to date: the stamp keeps its rules, dated 1970.
            if let Some(deps) = &args.deps
                && let Err(e) = crate::deps::write_stamp(deps, &failed.deps, &[], None)
            {
                report(e, format);
            }
            return false;
        }
    };
    if model.strict && !model.warnings.is_empty() {
        let error = crate::Error::Strict(model.warnings.clone());
        let failed = model.failed(error);
        let _ = err.write_all(diag::failure(&failed, format).as_bytes());
        return false;
    }
    let _ = err.write_all(diag::warnings(&model.warnings, format).as_bytes());
    drop(err);
    let data_format = args
        .format
        .or_else(|| target.and_then(DataFormat::from_extension))
        .unwrap_or(DataFormat::Csv);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| crate::numbers::default_name(&args.spec));
    let text = crate::numbers::render(model.data(&model.table), data_format, &name);
    let Some(path) = target else {
        return print(&text, format);
    };
    // The depfile is checked first: a path make cannot read, or a depfile
    // over an input, writes neither file.
    if let Some(deps) = &args.deps {
        let checked = crate::deps::check_stamp(deps, &model.deps, &[path.to_path_buf()])
            .and_then(|()| Ok(crate::deps::render(deps, &model.deps).map(drop)?));
        if let Err(e) = checked {
            return report(e, format);
        }
    }
    if !write_file(path, text.as_bytes(), &model.deps.files, format) {
        return false;
    }
    match &args.deps {
        Some(deps) => {
            let written = [path.to_path_buf()];
            match crate::deps::write_stamp(deps, &model.deps, &written, Some(model.started)) {
                Ok(()) => true,
                Err(e) => report(e, format),
            }
        }
        None => true,
    }
}

pub(super) fn init(args: &InitArgs, format: DiagnosticFormat) -> bool {
    use std::io::IsTerminal as _;
    let interactive = std::io::stdin().is_terminal();
    let mut ask = |question: &crate::init::Question| {
        if interactive {
            ask_on_terminal(question)
        } else {
            0
        }
    };
    match crate::init::init(&args.dir, args.output.as_deref(), args.force, &mut ask) {
        Ok(mut done) => {
            if let Some(spec) = &done.spec {
                done.warnings.extend(as_built(spec));
                done.warnings.sort();
                done.warnings.dedup();
            }
            let _ = std::io::stderr().write_all(diag::warnings(&done.warnings, format).as_bytes());
            match &done.spec {
                Some(spec) => {
                    let spec = paths::shown(spec);
                    print(
                        &format!("wrote {spec}\nnext: memheat build {}\n", shell_word(&spec)),
                        format,
                    )
                }
                None => print(&done.text, format),
            }
        }
        Err(failed) => {
            let failed = Failed::new(failed.error.into(), failed.warnings, Default::default());
            let _ = std::io::stderr().write_all(diag::failure(&failed, format).as_bytes());
            false
        }
    }
}

/// What a build of the new spec will say about its inputs: it is loaded
/// as `memheat build` loads it, so a config the spec drops, or a sweep
/// with no outcome source, is said now and not at the first build.
fn as_built(spec: &Path) -> Vec<Warning> {
    let engine = Engine::default();
    match crate::load(spec, &crate::BuildOptions::default(), &engine) {
        Ok(model) => model.warnings,
        Err(failed) => {
            let mut warnings = failed.warnings;
            warnings.push(Warning::new(
                spec,
                format!(
                    "`memheat build` will fail on this spec: {}; edit it as the comments say",
                    failed.error
                ),
            ));
            warnings
        }
    }
}

/// Asks on stderr, reads a number from stdin; Enter, end of input or
/// three wrong answers take the first option.
fn ask_on_terminal(question: &crate::init::Question) -> usize {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", question.topic);
    for (i, option) in question.options.iter().enumerate() {
        let _ = writeln!(err, "  {}) {option}", i + 1);
    }
    for _ in 0..3 {
        let _ = write!(err, "choose 1-{} [1]: ", question.options.len());
        let _ = err.flush();
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).unwrap_or(0) == 0 {
            break;
        }
        match answer.trim().parse::<usize>() {
            _ if answer.trim().is_empty() => break,
            Ok(n) if (1..=question.options.len()).contains(&n) => return n - 1,
            _ => {}
        }
    }
    0
}

/// A path as a shell word, quoted only when it needs to be.
fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
