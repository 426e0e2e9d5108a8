//! Validation and replay: the captured values checked against the schema, and each device's
//! timeline rebuilt backwards from dump time (see the parent module's docs).

use std::collections::BTreeMap;
use std::fmt;

use super::capture::{BLOCK, DOC, ENTRY, Raw, SEGMENT, Schema};
use super::{
    DEVICE, MAX_DEVICES, MAX_KEPT_ITEMS, MAX_SIZE, OomEntry, STATES, Snapshot, SnapshotError,
};

/// Where a value sits, e.g. `device_traces[0][17].size`; formatted only for errors.
enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'static str),
    Index(&'p Path<'p>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => f.write_str("snapshot"),
            Path::Key(Path::Root, key) => f.write_str(key),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn kind(raw: &Raw) -> &'static str {
    match raw {
        Raw::Int(_) => "an integer",
        Raw::Float(_) => "a float",
        Raw::Str(_) => "a string",
        Raw::Other(kind) => kind,
        Raw::List(..) => "a list",
        Raw::Dict(_) => "a dict",
    }
}

fn wrong(raw: &Raw, path: &Path, expected: &'static str) -> SnapshotError {
    let found = match raw {
        Raw::Int(v) => format!("the integer {v}"),
        Raw::Float(v) => format!("the float {v}"),
        Raw::Str(v) => format!("the string `{v}`"),
        _ => kind(raw).to_owned(),
    };
    SnapshotError::WrongType(path.to_string(), found, expected)
}

/// A kept dict, with its path and the field names of its schema.
struct Fields<'r, 'p>(
    &'r [(usize, Raw)],
    &'p Path<'p>,
    &'static [(&'static str, Schema)],
);

impl<'r, 'p> Fields<'r, 'p> {
    fn of(raw: &'r Raw, schema: Schema, path: &'p Path<'p>) -> Result<Self, SnapshotError> {
        match (raw, schema, path) {
            (Raw::Dict(kept), Schema::Dict(names), _) => Ok(Fields(kept, path, names)),
            (_, _, Path::Root) => Err(SnapshotError::NotADict(kind(raw))),
            _ => Err(wrong(raw, path, "a dict")),
        }
    }

    /// The last value of `key`, as Python keeps the last of duplicate keys.
    fn get(&self, key: &str) -> Option<&'r Raw> {
        let index = self.2.iter().position(|(name, _)| *name == key)?;
        self.0
            .iter()
            .rev()
            .find(|(i, _)| *i == index)
            .map(|(_, raw)| raw)
    }

    fn need(&self, key: &'static str) -> Result<&'r Raw, SnapshotError> {
        let missing = || SnapshotError::MissingKey(self.1.to_string(), key);
        self.get(key).ok_or_else(missing)
    }

    fn size(&self, key: &'static str) -> Result<u64, SnapshotError> {
        size(self.need(key)?, &Path::Key(self.1, key))
    }

    fn text(&self, key: &'static str) -> Result<&'r str, SnapshotError> {
        match self.need(key)? {
            Raw::Str(s) => Ok(s),
            other => Err(wrong(other, &Path::Key(self.1, key), "a string")),
        }
    }

    fn list(&self, key: &'static str) -> Result<&'r [Raw], SnapshotError> {
        list(self.need(key)?, &Path::Key(self.1, key))
    }
}

/// A byte count: an exact, non-negative integer of at most 2^53.
fn size(raw: &Raw, path: &Path) -> Result<u64, SnapshotError> {
    match *raw {
        Raw::Int(v) if v < 0 => Err(SnapshotError::NegativeSize(path.to_string(), v)),
        Raw::Int(v) if v.unsigned_abs() > MAX_SIZE => {
            Err(SnapshotError::SizeTooLarge(path.to_string(), v))
        }
        Raw::Int(v) => Ok(v.unsigned_abs()),
        _ => Err(wrong(raw, path, "an integer byte count")),
    }
}

fn list<'r>(raw: &'r Raw, path: &Path) -> Result<&'r [Raw], SnapshotError> {
    match raw {
        Raw::List(items, len) if items.len() < *len => Err(SnapshotError::TooMany(
            "trace entries, segments and blocks",
            MAX_KEPT_ITEMS,
        )),
        Raw::List(items, _) => Ok(items),
        other => Err(wrong(other, path, "a list")),
    }
}

/// One device's totals at dump time: (allocated, requested, reserved).
type AtDump = (i128, i128, i128);

/// Per device, the dump-time totals from `segments`.
fn dump_totals(segments: &[Raw], path: &Path) -> Result<BTreeMap<usize, AtDump>, SnapshotError> {
    let mut totals = BTreeMap::<usize, AtDump>::new();
    for (i, segment) in segments.iter().enumerate() {
        let path = Path::Index(path, i);
        let segment = Fields::of(segment, SEGMENT, &path)?;
        let device = usize::try_from(segment.size("device")?).ok();
        let device = device.filter(|&device| device < MAX_DEVICES);
        let raw = segment.need("device")?;
        let device = device.ok_or_else(|| wrong(raw, &Path::Key(&path, "device"), DEVICE))?;
        let total = totals.entry(device).or_default();
        total.0 += i128::from(segment.size("allocated_size")?);
        total.1 += requested_bytes(segment.list("blocks")?, &Path::Key(&path, "blocks"))?;
        total.2 += i128::from(segment.size("total_size")?);
    }
    Ok(totals)
}

/// Σ `requested_size` of the blocks that hold memory: every state but `inactive`.
fn requested_bytes(blocks: &[Raw], path: &Path) -> Result<i128, SnapshotError> {
    let mut requested = 0;
    for (j, block) in blocks.iter().enumerate() {
        let path = Path::Index(path, j);
        let block = Fields::of(block, BLOCK, &path)?;
        requested += match block.text("state")? {
            "inactive" => 0,
            "active_allocated" | "active_pending_free" | "active_awaiting_free" => {
                i128::from(block.size("requested_size")?)
            }
            _ => {
                return Err(wrong(
                    block.need("state")?,
                    &Path::Key(&path, "state"),
                    STATES,
                ));
            }
        };
    }
    Ok(requested)
}

/// One device's trace: how each entry moves (requested, reserved) bytes.
type Deltas = Vec<(i128, i128)>;
/// An `oom` entry's size and `device_free`.
type Oom = (u64, Option<u64>);

fn trace(entries: &[Raw], path: &Path) -> Result<(Deltas, Vec<Oom>), SnapshotError> {
    let (mut deltas, mut ooms) = (Vec::with_capacity(entries.len()), Vec::new());
    for (k, entry) in entries.iter().enumerate() {
        let path = Path::Index(path, k);
        let entry = Fields::of(entry, ENTRY, &path)?;
        let sign = match entry.text("action")? {
            "alloc" => (1, 0),
            "free_completed" => (-1, 0),
            "segment_alloc" | "segment_map" => (0, 1),
            "segment_free" | "segment_unmap" => (0, -1),
            "oom" => {
                let free = entry.get("device_free").map(|_| entry.size("device_free"));
                ooms.push((entry.size("size")?, free.transpose()?));
                (0, 0)
            }
            _ => (0, 0),
        };
        let bytes = match sign {
            (0, 0) => 0,
            _ => i128::from(entry.size("size")?),
        };
        deltas.push((sign.0 * bytes, sign.1 * bytes));
    }
    Ok((deltas, ooms))
}

/// The largest total over the timeline that ends at `at_dump`, rebuilt backwards (module docs);
/// or the entry before which the total would be negative.
fn peak_backwards(at_dump: i128, deltas: &[i128]) -> Result<i128, usize> {
    let (mut total, mut peak) = (at_dump, at_dump);
    for (entry, delta) in deltas.iter().enumerate().rev() {
        total -= delta;
        if total < 0 {
            return Err(entry);
        }
        peak = peak.max(total);
    }
    Ok(peak)
}

/// A total as `f64`, refused above 2^53 where `f64` would round it.
fn exact(value: i128, what: &'static str) -> Result<f64, SnapshotError> {
    match u64::try_from(value) {
        Ok(v) if v <= MAX_SIZE => Ok(v as f64),
        _ => Err(SnapshotError::TotalTooLarge(what, value)),
    }
}

pub(super) fn summarize(root: &Raw) -> Result<Snapshot, SnapshotError> {
    let doc = Fields::of(root, DOC, &Path::Root)?;
    let totals = dump_totals(doc.list("segments")?, &Path::Key(&Path::Root, "segments"))?;
    let traces = doc.list("device_traces")?;
    if traces.len() > MAX_DEVICES {
        return Err(SnapshotError::TooMany("devices", MAX_DEVICES as u64));
    }
    // Every device's dump-time total is a point of its timeline, traced or not.
    let mut peaks: Vec<(i128, i128)> = totals.values().map(|t| (t.1, t.2)).collect();
    let (mut first_oom, mut ooms, mut devices, mut entries) = (None, 0, 0, 0);
    for (device, raw) in traces.iter().enumerate() {
        let traces_path = Path::Key(&Path::Root, "device_traces");
        let path = Path::Index(&traces_path, device);
        let (deltas, device_ooms) = trace(list(raw, &path)?, &path)?;
        let at_dump = totals.get(&device).copied().unwrap_or_default();
        let (requested, reserved): (Vec<_>, Vec<_>) = deltas.iter().copied().unzip();
        let inconsistent = |basis| {
            move |entry| SnapshotError::Inconsistent {
                device,
                entry,
                basis,
            }
        };
        let requested = peak_backwards(at_dump.1, &requested).map_err(inconsistent("requested"))?;
        let reserved = peak_backwards(at_dump.2, &reserved).map_err(inconsistent("reserved"))?;
        peaks.push((requested, reserved));
        devices += usize::from(!deltas.is_empty());
        entries += deltas.len();
        ooms += device_ooms.len();
        first_oom = first_oom.or(device_ooms
            .first()
            .map(|&(size, free)| (device, size, free)));
    }
    let peak = |pick: fn(&(i128, i128)) -> i128, what| match devices {
        0 => Ok(None),
        _ => exact(peaks.iter().map(pick).max().unwrap_or(0), what).map(Some),
    };
    let most =
        |pick: fn(&AtDump) -> i128, what| exact(totals.values().map(pick).max().unwrap_or(0), what);
    // Sizes are at most 2^53, so `as f64` is exact.
    let oom = first_oom.map(|(device, size, free)| OomEntry {
        device,
        requested: size as f64,
        device_free: free.map(|free| free as f64),
        count: ooms,
    });
    Ok(Snapshot {
        peak_allocated: peak(|p| p.0, "the allocated peak")?,
        peak_reserved: peak(|p| p.1, "the reserved peak")?,
        allocated_at_dump: most(|t| t.0, "the allocated total")?,
        requested_at_dump: most(|t| t.1, "the requested total")?,
        reserved_at_dump: most(|t| t.2, "the reserved total")?,
        oom,
        devices,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_items_are_capped() {
        let err = list(&Raw::List(vec![], 1), &Path::Root)
            .unwrap_err()
            .to_string();
        let message = "the snapshot has more than 4194304 trace entries, segments and blocks";
        assert_eq!(err, message);
    }
}
