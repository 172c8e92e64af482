//! The demo's report: one row per flow (vendor, flow, the requests the emulator saw, the
//! result, the time), rendered as a plain-text table.

use std::fmt::Write as _;
use std::time::Duration;

use auth_core::emulator::Counts;

/// What one flow did.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) vendor: &'static str,
    pub(crate) flow: &'static str,
    /// The emulator's counts during the flow, summarised ([`requests`]).
    pub(crate) requests: String,
    /// `Ok(what happened)` when the flow did what it should, `Err(why not)` otherwise.
    /// Neither holds a secret: both are the demo's own text or an `AuthError`'s.
    pub(crate) outcome: Result<String, String>,
    pub(crate) time: Duration,
}

impl Row {
    pub(crate) fn ok(&self) -> bool {
        self.outcome.is_ok()
    }

    fn result(&self) -> String {
        match &self.outcome {
            Ok(note) if note.is_empty() => "ok".to_owned(),
            Ok(note) => format!("ok: {note}"),
            Err(reason) => format!("FAILED: {reason}"),
        }
    }
}

/// The requests in `counts`, by endpoint: `authorize 1, token 2 (1 lost), api 3 (1
/// refused)`; `none` when the emulator saw nothing.
pub(crate) fn requests(counts: &Counts) -> String {
    let mut parts = Vec::new();
    if counts.authorize() > 0 {
        parts.push(format!("authorize {}", counts.authorize()));
    }
    if counts.token() > 0 {
        let mut notes = Vec::new();
        // A lost answer is an injected fault the vendor still processed; say so rather
        // than count it as an error the client saw.
        if counts.faults() > 0 {
            notes.push(format!("{} lost", counts.faults()));
        }
        let errors = counts.token_errors();
        if errors > 0 {
            notes.push(format!("{errors} refused"));
        }
        parts.push(with_notes(format!("token {}", counts.token()), &notes));
    }
    if counts.api() > 0 {
        let mut notes = Vec::new();
        if counts.api_rejected() > 0 {
            notes.push(format!("{} refused", counts.api_rejected()));
        }
        parts.push(with_notes(format!("api {}", counts.api()), &notes));
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

fn with_notes(text: String, notes: &[String]) -> String {
    if notes.is_empty() {
        text
    } else {
        format!("{text} ({})", notes.join(", "))
    }
}

const HEADERS: [&str; 5] = ["VENDOR", "FLOW", "REQUESTS", "RESULT", "TIME"];

/// The rows as a table, a header line first, columns padded to their widest cell.
pub(crate) fn render(rows: &[Row]) -> String {
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|row| {
            [
                row.vendor.to_owned(),
                row.flow.to_owned(),
                row.requests.clone(),
                row.result(),
                format!("{} ms", row.time.as_millis()),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(str::len);
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    line(&mut out, &HEADERS.map(str::to_owned), &widths);
    for row in &cells {
        line(&mut out, row, &widths);
    }
    out
}

/// One line: every column padded but the result (which may be long) and the time
/// (right-aligned, last).
fn line(out: &mut String, cells: &[String; 5], widths: &[usize; 5]) {
    let [vendor, flow, requests, result, time] = cells;
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{vendor:<w0$}  {flow:<w1$}  {requests:<w2$}  {result:<w3$}  {time:>w4$}",
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2],
        w3 = widths[3],
        w4 = widths[4],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(outcome: Result<String, String>) -> Row {
        Row {
            vendor: "easyship",
            flow: "client credentials",
            requests: "token 1, api 1".to_owned(),
            outcome,
            time: Duration::from_millis(12),
        }
    }

    #[test]
    fn empty_counts_are_none() {
        assert_eq!(requests(&Counts::default()), "none");
    }

    #[test]
    fn table_has_a_header_and_one_line_per_flow_with_its_result() {
        let table = render(&[row(Ok(String::new())), row(Err("no token".to_owned()))]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("VENDOR"), "{table}");
        assert!(lines[1].contains("  ok  "), "{table}");
        assert!(lines[2].contains("FAILED: no token"), "{table}");
        assert!(lines[1].ends_with("12 ms"), "{table}");
    }
}
