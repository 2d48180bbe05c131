//! The herd's table: one column per herd size, and the targets beside them.

use super::{ARRIVAL_WINDOW, Herd, POSTS};

/// The herd's table: one column per herd size, and the targets.
pub fn print(herds: &[Herd]) {
    println!();
    print!("| all-hands SEV1 (Poisson arrivals within {} s, then {POSTS} notes) |", ARRIVAL_WINDOW.as_secs());
    for h in herds {
        print!(" {} people |", h.people);
    }
    println!(" target |");
    print!("| --- |");
    for _ in herds {
        print!(" ---: |");
    }
    println!(" --- |");
    let row = |name: &str, cell: &dyn Fn(&Herd) -> String, target: &str| {
        print!("| {name} |");
        for h in herds {
            print!(" {} |", cell(h));
        }
        println!(" {target} |");
    };
    row("page HTML p50 during the arrivals", &|h| format!("{:.0} ms", h.html_p50), "");
    row("page HTML p99 during the arrivals", &|h| format!("{:.0} ms", h.html_p99), "< 1 000 ms");
    row("arrival to live stream open, p50", &|h| format!("{:.0} ms", h.open_p50), "");
    row("arrival to live stream open, p99", &|h| format!("{:.0} ms", h.open_p99), "");
    row("post-to-screen p50", &|h| format!("{:.1} ms", h.post_p50), "");
    row("post-to-screen p99", &|h| format!("{:.1} ms", h.post_p99), "< 250 ms");
    row(
        "notes delivered (duplicates, out of order)",
        &|h| format!("{} of {} ({}, {})", h.delivered, h.expected(), h.duplicated, h.out_of_order),
        "all, exactly once, in order",
    );
    row("first visit, bytes received per person", &|h| format!("{:.0} KB", h.first_visit_bytes / 1000.0), "< 400 KB");
    row(
        "repeat visit, bytes received per person (requests)",
        &|h| format!("{:.1} KB ({:.0})", h.repeat_visit_bytes / 1000.0, h.repeat_requests),
        "the HTML only",
    );
    row(
        "server RSS before → after the arrivals",
        &|h| format!("{:.0} → {:.0} MiB", h.rss_before_kib / 1024.0, h.rss_after_kib / 1024.0),
        "",
    );
    row("server memory per open stream", &|h| format!("{:.1} KiB", h.kib_per_stream()), "< 30 KiB");
    row(
        "errors",
        &|h| match &h.first_error {
            Some(e) => format!("{} (first: {e})", h.errors),
            None => h.errors.to_string(),
        },
        "0",
    );
}
