//! Form helpers: labelled fields with their error next to them.

use crate::error::AppError;
use leptos::prelude::*;

/// The error of the last submission of a form, if any.
pub type LastError = Signal<Option<AppError>>;

/// A server action's latest result as "the error to show", if any.
pub fn last_error<S>(action: ServerAction<S>) -> LastError
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()))
}

/// A labelled input; shows the message of `error` when it is about this field.
#[component]
pub fn Field(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    #[prop(into, default = "text".to_owned())] kind: String,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(into, optional)] value: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(into)] error: LastError,
    /// Distinguishes ids when one page shows the same form several times.
    #[prop(into, optional)]
    id_prefix: Option<String>,
) -> impl IntoView {
    let id = format!("{}{}", id_prefix.unwrap_or_default(), name);
    let error_id = format!("{id}-error");
    let field = name.clone();
    let message = Signal::derive(move || error.get().and_then(|e| e.for_field(&field)));
    let described = error_id.clone();
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type=kind
                name=name
                value=value
                autocomplete=autocomplete
                required=required
                aria-describedby=move || message.get().map(|_| described.clone())
                aria-invalid=move || message.get().map(|_| "true")
            />
            {move || message.get().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// The form-wide error: everything not already shown next to one of the `inline`
/// fields (permissions, conflicts, outages, fields the form does not display).
#[component]
pub fn FormError(#[prop(into)] error: LastError, #[prop(optional)] inline: &'static [&'static str]) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|e| match &e {
                AppError::Invalid { field, .. } if inline.contains(&field.as_str()) => None,
                other => Some(other.to_string()),
            })
            .map(|m| view! { <p class="form-error" role="alert">{m}</p> })
    }
}
