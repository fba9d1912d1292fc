//! The leak finding over the dumps of one process, a pure function of what the
//! store gives back. For three consecutive dumps A, B, C, the window A..B
//! retained the objects of B that are not in A and are still in C, matched by
//! (address, generation): a freed slot's new object has the address of the old
//! one but a later generation. Sites that retain in window after window come
//! first; for the top ones, who holds them and one shortest path from a ROOT.

use std::collections::{BTreeMap, HashMap};

use super::table::{ObjectTable, ROOT_PARENT, UNTRACED};

/// Where and what an object is: type, class and allocation site.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteKey {
    pub kind: String,
    pub class: String,
    pub file: Option<String>,
    pub line: u32,
    pub gem: Option<String>,
}

impl SiteKey {
    /// `file:line`, or a note that the objects carry no allocation information.
    pub fn place(&self) -> String {
        match &self.file {
            Some(file) => format!("{file}:{}", self.line),
            None => "(no allocation info)".to_string(),
        }
    }

    /// `Class (file:line)`, for holders and paths.
    pub fn label(&self) -> String {
        let what = if self.class.is_empty() {
            self.kind.as_str()
        } else {
            self.class.as_str()
        };
        match &self.file {
            Some(_) => format!("{what} ({})", self.place()),
            None => what.to_string(),
        }
    }
}

/// One dump of a process, as the store gives it back.
#[derive(Debug, Clone)]
pub struct HeapDump {
    pub ts_us: i64,
    /// Live objects and bytes.
    pub objects: u64,
    pub bytes: u64,
    pub untraced_objects: u64,
    pub roots: Vec<String>,
    pub sites: Vec<SiteKey>,
    pub table: ObjectTable,
    /// The process's RSS at the dump's time (nearest sample), if known.
    pub rss_bytes: Option<i64>,
}

/// Objects of one site retained in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retained {
    pub objects: u64,
    pub bytes: u64,
}

/// One window: allocated between dumps `from` and `to`, still live at `until`.
#[derive(Debug, Clone)]
pub struct Window {
    pub from_us: i64,
    pub to_us: i64,
    pub until_us: i64,
    /// Queue messages the process delivered between `from` and `to`.
    pub messages: Option<i64>,
    /// Why the window cannot be trusted (compaction moved objects), if so.
    pub unreliable: Option<String>,
    pub retained: Retained,
    pub sites: BTreeMap<SiteKey, Retained>,
}

impl Window {
    pub fn hours(&self) -> f64 {
        (self.to_us - self.from_us) as f64 / 3.6e9
    }
}

/// One site over all windows.
#[derive(Debug, Clone)]
pub struct SiteTrend {
    pub site: SiteKey,
    /// Retained per window, in window order (zero where it retained nothing).
    pub per_window: Vec<Retained>,
    /// Windows (of the reliable ones) in which it retained anything.
    pub windows_retaining: usize,
    pub total: Retained,
    pub objects_per_hour: Option<f64>,
    pub bytes_per_hour: Option<f64>,
    pub objects_per_message: Option<f64>,
    /// The objects holding the retained ones (for the top sites): the first
    /// object older than the window on the shortest path from a ROOT, by site.
    pub holders: Vec<(String, u64)>,
    /// One shortest path from a ROOT to one retained object (top sites).
    pub root_path: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Sites retain window after window and the heap grows.
    HeapGrows,
    /// RSS grows while the heap does not: a leak outside the Ruby heap.
    OutsideHeap,
    NothingGrows,
    /// Fewer than three dumps: no window can be told.
    TooFewDumps,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::HeapGrows => "heap grows",
            Verdict::OutsideHeap => "RSS grows outside the heap",
            Verdict::NothingGrows => "nothing grows",
            Verdict::TooFewDumps => "too few dumps",
        }
    }
}

#[derive(Debug, Clone)]
pub struct HeapAnalysis {
    pub windows: Vec<Window>,
    /// Sites retaining in the most windows first, then by bytes.
    pub sites: Vec<SiteTrend>,
    pub heap_growth_bytes: i64,
    pub rss_growth_bytes: Option<i64>,
    pub verdict: Verdict,
    /// The verdict in a sentence.
    pub reason: String,
}

/// How many of the top sites get holders and a root path.
pub const EXPLAINED_SITES: usize = 5;
/// Hops of a root path shown at each end; the middle of a longer one is elided.
const PATH_ENDS: usize = 6;
/// Retained bytes per window, as a share of the heap, above which retaining
/// window after window is a growing heap rather than noise.
const HEAP_SHARE: f64 = 0.005;
/// RSS growth, as a share of RSS at the first dump, that counts as growth.
const RSS_SHARE: f64 = 0.05;

/// Objects of `b` not in `a` (traced ones only: untraced objects predate tracing).
fn new_in(a: &ObjectTable, b: &ObjectTable) -> Vec<bool> {
    let mut j = 0;
    b.address
        .iter()
        .zip(&b.generation)
        .map(|(&address, &generation)| {
            if generation == UNTRACED {
                return false;
            }
            while j < a.len() && a.address[j] < address {
                j += 1;
            }
            !(j < a.len() && a.address[j] == address && a.generation[j] == generation)
        })
        .collect()
}

/// Whether each object of `b` is in `c` (same address and generation).
fn still_in(b: &ObjectTable, c: &ObjectTable, of: &[bool]) -> Vec<bool> {
    let mut kept = vec![false; b.len()];
    let mut j = 0;
    for i in 0..b.len() {
        if !of[i] {
            continue;
        }
        let address = b.address[i];
        while j < c.len() && c.address[j] < address {
            j += 1;
        }
        kept[i] = j < c.len() && c.address[j] == address && c.generation[j] == b.generation[i];
    }
    kept
}

/// The leak finding over one process's dumps, oldest first; `messages[i]` is
/// how many queue messages it delivered between dumps i and i + 1.
pub fn analyse(dumps: &[HeapDump], messages: &[Option<i64>]) -> HeapAnalysis {
    let mut windows = Vec::new();
    let mut retained_in: Vec<Vec<bool>> = Vec::new();
    let mut new_in_window: Vec<Vec<bool>> = Vec::new();
    for w in 0..dumps.len().saturating_sub(2) {
        let (a, b, c) = (&dumps[w], &dumps[w + 1], &dumps[w + 2]);
        let new = new_in(&a.table, &b.table);
        let kept = still_in(&b.table, &c.table, &new);
        let mut sites: BTreeMap<SiteKey, Retained> = BTreeMap::new();
        let mut total = Retained::default();
        for (i, _) in kept.iter().enumerate().filter(|(_, &k)| k) {
            let bytes = b.table.memsize[i];
            let Some(key) = b.sites.get(b.table.site[i] as usize) else {
                continue;
            };
            let r = sites.entry(key.clone()).or_default();
            r.objects += 1;
            r.bytes += bytes;
            total.objects += 1;
            total.bytes += bytes;
        }
        let rises: Vec<String> = [(a, b), (b, c)]
            .iter()
            .filter(|(x, y)| y.untraced_objects > x.untraced_objects)
            .map(|(x, y)| {
                format!(
                    "objects without allocation info rose by {} (compaction moved objects)",
                    y.untraced_objects - x.untraced_objects
                )
            })
            .collect();
        windows.push(Window {
            from_us: a.ts_us,
            to_us: b.ts_us,
            until_us: c.ts_us,
            messages: messages.get(w).copied().flatten(),
            unreliable: (!rises.is_empty()).then(|| rises.join("; ")),
            retained: total,
            sites,
        });
        retained_in.push(kept);
        new_in_window.push(new);
    }

    let mut sites = site_trends(&windows);
    for trend in sites.iter_mut().take(EXPLAINED_SITES) {
        explain(trend, dumps, &windows, &retained_in, &new_in_window);
    }

    let heap_growth_bytes = match (dumps.first(), dumps.last()) {
        (Some(first), Some(last)) => last.bytes as i64 - first.bytes as i64,
        _ => 0,
    };
    let rss_growth_bytes = match (
        dumps.first().and_then(|d| d.rss_bytes),
        dumps.last().and_then(|d| d.rss_bytes),
    ) {
        (Some(first), Some(last)) if dumps.len() > 1 => Some(last - first),
        _ => None,
    };
    let (verdict, reason) = verdict(dumps, &windows, &sites, heap_growth_bytes, rss_growth_bytes);
    HeapAnalysis {
        windows,
        sites,
        heap_growth_bytes,
        rss_growth_bytes,
        verdict,
        reason,
    }
}

fn site_trends(windows: &[Window]) -> Vec<SiteTrend> {
    let mut by_site: HashMap<&SiteKey, Vec<Retained>> = HashMap::new();
    for (w, window) in windows.iter().enumerate() {
        for (key, r) in &window.sites {
            by_site
                .entry(key)
                .or_insert_with(|| vec![Retained::default(); windows.len()])[w] = *r;
        }
    }
    let reliable_hours: f64 = windows
        .iter()
        .filter(|w| w.unreliable.is_none())
        .map(Window::hours)
        .sum();
    let mut trends: Vec<SiteTrend> = by_site
        .into_iter()
        .map(|(site, per_window)| {
            let mut total = Retained::default();
            let mut windows_retaining = 0;
            let mut messages = Some(0i64);
            for (w, r) in per_window.iter().enumerate() {
                if windows[w].unreliable.is_some() {
                    continue;
                }
                total.objects += r.objects;
                total.bytes += r.bytes;
                windows_retaining += (r.objects > 0) as usize;
                messages = messages.zip(windows[w].messages).map(|(a, b)| a + b);
            }
            let hourly = |n: u64| (reliable_hours > 0.0).then(|| n as f64 / reliable_hours);
            SiteTrend {
                site: site.clone(),
                objects_per_hour: hourly(total.objects),
                bytes_per_hour: hourly(total.bytes),
                objects_per_message: messages
                    .filter(|&m| m > 0)
                    .map(|m| total.objects as f64 / m as f64),
                per_window,
                windows_retaining,
                total,
                holders: Vec::new(),
                root_path: Vec::new(),
            }
        })
        .collect();
    trends.sort_by(|a, b| {
        b.windows_retaining
            .cmp(&a.windows_retaining)
            .then(b.total.bytes.cmp(&a.total.bytes))
            .then(b.total.objects.cmp(&a.total.objects))
            .then_with(|| a.site.cmp(&b.site))
    });
    trends
}

/// Holders and one root path for a top site, from the windows it retained in.
fn explain(
    trend: &mut SiteTrend,
    dumps: &[HeapDump],
    windows: &[Window],
    retained_in: &[Vec<bool>],
    new_in_window: &[Vec<bool>],
) {
    let mut holders: HashMap<String, u64> = HashMap::new();
    let mut path_from: Option<(usize, usize)> = None;
    for (w, kept) in retained_in.iter().enumerate() {
        if windows[w].unreliable.is_some() || trend.per_window[w].objects == 0 {
            continue;
        }
        let b = &dumps[w + 1];
        let new = &new_in_window[w];
        let Some(site) = b.sites.iter().position(|s| *s == trend.site) else {
            continue;
        };
        let mut memo: HashMap<u32, String> = HashMap::new();
        for (i, _) in kept.iter().enumerate().filter(|(_, &k)| k) {
            if b.table.site[i] as usize != site {
                continue;
            }
            path_from = Some((w + 1, i));
            let holder = holder_of(b, new, i as u32, &mut memo);
            *holders.entry(holder).or_default() += 1;
        }
    }
    let mut holders: Vec<(String, u64)> = holders.into_iter().collect();
    holders.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    holders.truncate(3);
    trend.holders = holders;
    if let Some((d, i)) = path_from {
        trend.root_path = root_path(&dumps[d], i);
    }
}

fn describe(dump: &HeapDump, i: usize) -> String {
    dump.sites
        .get(dump.table.site[i] as usize)
        .map_or_else(|| "?".to_string(), SiteKey::label)
}

fn describe_root(dump: &HeapDump, parent: u32) -> String {
    let category = (parent & !ROOT_PARENT) as usize;
    format!(
        "ROOT {}",
        dump.roots.get(category).map_or("?", String::as_str)
    )
}

/// The first object older than the window on `i`'s shortest path from a ROOT
/// (or that ROOT), memoised along the way: a leaked list's nodes share theirs.
fn holder_of(dump: &HeapDump, new: &[bool], i: u32, memo: &mut HashMap<u32, String>) -> String {
    let mut chain = Vec::new();
    let mut at = i;
    let found = loop {
        if let Some(known) = memo.get(&at) {
            break known.clone();
        }
        let parent = dump.table.parent[at as usize];
        if parent & ROOT_PARENT != 0 {
            break describe_root(dump, parent);
        }
        chain.push(at);
        if !new[parent as usize] {
            break describe(dump, parent as usize);
        }
        if chain.len() > dump.table.len() {
            break "?".to_string();
        }
        at = parent;
    };
    for c in chain {
        memo.insert(c, found.clone());
    }
    found
}

fn root_path(dump: &HeapDump, i: usize) -> Vec<String> {
    let mut path = vec![describe(dump, i)];
    let mut at = i;
    loop {
        let parent = dump.table.parent[at];
        if parent & ROOT_PARENT != 0 {
            path.push(describe_root(dump, parent));
            break;
        }
        if path.len() > dump.table.len() {
            break;
        }
        at = parent as usize;
        path.push(describe(dump, at));
    }
    path.reverse();
    if path.len() > 2 * PATH_ENDS + 1 {
        let hidden = path.len() - 2 * PATH_ENDS;
        let tail = path.split_off(path.len() - PATH_ENDS);
        path.truncate(PATH_ENDS);
        path.push(format!("... {hidden} more ..."));
        path.extend(tail);
    }
    path
}

fn mb(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn verdict(
    dumps: &[HeapDump],
    windows: &[Window],
    sites: &[SiteTrend],
    heap_growth: i64,
    rss_growth: Option<i64>,
) -> (Verdict, String) {
    let reliable = windows.iter().filter(|w| w.unreliable.is_none()).count();
    if dumps.len() < 3 {
        return (
            Verdict::TooFewDumps,
            format!("{} dumps: a window needs three", dumps.len()),
        );
    }
    let first = &dumps[0];
    let rss_grows = match (rss_growth, first.rss_bytes) {
        (Some(g), Some(rss)) => g > 0 && g as f64 >= RSS_SHARE * rss as f64,
        _ => false,
    };
    let persistent: Vec<&SiteTrend> = sites
        .iter()
        .filter(|s| reliable > 0 && s.windows_retaining == reliable)
        .collect();
    let per_window: u64 =
        persistent.iter().map(|s| s.total.bytes).sum::<u64>() / reliable.max(1) as u64;
    if !persistent.is_empty()
        && heap_growth > 0
        && per_window as f64 >= HEAP_SHARE * first.bytes as f64
    {
        let top = persistent[0];
        let mut reason = format!(
            "the heap grows by {} over {} dumps; {} sites retain in every window, first {} ({} {}, {} objects, {} bytes)",
            mb(heap_growth),
            dumps.len(),
            persistent.len(),
            top.site.place(),
            top.site.kind,
            top.site.class,
            top.total.objects,
            top.total.bytes
        );
        if let Some(rss) = rss_growth.filter(|&g| rss_grows && heap_growth * 4 < g) {
            reason.push_str(&format!(
                "; RSS grows by {}, more than the heap explains",
                mb(rss)
            ));
        }
        return (Verdict::HeapGrows, reason);
    }
    if rss_grows && heap_growth.max(0) * 4 < rss_growth.unwrap_or(0) {
        return (
            Verdict::OutsideHeap,
            format!(
                "RSS grows by {} while the heap grows by {}: the memory is outside the Ruby heap (native extensions, malloc fragmentation), not in any heap site",
                mb(rss_growth.unwrap_or(0)),
                mb(heap_growth)
            ),
        );
    }
    if reliable == 0 {
        return (
            Verdict::NothingGrows,
            "no reliable window (compaction between the dumps)".to_string(),
        );
    }
    (
        Verdict::NothingGrows,
        format!(
            "no site retains enough window after window (heap {} over {} dumps{})",
            mb(heap_growth),
            dumps.len(),
            rss_growth.map_or(String::new(), |g| format!(", RSS {}", mb(g)))
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(class: &str, line: u32) -> SiteKey {
        SiteKey {
            kind: "OBJECT".into(),
            class: class.into(),
            file: Some("a.rb".into()),
            line,
            gem: None,
        }
    }

    /// Objects as (address, generation, site, parent); parent None is ROOT vm.
    fn dump(hour: i64, objects: &[(u64, u32, u32, Option<u32>)], untraced: u64) -> HeapDump {
        let mut table = ObjectTable::default();
        for &(a, g, s, p) in objects {
            table.push(a, g, s, 40, p.unwrap_or(ROOT_PARENT));
        }
        HeapDump {
            ts_us: hour * 3_600_000_000,
            objects: objects.len() as u64,
            bytes: 40 * objects.len() as u64,
            untraced_objects: untraced,
            roots: vec!["vm".into()],
            sites: vec![key("Holder", 1), key("Leak", 2), key("Churn", 3)],
            table,
            rss_bytes: None,
        }
    }

    #[test]
    fn a_window_keeps_what_is_new_and_still_there_by_address_and_generation() {
        let a = dump(0, &[(0x100, 1, 0, None), (0x200, 1, 2, Some(0))], 5);
        // 0x200 is a new object in a reused slot (generation 3); 0x300 new.
        let b = dump(
            1,
            &[
                (0x100, 1, 0, None),
                (0x200, 3, 1, Some(0)),
                (0x300, 3, 1, Some(1)),
                (0x400, 3, 2, Some(0)),
            ],
            5,
        );
        // 0x400 was freed; 0x300 is still there.
        let c = dump(
            2,
            &[
                (0x100, 1, 0, None),
                (0x200, 3, 1, Some(0)),
                (0x300, 3, 1, Some(1)),
            ],
            5,
        );
        let analysis = analyse(&[a, b, c], &[Some(4), Some(4)]);
        let w = &analysis.windows[0];
        assert_eq!(w.retained.objects, 2);
        assert_eq!(w.sites[&key("Leak", 2)].objects, 2);
        assert!(!w.sites.contains_key(&key("Churn", 3)));
        let top = &analysis.sites[0];
        assert_eq!(top.site, key("Leak", 2));
        assert_eq!(top.objects_per_hour, Some(2.0));
        assert_eq!(top.objects_per_message, Some(0.5));
        assert_eq!(top.holders, vec![("Holder (a.rb:1)".to_string(), 2)]);
        assert_eq!(
            top.root_path,
            [
                "ROOT vm",
                "Holder (a.rb:1)",
                "Leak (a.rb:2)",
                "Leak (a.rb:2)"
            ]
        );
    }

    #[test]
    fn a_rise_of_untraced_objects_marks_the_window_unreliable() {
        let a = dump(0, &[(0x100, 1, 0, None)], 5);
        let b = dump(1, &[(0x100, 1, 0, None)], 9);
        let c = dump(2, &[(0x100, 1, 0, None)], 9);
        let analysis = analyse(&[a, b, c], &[]);
        assert!(analysis.windows[0].unreliable.is_some());
        assert_eq!(analysis.verdict, Verdict::NothingGrows);
    }
}
