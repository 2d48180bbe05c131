//! Single sign-on with the company's OpenID Connect provider (Okta, Entra ID, Google,
//! Keycloak, Authentik, Dex…).
//!
//! `GET /auth/oidc/start` sends the browser to the provider with the authorization code
//! flow, PKCE, a `state` and a `nonce` kept in the session; `GET /auth/oidc/callback`
//! checks the `state`, exchanges the code, and has `openidconnect` verify the ID token
//! (signature against the provider's published keys, issuer, audience, expiry, nonce).
//! The person is then signed in as their Foghorn user: linked by the provider's subject,
//! else by an email the provider verified, else created; their groups give their role
//! when a role map is configured. Every outcome is in the audit log. A refusal sends the
//! browser back to the sign-in page with the reason, and signs nobody in.
//!
//! One file of about 420 lines on purpose: the start, the callback and the sign-out
//! share the session keys and the one refusal path, and apart they would have to export them.

use app::model::{AuditKind, Role, UserId};
use app::server::db::audit::{self, Actor};
use app::server::db::users::{self, SsoIdentity, SsoRefusal};
use app::server::{AppState, ClientIp, sessions};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::RwLock;
use tower_sessions::Session;

/// The provider and how its people become Foghorn users.
#[derive(Debug, Clone)]
pub struct SsoSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    /// The ID token claim that lists the person's groups.
    pub groups_claim: String,
    /// Shown as "Sign in with <label>".
    pub label: String,
    /// The role of a user created at first sign-in when no mapping applies.
    pub default_role: Role,
    /// Ordered `group → role` pairs (`*` matches everyone); empty: roles are managed in Foghorn.
    pub role_map: Vec<(String, Role)>,
    /// `FOGHORN_PUBLIC_URL` + `/auth/oidc/callback`.
    pub redirect_url: String,
    /// Where the provider sends people after signing out there: the sign-in page.
    pub after_sign_out_url: String,
}

/// Parses `sre=admin,eng=responder,*=viewer`.
pub fn parse_role_map(text: &str) -> Result<Vec<(String, Role)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (group, role) =
                pair.split_once('=').ok_or_else(|| format!("\"{pair}\" is not group=role in the role map"))?;
            Ok((group.trim().to_owned(), role.parse::<Role>()?))
        })
        .collect()
}

/// The role a person's groups give them: the most privileged of the matching entries,
/// or the default role when none matches; `None` without a role map.
pub fn mapped_role(settings: &SsoSettings, groups: &[String]) -> Option<Role> {
    if settings.role_map.is_empty() {
        return None;
    }
    let rank = |role: Role| match role {
        Role::Admin => 2,
        Role::Responder => 1,
        Role::Viewer => 0,
    };
    let matched = settings
        .role_map
        .iter()
        .filter(|(group, _)| group == "*" || groups.iter().any(|g| g == group))
        .map(|(_, role)| *role)
        .max_by_key(|role| rank(*role));
    Some(matched.unwrap_or(settings.default_role))
}

/// The provider as discovered from its `/.well-known/openid-configuration`.
#[derive(Clone)]
struct Discovered {
    metadata: CoreProviderMetadata,
    end_session: Option<String>,
}

/// Single sign-on for one provider. The discovery document and keys are fetched on
/// first use and again when a token names a key this instance has not seen (the
/// provider rotated its keys): nothing here needs sharing between instances.
pub struct Sso {
    pub settings: SsoSettings,
    http: openidconnect::reqwest::Client,
    discovered: RwLock<Option<Discovered>>,
}

impl std::fmt::Debug for Sso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso").field("issuer", &self.settings.issuer).finish()
    }
}

/// What the session keeps between the two legs of a sign-in.
#[derive(Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    pkce_verifier: String,
    next: String,
}

const FLOW_KEY: &str = "sso_flow";

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// A refusal: logged and audited, and told to the person on the sign-in page.
struct Refusal {
    kind: AuditKind,
    /// What the person reads.
    message: String,
    /// What the audit log keeps.
    reason: String,
    user: Option<Actor>,
}

fn refused(kind: AuditKind, message: &str, reason: impl Into<String>) -> Refusal {
    Refusal { kind, message: message.to_owned(), reason: reason.into(), user: None }
}

const TRY_AGAIN: &str = "Single sign-on did not complete. Start again from this page.";

impl Sso {
    pub fn new(settings: SsoSettings) -> Result<Self, String> {
        IssuerUrl::new(settings.issuer.clone()).map_err(|e| format!("FOGHORN_OIDC_ISSUER: {e}"))?;
        RedirectUrl::new(settings.redirect_url.clone()).map_err(|e| format!("the redirect URL: {e}"))?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer point Foghorn anywhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { settings, http, discovered: RwLock::new(None) })
    }

    async fn discover(&self, refresh: bool) -> Result<Discovered, String> {
        if !refresh && let Some(found) = self.discovered.read().await.clone() {
            return Ok(found);
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| e.to_string())?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| e.to_string())?;
        // The end-session address is an extension the core metadata type leaves out.
        let document = self
            .http
            .get(format!("{}/.well-known/openid-configuration", self.settings.issuer.trim_end_matches('/')))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        let document: serde_json::Value = serde_json::from_slice(&document).map_err(|e| e.to_string())?;
        let end_session = document["end_session_endpoint"].as_str().map(str::to_owned);
        let found = Discovered { metadata, end_session };
        *self.discovered.write().await = Some(found.clone());
        Ok(found)
    }

    /// The client for the provider as discovered, sending people back to Foghorn.
    fn client(&self, metadata: &CoreProviderMetadata) -> Client {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        // Checked to be a URL in `new`.
        .set_redirect_uri(RedirectUrl::new(self.settings.redirect_url.clone()).expect("a valid redirect URL"))
    }
}

/// What `CoreClient::from_provider_metadata` makes: authorization endpoint set, token and
/// userinfo endpoints as the provider publishes them.
type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// `GET /auth/oidc/start?next=/incidents/INC-4`: off to the provider.
pub async fn start(
    State((_, sso)): State<(AppState, Arc<Sso>)>,
    session: Session,
    Query(query): Query<StartQuery>,
) -> Response {
    let discovered = match sso.discover(false).await {
        Ok(found) => found,
        Err(err) => {
            tracing::error!(target: "foghorn::sso", error = %err, "identity provider unreachable");
            return back_to_sign_in("The identity provider cannot be reached. Try again in a moment.");
        }
    };
    let client = sso.client(&discovered.metadata);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request =
        client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
    for scope in sso.settings.scopes.iter().filter(|s| s.as_str() != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    let flow = Flow {
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        next: sessions::return_path(query.next.as_deref()),
    };
    if session.insert(FLOW_KEY, flow).await.is_err() {
        return back_to_sign_in(TRY_AGAIN);
    }
    Redirect::to(url.as_str()).into_response()
}

/// `GET /auth/oidc/callback?code=…&state=…`: back from the provider.
pub async fn callback(
    State((state, sso)): State<(AppState, Arc<Sso>)>,
    axum::Extension(ip): axum::Extension<ClientIp>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Response {
    // One try per flow: whatever happens next, this state is spent.
    let flow: Option<Flow> = session.remove(FLOW_KEY).await.ok().flatten();
    match sign_in(&state, &sso, &session, &ip.0, flow, query).await {
        Ok(next) => Redirect::to(&next).into_response(),
        Err(refusal) => {
            tracing::warn!(target: "foghorn::audit", ip = %ip.0, reason = %refusal.reason, "single sign-on refused");
            let actor = refusal.user.clone().unwrap_or_else(|| Actor::visitor("single sign-on", &ip.0));
            let details = serde_json::json!({ "method": "sso", "reason": refusal.reason });
            let _ = audit::record(&state.pool, &actor, refusal.kind, &sso.settings.issuer, details).await;
            back_to_sign_in(&refusal.message)
        }
    }
}

fn back_to_sign_in(message: &str) -> Response {
    Redirect::to(&format!("/login?sso_error={}", app::model::url_encode(message))).into_response()
}

async fn sign_in(
    state: &AppState,
    sso: &Sso,
    session: &Session,
    ip: &str,
    flow: Option<Flow>,
    query: CallbackQuery,
) -> Result<String, Refusal> {
    if let Some(error) = query.error {
        let reason = format!("provider: {error} {}", query.error_description.unwrap_or_default());
        return Err(refused(AuditKind::SignInRefused, "The identity provider did not sign you in.", reason));
    }
    let flow = flow.ok_or_else(|| refused(AuditKind::SignInFailed, TRY_AGAIN, "no sign-in in progress"))?;
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return Err(refused(AuditKind::SignInFailed, TRY_AGAIN, "no code or state"));
    };
    if !constant_time_eq(returned_state.as_bytes(), flow.state.as_bytes()) {
        return Err(refused(AuditKind::SignInFailed, TRY_AGAIN, "state does not match"));
    }

    let discovered = sso
        .discover(false)
        .await
        .map_err(|e| refused(AuditKind::SignInFailed, TRY_AGAIN, format!("discovery: {e}")))?;
    let client = sso.client(&discovered.metadata);
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| refused(AuditKind::SignInFailed, TRY_AGAIN, e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
        .request_async(&sso.http)
        .await
        .map_err(|e| refused(AuditKind::SignInFailed, TRY_AGAIN, format!("code exchange: {e}")))?;
    let id_token = token.id_token().ok_or_else(|| refused(AuditKind::SignInFailed, TRY_AGAIN, "no ID token"))?.clone();
    let nonce = Nonce::new(flow.nonce.clone());
    let invalid = |e: String| refused(AuditKind::SignInRefused, "The identity provider's answer was not valid.", e);
    let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
        Ok(claims) => claims.clone(),
        Err(openidconnect::ClaimsVerificationError::SignatureVerification(first)) => {
            // Perhaps the provider rotated its keys: fetch them again, once.
            let fresh = sso.discover(true).await.map_err(|e| invalid(format!("key refresh: {e}")))?;
            let client = sso.client(&fresh.metadata);
            id_token
                .claims(&client.id_token_verifier(), &nonce)
                .map_err(|_| invalid(format!("signature: {first}")))?
                .clone()
        }
        Err(err) => return Err(invalid(err.to_string())),
    };

    let email = claims.email().map(|e| e.as_str().to_owned()).ok_or_else(|| {
        refused(AuditKind::SignInRefused, "The identity provider did not share your email address.", "no email claim")
    })?;
    let groups = groups_of(&id_token.to_string(), &sso.settings.groups_claim);
    let who = SsoIdentity {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email: email.clone(),
        email_verified: claims.email_verified().unwrap_or(false),
        display_name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned())
            .unwrap_or_else(|| email.clone()),
        mapped_role: mapped_role(&sso.settings, &groups),
        default_role: sso.settings.default_role,
    };

    let internal = |e: app::error::AppError| refused(AuditKind::SignInFailed, TRY_AGAIN, e.to_string());
    let mut tx = state.pool.begin().await.map_err(|e| internal(e.into()))?;
    let signed_in = match users::sign_in_by_sso(&mut tx, &who).await.map_err(internal)? {
        Ok(signed_in) => signed_in,
        Err(SsoRefusal::UnverifiedEmail) => {
            let mut refusal = refused(
                AuditKind::SignInRefused,
                "Your identity provider has not verified your email address, which belongs to an existing Foghorn account. Ask an administrator.",
                format!("unverified email {email} matches a local account"),
            );
            refusal.user = Some(Actor::visitor(&email, ip));
            return Err(refusal);
        }
        Err(SsoRefusal::Deactivated(id)) => {
            let mut refusal = refused(
                AuditKind::SignInRefused,
                "Your Foghorn account is deactivated. Ask an administrator.",
                "account deactivated",
            );
            refusal.user = Some(Actor { user_id: Some(UserId(id)), label: email.clone(), ip: ip.to_owned() });
            return Err(refusal);
        }
    };
    let user = signed_in.user;
    let me = user.caller();
    let target = audit::user_target_of(&me.display_name, &me.email);
    let provider = Actor::server("single sign-on");
    if signed_in.created {
        let details = serde_json::json!({ "user_id": me.id, "role": me.role, "method": "sso" });
        audit::record(&mut *tx, &provider, AuditKind::UserCreated, &target, details).await.map_err(internal)?;
    }
    if let Some(was) = signed_in.role_was {
        let details = serde_json::json!({ "user_id": me.id, "from": was, "to": me.role, "groups": groups });
        audit::record(&mut *tx, &provider, AuditKind::RoleChanged, &target, details).await.map_err(internal)?;
    }
    let details = serde_json::json!({ "method": "sso", "groups": groups, "role": me.role });
    audit::record(&mut *tx, &Actor::user(&me, ip), AuditKind::SignIn, &target, details).await.map_err(internal)?;
    tx.commit().await.map_err(|e| internal(e.into()))?;

    sessions::start(session, &user).await.map_err(internal)?;
    if let Some(end_session) = &discovered.end_session {
        let url = format!(
            "{end_session}?id_token_hint={}&post_logout_redirect_uri={}&client_id={}",
            app::model::url_encode(&id_token.to_string()),
            app::model::url_encode(&sso.settings.after_sign_out_url),
            app::model::url_encode(&sso.settings.client_id),
        );
        sessions::set_provider_sign_out(session, url).await.map_err(internal)?;
    }
    tracing::info!(target: "foghorn::audit", user_id = me.id.0, ip, "signed in with single sign-on");
    Ok(flow.next)
}

/// The groups in a verified ID token's `claim` (a list of strings, or one string).
fn groups_of(id_token: &str, claim: &str) -> Vec<String> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1).unwrap_or_default();
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')) else {
        return Vec::new();
    };
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    match &claims[claim] {
        serde_json::Value::Array(items) => items.iter().filter_map(|g| g.as_str().map(str::to_owned)).collect(),
        serde_json::Value::String(one) => vec![one.clone()],
        _ => Vec::new(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(map: &str) -> SsoSettings {
        SsoSettings {
            issuer: "https://id.example.com".into(),
            client_id: "foghorn".into(),
            client_secret: "s".into(),
            scopes: vec!["openid".into()],
            groups_claim: "groups".into(),
            label: "Example".into(),
            default_role: Role::Viewer,
            role_map: parse_role_map(map).unwrap(),
            redirect_url: "https://foghorn.example.com/auth/oidc/callback".into(),
            after_sign_out_url: "https://foghorn.example.com/login".into(),
        }
    }

    #[test]
    fn the_most_privileged_matching_group_wins_and_star_matches_everyone() {
        let s = settings("sre=admin, eng=responder, *=viewer");
        let groups = |g: &[&str]| g.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(mapped_role(&s, &groups(&["eng", "sre"])), Some(Role::Admin));
        assert_eq!(mapped_role(&s, &groups(&["eng"])), Some(Role::Responder));
        assert_eq!(mapped_role(&s, &groups(&[])), Some(Role::Viewer));
        assert_eq!(mapped_role(&settings("sre=admin"), &groups(&["eng"])), Some(Role::Viewer), "the default role");
        assert_eq!(mapped_role(&settings(""), &groups(&["sre"])), None, "no map: roles stay Foghorn's");
        assert!(parse_role_map("sre").is_err());
        assert!(parse_role_map("sre=owner").is_err());
    }
}
