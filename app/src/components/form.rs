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
    /// The most characters the server takes (the text kind's `MAX`), as `maxlength`.
    #[prop(optional)]
    max: Option<usize>,
    #[prop(into)] error: LastError,
    /// Distinguishes ids when one page shows the same form several times.
    #[prop(into, optional)]
    id_prefix: Option<String>,
) -> impl IntoView {
    let id = format!("{}{}", id_prefix.unwrap_or_default(), name);
    let error_id = error_id(&id);
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
                maxlength=max
                aria-describedby=move || message.get().map(|_| described.clone())
                aria-invalid=move || message.get().map(|_| "true")
            />
            {move || message.get().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// The `id` of the element holding a field's error message: the control names it in
/// `aria-describedby`, so a screen reader reads the message with the field.
pub fn error_id(control_id: &str) -> String {
    format!("{control_id}-error")
}

/// `aria-describedby` for a control whose error `error` may be about `field`.
pub fn described_by(
    error: LastError,
    field: &'static str,
    control_id: &str,
) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    let id = error_id(control_id);
    move || error.get().and_then(|e| e.for_field(field)).map(|_| id.clone())
}

/// `aria-invalid` for a control whose error `error` may be about `field`.
pub fn invalid(error: LastError, field: &'static str) -> impl Fn() -> Option<&'static str> + Send + Sync + 'static {
    move || error.get().and_then(|e| e.for_field(field)).map(|_| "true")
}

/// The message of `error` when it is about `field`, placed under the control `id`
/// (any control: input, textarea, select, fieldset).
#[component]
pub fn FieldError(#[prop(into)] error: LastError, field: &'static str, #[prop(into)] id: String) -> impl IntoView {
    let error_id = error_id(&id);
    move || {
        error
            .get()
            .and_then(|e| e.for_field(field))
            .map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })
    }
}

/// The error summary of a form, as the GOV.UK Design System has it: "There is a
/// problem", the message, and for a field's error a link to that field (`#<id_prefix>
/// <field>`). Focus moves to it when it appears, so keyboard and screen-reader users
/// land on what went wrong instead of being left on the button.
#[component]
pub fn FormError(
    #[prop(into)] error: LastError,
    /// Fields that show their message next to them too: the summary links to them.
    #[prop(optional)]
    inline: &'static [&'static str],
    /// Prefix of the fields' ids, when one page shows the same form several times.
    #[prop(optional)]
    id_prefix: &'static str,
) -> impl IntoView {
    let summary = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if error.get().is_some()
            && let Some(element) = summary.get()
        {
            let _ = element.focus();
        }
    });
    move || {
        error.get().map(|e| {
            let message = match &e {
                AppError::Invalid { field, message } if inline.contains(&field.as_str()) => {
                    view! { <a href=format!("#{id_prefix}{field}")>{message.clone()}</a> }.into_any()
                }
                other => other.to_string().into_any(),
            };
            view! {
                <div class="form-error error-summary" role="alert" tabindex="-1" node_ref=summary>
                    <p class="error-summary-title">"There is a problem"</p>
                    <p>{message}</p>
                </div>
            }
        })
    }
}

/// The "from … to" date inputs of a filter form (`from` and `to`, `YYYY-MM-DD`), showing
/// the values the page's address carries.
#[component]
pub fn DateRange(
    /// Distinguishes the inputs' ids on the page.
    id_prefix: &'static str,
    /// What the first date is: "From", "Declared from"…
    from_label: &'static str,
    #[prop(into)] from: Signal<String>,
    #[prop(into)] to: Signal<String>,
) -> impl IntoView {
    let (min, max) = crate::model::input_bounds();
    let (from_id, to_id) = (format!("{id_prefix}from"), format!("{id_prefix}to"));
    view! {
        <div class="field">
            <label for=from_id.clone()>{from_label}</label>
            <input id=from_id name="from" type="date" min=min.clone() max=max.clone() prop:value=move || from.get() />
        </div>
        <div class="field">
            <label for=to_id.clone()>"to"</label>
            <input id=to_id name="to" type="date" min=min max=max prop:value=move || to.get() />
        </div>
    }
}

/// A labelled choice of one named thing (a team, a service, a person) by its id, with
/// a first option for none (`empty`: "Any", "None"…). `selected` is the chosen id.
#[component]
pub fn IdSelect<I>(
    #[prop(into)] id: String,
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(into)] empty: String,
    /// `(id, name)` pairs, in the order shown.
    options: Vec<(I, String)>,
    #[prop(into, optional)] selected: Signal<Option<I>>,
) -> impl IntoView
where
    I: Copy + PartialEq + std::fmt::Display + Send + Sync + 'static,
{
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=name>
                <option value="">{empty}</option>
                {options.into_iter().map(|(value, text)| view! {
                    <option value=value.to_string() selected=move || selected.get() == Some(value)>{text}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

/// A list page's "Team" and "Service" filters (`team_id`, `service_id`), each with
/// "Any" first; they load the teams and services themselves.
#[component]
pub fn TeamServiceFilters(
    /// Distinguishes ids when two lists share a page.
    #[prop(into)]
    id_prefix: String,
    #[prop(into)] team: Signal<Option<crate::model::TeamId>>,
    #[prop(into)] service: Signal<Option<crate::model::ServiceId>>,
) -> impl IntoView {
    use crate::api::admin::{list_services, list_teams};
    // Read after hydration (like every picker), so the server's HTML and the browser's
    // first render agree even inside another loaded block; until then only "Any".
    let options = crate::components::load_in_browser(|| async {
        (list_teams().await.unwrap_or_default(), list_services().await.unwrap_or_default())
    });
    move || {
        let (teams, services) = options.get().unwrap_or_default();
        view! {
            <IdSelect id=format!("{id_prefix}team") name="team_id" label="Team" empty="Any"
                options=teams.into_iter().map(|t| (t.id, t.name)).collect() selected=team />
            <IdSelect id=format!("{id_prefix}service") name="service_id" label="Service" empty="Any"
                options=services.into_iter().map(|s| (s.id, s.name)).collect() selected=service />
        }
    }
}
