//! The selectors every reading command shares (`pids`, `events`, `export`, `plot`,
//! `workers`): parsed once here into a [`Selection`].

use anyhow::{anyhow, Context, Result};
use chrono::{NaiveDate, NaiveDateTime};
use clap::ValueEnum;
use regex::Regex;

use crate::export::table::TableFormat;
use crate::parse::SampleKind;
use crate::report::DrawOptions;
use crate::store::Selection;
use crate::zone::{Zone, UTC};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// Patched `Memory Info` samples only.
    Patch,
    /// Stock `log_status` samples only.
    Status,
    /// The appliance enrichment's samples only.
    Memlog,
    /// Both.
    All,
}

/// The arguments of the listing commands (`workers`, `pids`, `events`).
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub select: Selectors,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Selectors {
    /// Only this host.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Only worker types matching this regular expression (unanchored; the type
    /// is also tried with `::Runner` appended, as the class name reads).
    #[arg(long, value_name = "REGEX")]
    pub worker: Option<String>,
    /// Only this process id (repeatable).
    #[arg(long, value_name = "N")]
    pub pid: Vec<i64>,
    /// From this time on, inclusive: ISO 8601 (2017-03-01T12:00, 2017-03-01 12:00:00,
    /// 2017-03-01T12:00:00Z, 2017-03-01T08:00-04:00); a date alone is its midnight;
    /// without a zone it is read in --tz.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Up to this time, inclusive (same forms as --from).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Which samples: patched, log_status or both [default: all; for gnuplot and
    /// plot: a process's patched samples when it has any, else its log_status ones].
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub source: Option<SourceArg>,
    /// Time zone for zone-less --from/--to and for the times of listings, gnuplot
    /// files and charts (CSV stays UTC): UTC, +HH:MM / -HH:MM, or an IANA name
    /// such as America/New_York.
    #[arg(
        long,
        default_value = "UTC",
        value_name = "ZONE",
        allow_hyphen_values = true
    )]
    pub tz: Zone,
}

impl Selectors {
    /// The selection, with `default_source` used when `--source` is not given
    /// (`None` = both sources).
    pub fn selection(&self) -> Result<Selection> {
        let worker = self
            .worker
            .as_deref()
            .map(|re| Regex::new(re).with_context(|| format!("invalid --worker regex '{re}'")))
            .transpose()?;
        let from_us = self
            .from
            .as_deref()
            .map(|t| parse_time(t, self.tz).map_err(|e| anyhow!("invalid --from: {e}")))
            .transpose()?;
        let to_us = self
            .to
            .as_deref()
            .map(|t| parse_time(t, self.tz).map_err(|e| anyhow!("invalid --to: {e}")))
            .transpose()?;
        if let (Some(f), Some(t)) = (from_us, to_us) {
            if f > t {
                return Err(anyhow!(
                    "--from {} is after --to {}",
                    self.from.as_deref().unwrap_or_default(),
                    self.to.as_deref().unwrap_or_default()
                ));
            }
        }
        let source = match self.source {
            Some(SourceArg::Patch) => Some(SampleKind::Patch),
            Some(SourceArg::Status) => Some(SampleKind::Status),
            Some(SourceArg::Memlog) => Some(SampleKind::Memlog),
            Some(SourceArg::All) | None => None,
        };
        Ok(Selection {
            host: self.host.clone(),
            worker,
            pids: self.pid.clone(),
            from_us,
            to_us,
            source,
        })
    }

    /// How charts and gnuplot files of the selection are drawn.
    pub fn draw_options(&self, trend: bool) -> DrawOptions {
        DrawOptions {
            zone: self.tz,
            all_sources: self.source.is_some(),
            trend,
        }
    }

    /// The selectors as command-line words (`--tz` when not UTC), to rebuild
    /// the command that made an output.
    pub fn words(&self) -> Vec<String> {
        let mut words = Vec::new();
        let mut push = |flag: &str, value: String| {
            words.push(flag.to_string());
            words.push(value);
        };
        if let Some(h) = &self.host {
            push("--host", h.clone());
        }
        if let Some(w) = &self.worker {
            push("--worker", w.clone());
        }
        for p in &self.pid {
            push("--pid", p.to_string());
        }
        if let Some(f) = &self.from {
            push("--from", f.clone());
        }
        if let Some(t) = &self.to {
            push("--to", t.clone());
        }
        if let Some(s) = self.source.and_then(|s| s.to_possible_value()) {
            push("--source", s.get_name().to_string());
        }
        if self.tz != UTC {
            push("--tz", self.tz.to_string());
        }
        words
    }

    /// The selectors as given, for the header of exported files.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(h) = &self.host {
            parts.push(format!("--host {h}"));
        }
        if let Some(w) = &self.worker {
            parts.push(format!("--worker {w}"));
        }
        for p in &self.pid {
            parts.push(format!("--pid {p}"));
        }
        if let Some(f) = &self.from {
            parts.push(format!("--from {f}"));
        }
        if let Some(t) = &self.to {
            parts.push(format!("--to {t}"));
        }
        if let Some(s) = self.source {
            parts.push(format!(
                "--source {}",
                s.to_possible_value()
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_default()
            ));
        }
        if parts.is_empty() {
            "(everything)".to_string()
        } else {
            parts.join(" ")
        }
    }
}

/// Reads an ISO 8601 time into UTC µs; a time without a zone is in `zone`.
pub fn parse_time(text: &str, zone: Zone) -> Result<i64, String> {
    let bad = || {
        format!(
            "'{text}' is not a time (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.ffffff]], \
             optionally followed by Z or +HH:MM)"
        )
    };
    let t = text.trim();
    let (local, given_zone) = split_zone(t).ok_or_else(bad)?;
    let zone = given_zone.unwrap_or(zone);
    let naive = if local.len() == 10 {
        NaiveDate::parse_from_str(local, "%Y-%m-%d")
            .map_err(|_| bad())?
            .and_hms_opt(0, 0, 0)
            .ok_or_else(bad)?
    } else {
        let normalized = local.replacen(' ', "T", 1);
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(&normalized, f).ok())
            .ok_or_else(bad)?
    };
    Ok(zone.local_to_utc_us(naive.and_utc().timestamp_micros()))
}

/// Splits a trailing `Z` or `±HH:MM` / `±HHMM` / `±HH` off the time part.
fn split_zone(t: &str) -> Option<(&str, Option<Zone>)> {
    if let Some(rest) = t.strip_suffix(['Z', 'z']) {
        return Some((rest, Some(UTC)));
    }
    // The date itself holds '-': only look for a sign after the time starts.
    if t.len() > 11 {
        if let Some(i) = t[11..].rfind(['+', '-']) {
            let at = 11 + i;
            let zone = t[at..].parse::<Zone>().ok()?;
            return Some((&t[..at], Some(zone)));
        }
    }
    Some((t, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::time::format_utc_us;

    fn utc(text: &str, zone: &str) -> String {
        format_utc_us(parse_time(text, zone.parse().unwrap()).unwrap())
    }

    #[test]
    fn reads_iso_times_with_and_without_zones() {
        assert_eq!(utc("2017-03-01", "UTC"), "2017-03-01T00:00:00.000000Z");
        assert_eq!(
            utc("2017-03-01T12:30", "UTC"),
            "2017-03-01T12:30:00.000000Z"
        );
        assert_eq!(
            utc("2017-03-01 12:30:05", "UTC"),
            "2017-03-01T12:30:05.000000Z"
        );
        assert_eq!(
            utc("2017-03-01T12:30:05.25", "UTC"),
            "2017-03-01T12:30:05.250000Z"
        );
        assert_eq!(
            utc("2017-08-11T14:37", "America/New_York"),
            "2017-08-11T18:37:00.000000Z"
        );
        assert_eq!(
            utc("2017-08-11", "America/New_York"),
            "2017-08-11T04:00:00.000000Z"
        );
        assert_eq!(
            utc("2017-08-11T14:37:00Z", "America/New_York"),
            "2017-08-11T14:37:00.000000Z"
        );
        assert_eq!(
            utc("2017-08-11T14:37-04:00", "UTC"),
            "2017-08-11T18:37:00.000000Z"
        );
        assert_eq!(
            utc("2017-08-11T14:37:00+0530", "UTC"),
            "2017-08-11T09:07:00.000000Z"
        );
        for bad in [
            "",
            "yesterday",
            "2017-02-30",
            "2017-03-01T25:00",
            "2017-03-01T12",
            "2017-03-01T12:00+99:00",
        ] {
            assert!(parse_time(bad, UTC).is_err(), "{bad}");
        }
    }
}
