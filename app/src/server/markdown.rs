//! Markdown people write (notes, summaries) rendered to HTML that is safe to show.
//!
//! Raw HTML in the source is shown as text, never interpreted, and links or images
//! may only point at `http`, `https`, `mailto` or relative addresses — so `<script>`,
//! event-handler attributes and `javascript:` URLs cannot reach the page. Rendering
//! on the server keeps the markdown parser out of the browser bundle.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

fn safe_url(url: &str) -> bool {
    let lowered: String =
        url.trim().chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_ascii_lowercase();
    match lowered.split_once(':') {
        // A colon before any slash, ? or # is a scheme: allow only the harmless ones.
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

pub fn render(source: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe_url(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: CowStr::Borrowed("#"), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe_url(&dest_url) => {
            Event::Start(Tag::Image { link_type, dest_url: CowStr::Borrowed("#"), title, id })
        }
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn formatting_survives() {
        let html = render("**bold** and `code`\n\n- item");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<code>code</code>"));
        assert!(html.contains("<li>item</li>"));
    }

    #[test]
    fn scripts_and_handlers_are_shown_as_text() {
        let html = render("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> hi");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn dangerous_links_are_neutralised() {
        let urls = |html: &str| -> Vec<String> {
            html.split(|c| c == '"')
                .collect::<Vec<_>>()
                .windows(2)
                .filter(|w| w[0].ends_with("href=") || w[0].ends_with("src="))
                .map(|w| w[1].to_ascii_lowercase())
                .collect()
        };
        for evil in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "<javascript:alert(1)>",
        ] {
            let html = render(&format!("[click]({evil}) ![i]({evil}) [ref][r]\n\n[r]: {evil}"));
            for url in urls(&html) {
                assert!(url == "#" || url.starts_with("http"), "{evil}: {html}");
            }
        }
        let ok = render("[docs](https://example.com/a) [rel](/incidents/INC-1) [mail](mailto:a@b.c)");
        assert!(ok.contains("href=\"https://example.com/a\""));
        assert!(ok.contains("href=\"/incidents/INC-1\""));
        assert!(ok.contains("href=\"mailto:a@b.c\""));
    }
}
