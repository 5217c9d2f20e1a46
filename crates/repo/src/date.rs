//! Today's date, from the system clock. For reports and the offline gate only: decisions take
//! the environment's server time (`lz_promote::clock`), and no variable overrides this one.
use time::Date;

/// Today's UTC date from the system clock.
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// A date as `YYYY-MM-DD`.
pub fn fmt_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Today's UTC date as `YYYY-MM-DD`.
pub fn today_string() -> String {
    fmt_date(today())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_print_as_iso() {
        assert_eq!(super::fmt_date(time::macros::date!(2000 - 02 - 29)), "2000-02-29");
        assert_eq!(super::today_string().len(), 10);
    }
}
