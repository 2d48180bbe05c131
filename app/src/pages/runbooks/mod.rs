//! `/runbooks`, `/runbooks/new` and `/runbooks/:id`: what to do when a service breaks,
//! kept reviewed, rehearsed in drills, and exported where an outage cannot reach it.

mod list;
mod new;
mod page;

pub use list::RunbooksPage;
pub use new::NewRunbookPage;
pub use page::RunbookPage;
