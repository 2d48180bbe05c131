//! The HTML shell and the route table.

use crate::components::layout::AppLayout;
use crate::pages::{
    account::AccountPage,
    actions::ActionsPage,
    admin::AdminPage,
    audit::AuditPage,
    dashboard::DashboardPage,
    errors::NotFound,
    incidents::{declare::DeclarePage, detail::IncidentPage, history::HistoryPage},
    integrations::IntegrationsPage,
    postmortems::{index::PostmortemsPage, page::PostmortemPage},
    runbooks::{NewRunbookPage, RunbookPage, RunbooksPage},
    setup::SetupPage,
    sign_in::SignInPage,
};
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

/// The document around the app. On the server it also sets the page's
/// Content-Security-Policy with this response's nonce, which the hydration scripts carry.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::csp::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="data:," />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="foghorn" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    crate::components::time::provide_local_times();
    // Browser tests wait for this attribute: before it, clicks land on inert server HTML.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Foghorn".to_owned() } else { format!("{page} · Foghorn") }
        } />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=SignInPage ssr=SsrMode::Async />
                <Route path=path!("/setup") view=SetupPage />
                <ParentRoute path=path!("") view=AppLayout>
                    // Async: the data is one quick query away, so one complete response
                    // is cheaper than streaming chunks and swapping them in.
                    <Route path=path!("") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/incidents") view=HistoryPage ssr=SsrMode::Async />
                    <Route path=path!("/incidents/new") view=DeclarePage />
                    <Route path=path!("/incidents/:id") view=IncidentPage ssr=SsrMode::Async />
                    <Route path=path!("/postmortems") view=PostmortemsPage ssr=SsrMode::Async />
                    <Route path=path!("/postmortems/:id") view=PostmortemPage ssr=SsrMode::Async />
                    <Route path=path!("/actions") view=ActionsPage ssr=SsrMode::Async />
                    <Route path=path!("/runbooks") view=RunbooksPage ssr=SsrMode::Async />
                    <Route path=path!("/runbooks/new") view=NewRunbookPage />
                    <Route path=path!("/runbooks/:id") view=RunbookPage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/integrations") view=IntegrationsPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
