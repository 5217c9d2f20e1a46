//! Change windows (`governance/change-windows.toml`) in Europe/London wall-clock time. The time
//! they are checked at comes from [`crate::clock`], never from the local clock or a variable.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

use crate::tier::{parse_toml, read};

pub const CHANGE_WINDOWS: &str = lz_repo::paths::CHANGE_WINDOWS;
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("UTC times format")
}

fn last_sunday(year: i32, month: Month) -> Date {
    let mut d =
        Date::from_calendar_date(year, month, month.length(year)).expect("valid last day of month");
    while d.weekday() != Weekday::Sunday {
        d = d.previous_day().expect("in range");
    }
    d
}

/// The UK offset from UTC at `t`: +1 h from 01:00 UTC on the last Sunday of March to 01:00 UTC
/// on the last Sunday of October, 0 otherwise.
pub fn london_offset(t: OffsetDateTime) -> UtcOffset {
    let t = t.to_offset(UtcOffset::UTC);
    let y = t.year();
    let one = Time::from_hms(1, 0, 0).expect("01:00");
    let start = PrimitiveDateTime::new(last_sunday(y, Month::March), one).assume_utc();
    let end = PrimitiveDateTime::new(last_sunday(y, Month::October), one).assume_utc();
    if t >= start && t < end {
        UtcOffset::from_hms(1, 0, 0).expect("+01:00")
    } else {
        UtcOffset::UTC
    }
}

pub fn london(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(london_offset(t))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindows {
    timezone: String,
    #[serde(default)]
    closed: Vec<RawClosed>,
    #[serde(default)]
    freeze: Vec<RawFreeze>,
    /// See [`ChangeWindows::max_clock_skew_minutes`].
    max_clock_skew_minutes: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClosed {
    environments: Vec<String>,
    days: Vec<String>,
    from: String,
    to: String,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFreeze {
    environments: Vec<String>,
    from: String,
    to: String,
    reason: String,
}

#[derive(Clone, Debug)]
pub struct Closed {
    pub environments: Vec<String>,
    pub days: Vec<Weekday>,
    pub from: Time,
    pub to: Time,
    pub reason: String,
    text: String,
}

#[derive(Clone, Debug)]
pub struct Freeze {
    pub environments: Vec<String>,
    pub from: Date,
    pub to: Date,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct ChangeWindows {
    pub closed: Vec<Closed>,
    pub freezes: Vec<Freeze>,
    /// How far (minutes) an unauthenticated decision clock may run from the latest witnessed
    /// checkpoint of the evidence chain ([`crate::clock::bound`]); 10 when the file says nothing.
    pub max_clock_skew_minutes: u32,
}

/// `max_clock_skew_minutes` when change-windows.toml does not state it.
pub const DEFAULT_CLOCK_SKEW_MINUTES: u32 = 10;

const DAYS: [(&str, Weekday); 7] = [
    ("Mon", Weekday::Monday),
    ("Tue", Weekday::Tuesday),
    ("Wed", Weekday::Wednesday),
    ("Thu", Weekday::Thursday),
    ("Fri", Weekday::Friday),
    ("Sat", Weekday::Saturday),
    ("Sun", Weekday::Sunday),
];

fn hhmm(s: &str, origin: &str) -> Result<Time> {
    let (h, m) = s
        .split_once(':')
        .with_context(|| format!("{origin}: time {s:?} is not HH:MM"))?;
    let (h, m): (u8, u8) = (
        h.parse()
            .with_context(|| format!("{origin}: time {s:?} is not HH:MM"))?,
        m.parse()
            .with_context(|| format!("{origin}: time {s:?} is not HH:MM"))?,
    );
    if h == 24 && m == 0 {
        return Ok(Time::from_hms(23, 59, 59).expect("valid"));
    }
    Time::from_hms(h, m, 0).with_context(|| format!("{origin}: time {s:?} is out of range"))
}

fn date(s: &str, origin: &str) -> Result<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).with_context(|| format!("{origin}: date {s:?} is not YYYY-MM-DD"))
}

fn check_envs(envs: &[String], origin: &str) -> Result<()> {
    for e in envs {
        if !lz_platform::ENVIRONMENTS.contains(&e.as_str()) {
            bail!(
                "{origin}: environment {e:?} is not one of {}",
                lz_platform::ENVIRONMENTS.join(", ")
            );
        }
    }
    Ok(())
}

/// Why a promotion may not happen now, and when it next may.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub reason: String,
    pub next_open: Option<OffsetDateTime>,
}

impl Refusal {
    pub fn message(&self, environment: &str, tier: &str) -> String {
        let next = match self.next_open {
            Some(t) => format!(
                "next open window {} ({} Europe/London)",
                rfc3339(t),
                london(t)
                    .format(time::macros::format_description!(
                        "[weekday repr:short] [hour]:[minute]"
                    ))
                    .expect("formats")
            ),
            None => "no open window in the next 366 days".to_string(),
        };
        format!(
            "the change window of {environment} is closed for a {tier} change: {}; {next}",
            self.reason
        )
    }
}

impl ChangeWindows {
    pub fn load(root: &Path) -> Result<ChangeWindows> {
        let path = root.join(CHANGE_WINDOWS);
        ChangeWindows::parse(&read(&path, lz_input::purpose(CHANGE_WINDOWS))?, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<ChangeWindows> {
        let raw: RawWindows = parse_toml(text, origin)?;
        if raw.timezone != "Europe/London" {
            bail!(
                "{origin}: timezone {:?} is not supported (only Europe/London)",
                raw.timezone
            );
        }
        let mut closed = Vec::new();
        for c in raw.closed {
            check_envs(&c.environments, origin)?;
            let days = c
                .days
                .iter()
                .map(|d| {
                    DAYS.iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(d))
                        .map(|(_, w)| *w)
                        .with_context(|| format!("{origin}: day {d:?} is not one of Mon..Sun"))
                })
                .collect::<Result<Vec<_>>>()?;
            let (from, to) = (hhmm(&c.from, origin)?, hhmm(&c.to, origin)?);
            if from >= to {
                bail!(
                    "{origin}: closed period {}-{} ends before it starts",
                    c.from,
                    c.to
                );
            }
            let text = format!(
                "{}, Europe/London {}-{} {}",
                c.reason,
                c.from,
                c.to,
                c.days.join("/")
            );
            closed.push(Closed {
                environments: c.environments,
                days,
                from,
                to,
                reason: c.reason,
                text,
            });
        }
        let mut freezes = Vec::new();
        for f in raw.freeze {
            check_envs(&f.environments, origin)?;
            let (from, to) = (date(&f.from, origin)?, date(&f.to, origin)?);
            if from > to {
                bail!(
                    "{origin}: freeze {}..{} ends before it starts",
                    f.from,
                    f.to
                );
            }
            freezes.push(Freeze {
                environments: f.environments,
                from,
                to,
                reason: f.reason,
            });
        }
        let max_clock_skew_minutes = raw.max_clock_skew_minutes.unwrap_or(DEFAULT_CLOCK_SKEW_MINUTES);
        if !(1..=60).contains(&max_clock_skew_minutes) {
            bail!("{origin}: max_clock_skew_minutes = {max_clock_skew_minutes} is not between 1 and 60");
        }
        Ok(ChangeWindows { closed, freezes, max_clock_skew_minutes })
    }

    /// Pairs of closed periods, and of freezes, that overlap for one environment (an earlier
    /// one and a later one, by their reasons): each shut time is stated once.
    pub fn overlaps(&self) -> Vec<(String, String)> {
        let shared = |a: &[String], b: &[String]| a.iter().any(|e| b.contains(e));
        let mut out = Vec::new();
        for (i, a) in self.closed.iter().enumerate() {
            for b in &self.closed[i + 1..] {
                if shared(&a.environments, &b.environments) && a.days.iter().any(|d| b.days.contains(d)) && a.from < b.to && b.from < a.to {
                    out.push((format!("closed period {:?}", a.reason), format!("closed period {:?}", b.reason)));
                }
            }
        }
        for (i, a) in self.freezes.iter().enumerate() {
            for b in &self.freezes[i + 1..] {
                if shared(&a.environments, &b.environments) && a.from <= b.to && b.from <= a.to {
                    out.push((format!("freeze {:?}", a.reason), format!("freeze {:?}", b.reason)));
                }
            }
        }
        out
    }

    /// The reason the window is shut at `t`, if it is.
    fn shut(&self, environment: &str, closed_periods: bool, t: OffsetDateTime) -> Option<String> {
        let local = london(t);
        for f in &self.freezes {
            if f.environments.iter().any(|e| e == environment)
                && local.date() >= f.from
                && local.date() <= f.to
            {
                return Some(format!(
                    "{} from {} to {} (Europe/London dates)",
                    f.reason, f.from, f.to
                ));
            }
        }
        if closed_periods {
            for c in &self.closed {
                if c.environments.iter().any(|e| e == environment)
                    && c.days.contains(&local.weekday())
                    && local.time() >= c.from
                    && local.time() < c.to
                {
                    return Some(c.text.clone());
                }
            }
        }
        None
    }

    /// Ok when a promotion into `environment` may happen at `t`; `closed_periods` says whether
    /// the tier's policy subjects it to the closed periods (freezes always apply).
    pub fn check(
        &self,
        environment: &str,
        closed_periods: bool,
        t: OffsetDateTime,
    ) -> std::result::Result<(), Refusal> {
        let Some(reason) = self.shut(environment, closed_periods, t) else {
            return Ok(());
        };
        let start = t
            .replace_second(0)
            .expect("0 s")
            .replace_nanosecond(0)
            .expect("0 ns")
            + Duration::minutes(1);
        let mut next = None;
        let mut probe = start;
        let end = t + Duration::days(366);
        while probe < end {
            if self.shut(environment, closed_periods, probe).is_none() {
                next = Some(probe);
                break;
            }
            probe += Duration::minutes(1);
        }
        Err(Refusal {
            reason,
            next_open: next,
        })
    }
}
