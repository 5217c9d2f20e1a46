//! The timeline of a release: one lane per kind of step, one mark per record placed by its time
//! on an axis that fits the page (the SVG scales to the page's width through its viewBox).

use lz_evidence::record::format_time;
use serde::Serialize;

use crate::record::RecordView;

#[derive(Clone, Debug, Serialize)]
pub struct TimelinePoint {
    pub x: u32,
    pub lane: u32,
    pub y: u32,
    pub anchor: String,
    pub sequence: u64,
    pub kind: String,
    pub label: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Timeline {
    pub width: u32,
    pub height: u32,
    pub lanes: Vec<(String, u32)>,
    pub points: Vec<TimelinePoint>,
    /// Time axis ticks: x and label.
    pub ticks: Vec<(u32, String)>,
}

/// Width of the drawing in SVG units (scaled to the page).
const WIDTH: u32 = 1100;
const LEFT: u32 = 110;
const RIGHT: u32 = 24;
const LANE_H: u32 = 26;

pub fn timeline(records: &[RecordView]) -> Timeline {
    let times: Vec<Option<i64>> = records.iter().map(|r| Some(r.record.time.unix_timestamp())).collect();
    let known: Vec<i64> = times.iter().flatten().copied().collect();
    let (t0, t1) = (known.iter().min().copied().unwrap_or(0), known.iter().max().copied().unwrap_or(0));
    let span = (WIDTH - LEFT - RIGHT) as f64;
    let x_of = |i: usize, t: Option<i64>| -> u32 {
        let frac = match t {
            Some(t) if t1 > t0 => (t - t0) as f64 / (t1 - t0) as f64,
            // Every record at one time (or no time): spread in chain order.
            _ => if records.len() > 1 { i as f64 / (records.len() - 1) as f64 } else { 0.5 },
        };
        LEFT + 8 + (frac * (span - 8.0)) as u32
    };
    let mut last_x: Vec<Option<u32>> = vec![None; LANES.len()];
    let points = records
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let r = &v.record;
            let kind = r.kind.as_str();
            let lane = lane_of(kind);
            let mut x = x_of(i, times[i]);
            // Marks of one lane at one moment are set side by side.
            if let Some(prev) = last_x[lane] {
                if x < prev + 5 {
                    x = (prev + 5).min(WIDTH - 6);
                }
            }
            last_x[lane] = Some(x);
            TimelinePoint {
                x,
                lane: lane as u32,
                y: 20 + lane as u32 * LANE_H,
                anchor: v.anchor.clone(),
                sequence: r.sequence,
                kind: kind.to_string(),
                label: format!("#{} {kind} {} {} {}", r.sequence, r.environment.as_deref().unwrap_or(""), r.identity, format_time(r.time)),
            }
        })
        .collect();
    let axis_y = 20 + LANES.len() as u32 * LANE_H;
    let ticks = if t1 > t0 {
        (0..=4)
            .map(|k| {
                let t = t0 + (t1 - t0) * k / 4;
                let x = LEFT + 8 + ((k as f64 / 4.0) * (span - 8.0)) as u32;
                let label = time::OffsetDateTime::from_unix_timestamp(t)
                    .ok()
                    .and_then(|t| t.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]")).ok())
                    .unwrap_or_default();
                (x, label + " UTC")
            })
            .collect()
    } else {
        vec![(LEFT + 8, known.first().and_then(|t| time::OffsetDateTime::from_unix_timestamp(*t).ok()).map(format_time).unwrap_or_default())]
    };
    Timeline {
        width: WIDTH,
        height: axis_y + 22,
        lanes: LANES.iter().enumerate().map(|(i, l)| (l.to_string(), 20 + i as u32 * LANE_H)).collect(),
        points,
        ticks,
    }
}

const LANES: [&str; 7] = ["request", "policy", "approval", "deployment", "drift", "break-glass", "rotation"];

fn lane_of(kind: &str) -> usize {
    match kind {
        "release" | "plan" | "exception" | "exception-approval" | "governance-pin" | "register-change" | "checkpoint" => 0,
        "policy-evaluation" => 1,
        "approval" => 2,
        "deployment" => 3,
        "drift" | "drift-remediation" => 4,
        "rotation" | "rotation-verification" => 6,
        _ => 5,
    }
}
