//! The relying party: discovery, the authorization request, the callback, the
//! code exchange with its checks, groups to role, and the logout URL.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use certmgr_core::Role;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AuthorizationCode, Client, ClientId, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, JsonWebKeySet, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadataWithLogout,
    RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
    UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::OidcError;
use crate::claims::{OtherClaims, groups_claim};
use crate::config::{CheckedUrls, GroupsSource, OidcConfig};
use crate::http::HttpClient;
use crate::roles::role_for_groups;
use crate::verify::{CertmgrIdTokenClaims, Refusal, describe, verify_id_token};

type CertmgrTokenResponse = StandardTokenResponse<
    IdTokenFields<
        OtherClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// openidconnect's client with certmgr's extra claims, as built from
/// discovery: authorization endpoint set, token and userinfo endpoints as the
/// provider advertised them.
type CertmgrClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    CertmgrTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What the server keeps between sending the browser to the provider and its
/// return (server-side, or in an encrypted cookie): without it the callback
/// cannot be checked. All three values are secrets for the login's lifetime,
/// so `Debug` shows none of them.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The `state` sent to the provider; the callback must bring it back.
    pub state: String,
    /// The `nonce` sent to the provider; the ID token must carry it.
    pub nonce: String,
    /// The PKCE code verifier whose S256 challenge was sent; the code
    /// exchange proves possession of it.
    pub pkce_verifier: String,
    /// When the login started (seconds since the Unix epoch), for
    /// `login_timeout_secs`.
    pub started_at: u64,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("state", &"[redacted]")
            .field("nonce", &"[redacted]")
            .field("pkce_verifier", &"[redacted]")
            .field("started_at", &self.started_at)
            .finish()
    }
}

/// The code and state of a successful callback, read by
/// [`OidcClient::parse_callback`]. The code is a short-lived credential, so
/// `Debug` hides it.
#[derive(Clone)]
pub struct Callback {
    /// The authorization code, for [`OidcClient::finish_login`].
    pub code: String,
    /// The state, for [`OidcClient::finish_login`].
    pub state: String,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("code", &"[redacted]")
            .field("state", &self.state)
            .finish()
    }
}

/// The ID token a login ended with, kept for the logout URL's
/// `id_token_hint`. A bearer of the user's identity, so `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdTokenHint(String);

impl IdTokenHint {
    /// Wraps an ID token kept elsewhere (a session store).
    pub fn new(id_token: String) -> Self {
        Self(id_token)
    }

    /// The compact JWT, to send to the provider.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdTokenHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdTokenHint([redacted])")
    }
}

/// A signed-in user: who the provider says they are, and the certmgr role
/// their groups give them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The provider's stable identifier of the user (`sub`); with the issuer,
    /// the key to use for the user, not the name or email.
    pub subject: String,
    /// Display name (`name`, else `preferred_username`), if the provider gave one.
    pub name: Option<String>,
    /// Email address, if the provider gave one.
    pub email: Option<String>,
    /// The user's groups as the provider listed them.
    pub groups: Vec<String>,
    /// The highest role the user's mapped groups give.
    pub role: Role,
    /// The ID token, for [`OidcClient::logout_url`].
    pub id_token: IdTokenHint,
}

/// An OpenID Connect relying party for one provider and one client. Made once
/// from the configuration ([`OidcClient::discover`]) and shared by all
/// requests; it keeps the provider's metadata and keys, and fetches the keys
/// again when an ID token is signed with a key it does not know (rotation).
pub struct OidcClient {
    config: OidcConfig,
    urls: CheckedUrls,
    http: HttpClient,
    metadata: RwLock<Arc<ProviderMetadataWithLogout>>,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Compares two secrets in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

impl OidcClient {
    /// Checks `config` and fetches the provider's discovery document and key
    /// set. Fails when the configuration cannot work or the provider does not
    /// answer with valid metadata for exactly the configured issuer.
    pub async fn discover(config: OidcConfig) -> Result<Self, OidcError> {
        let urls = config.check()?;
        let http = HttpClient::new(Duration::from_secs(config.http_timeout_secs))
            .map_err(|e| OidcError::HttpClient(describe(&e)))?;
        let issuer = IssuerUrl::from_url(urls.issuer.clone());
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &http)
            .await
            .map_err(|e| OidcError::Discovery {
                url: config.issuer_url.clone(),
                detail: describe(&e),
            })?;
        Ok(Self {
            config,
            urls,
            http,
            metadata: RwLock::new(Arc::new(metadata)),
        })
    }

    /// The configuration this client was made from.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    fn metadata(&self) -> Arc<ProviderMetadataWithLogout> {
        // A poisoned lock still holds a whole Arc: writers only swap it.
        Arc::clone(&self.metadata.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn client(&self, metadata: &ProviderMetadataWithLogout) -> CertmgrClient {
        let secret = self
            .config
            .client_secret
            .as_ref()
            .map(|s| openidconnect::ClientSecret::new(s.expose().to_owned()));
        CertmgrClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            secret,
        )
        .set_redirect_uri(RedirectUrl::from_url(self.urls.redirect.clone()))
    }

    /// Starts a login: the URL to send the browser to (authorization code
    /// flow with fresh random `state` and `nonce`, and a PKCE S256 challenge)
    /// and what to keep until it comes back.
    pub fn begin_login(&self) -> (Url, PendingLogin) {
        let metadata = self.metadata();
        let client = self.client(&metadata);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        // openidconnect always asks for `openid` itself.
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            started_at: now_secs(),
        };
        (url, pending)
    }

    /// Reads the query string of the request the provider redirected the
    /// browser to: its code and state, or the error the provider sent back
    /// instead ([`OidcError::ProviderRefused`]). A callback that names
    /// another issuer (RFC 9207 `iss`) is refused: a mix-up between providers.
    pub fn parse_callback(&self, query: &str) -> Result<Callback, OidcError> {
        let mut fields: [(&str, Option<String>); 5] = [
            ("code", None),
            ("state", None),
            ("error", None),
            ("error_description", None),
            ("iss", None),
        ];
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if let Some((_, slot)) = fields.iter_mut().find(|(n, _)| *n == name) {
                if slot.is_some() {
                    return Err(OidcError::BadCallback(format!(
                        "it repeats the parameter {name}"
                    )));
                }
                *slot = Some(value.into_owned());
            }
        }
        let [
            (_, code),
            (_, state),
            (_, error),
            (_, description),
            (_, iss),
        ] = fields;
        if let Some(iss) = iss
            && iss != self.metadata().issuer().as_str()
        {
            return Err(OidcError::BadCallback(format!(
                "it comes from issuer {iss}, not from the configured {}",
                self.config.issuer_url
            )));
        }
        if let Some(error) = error {
            return Err(OidcError::ProviderRefused { error, description });
        }
        match (code, state) {
            (Some(code), Some(state)) => Ok(Callback { code, state }),
            _ => Err(OidcError::BadCallback(
                "it carries no code and state (nor an error)".to_owned(),
            )),
        }
    }

    /// Ends a login the browser came back from: checks `state` against the
    /// pending login and its age, exchanges `code` (with the PKCE verifier),
    /// verifies the ID token, reads the groups (from the ID token or the
    /// userinfo response, as configured) and maps them to a role. A user
    /// whose groups map to no role gets [`OidcError::NoMappedGroup`].
    pub async fn finish_login(
        &self,
        pending: PendingLogin,
        code: &str,
        state: &str,
    ) -> Result<Identity, OidcError> {
        if !same_secret(&pending.state, state) {
            return Err(OidcError::StateMismatch);
        }
        let age_secs = now_secs().saturating_sub(pending.started_at);
        if age_secs > self.config.login_timeout_secs {
            return Err(OidcError::LoginExpired {
                age_secs,
                limit_secs: self.config.login_timeout_secs,
            });
        }
        let metadata = self.metadata();
        let client = self.client(&metadata);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::TokenExchange(describe(&e)))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::TokenExchange(describe(&e)))?;
        let id_token = token.id_token().ok_or(OidcError::MissingIdToken)?;
        let nonce = Nonce::new(pending.nonce);
        let client_id = ClientId::new(self.config.client_id.clone());
        let verify = |jwks: &JsonWebKeySet<CoreJsonWebKey>| {
            verify_id_token(
                id_token,
                &client_id,
                metadata.issuer(),
                jwks,
                &nonce,
                Some(token.access_token()),
            )
        };
        let claims = match verify(metadata.jwks()) {
            Ok(claims) => claims,
            Err(Refusal::UnknownKey) => {
                let jwks = self.refresh_keys(&metadata).await?;
                verify(&jwks).map_err(|refusal| match refusal {
                    Refusal::UnknownKey => OidcError::InvalidIdToken(
                        "it is signed with a key the provider does not publish".to_owned(),
                    ),
                    Refusal::Invalid(why) => OidcError::InvalidIdToken(why),
                })?
            }
            Err(Refusal::Invalid(why)) => return Err(OidcError::InvalidIdToken(why)),
        };
        // With groups_source = "userinfo" the ID token's groups claim (if any)
        // is not read at all.
        let id_token_groups_claim = (self.config.groups_source != GroupsSource::Userinfo)
            .then_some(self.config.groups_claim.as_str());
        let mut identity = identity_from(&claims, id_token_groups_claim)?;
        let from_id_token = identity.groups.is_some();
        let ask_userinfo = match self.config.groups_source {
            GroupsSource::IdToken => false,
            GroupsSource::Userinfo => true,
            GroupsSource::Auto => !from_id_token && client.user_info_url().is_some(),
        };
        if ask_userinfo {
            let userinfo: UserInfoClaims<OtherClaims, CoreGenderClaim> = client
                .user_info(token.access_token().clone(), Some(claims.subject().clone()))
                .map_err(|e| OidcError::Userinfo(describe(&e)))?
                .request_async(&self.http)
                .await
                .map_err(|e| OidcError::Userinfo(describe(&e)))?;
            identity.groups =
                groups_claim(userinfo.additional_claims(), &self.config.groups_claim)?;
            identity.name = identity.name.or_else(|| {
                localized(userinfo.name())
                    .or_else(|| userinfo.preferred_username().map(|u| u.to_string()))
            });
            identity.email = identity
                .email
                .or_else(|| userinfo.email().map(|e| e.to_string()));
        }
        let groups = identity.groups.unwrap_or_default();
        let Some(role) = role_for_groups(&self.config.group_roles, &groups) else {
            return Err(OidcError::NoMappedGroup {
                subject: identity.subject,
                groups,
            });
        };
        Ok(Identity {
            subject: identity.subject,
            name: identity.name,
            email: identity.email,
            groups,
            role,
            id_token: IdTokenHint(id_token.to_string()),
        })
    }

    /// Fetches the provider's key set again (after an ID token named a key
    /// the client did not know) and keeps it for later logins.
    async fn refresh_keys(
        &self,
        metadata: &ProviderMetadataWithLogout,
    ) -> Result<JsonWebKeySet<CoreJsonWebKey>, OidcError> {
        let jwks = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| OidcError::Discovery {
                url: metadata.jwks_uri().to_string(),
                detail: describe(&e),
            })?;
        let updated = Arc::new(metadata.clone().set_jwks(jwks.clone()));
        *self
            .metadata
            .write()
            .unwrap_or_else(PoisonError::into_inner) = updated;
        Ok(jwks)
    }

    /// The provider's end-session URL (OpenID Connect RP-Initiated Logout) to
    /// send the browser to after ending the certmgr session: with the ID
    /// token as `id_token_hint` when known, the client id, the configured
    /// `post_logout_redirect_url` and `state` if given.
    pub fn logout_url(
        &self,
        id_token_hint: Option<&IdTokenHint>,
        state: Option<&str>,
    ) -> Result<Url, OidcError> {
        let metadata = self.metadata();
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .ok_or(OidcError::NoEndSession)?;
        let mut url = endpoint.url().clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(hint) = id_token_hint {
                query.append_pair("id_token_hint", hint.expose());
            }
            query.append_pair("client_id", &self.config.client_id);
            if let Some(redirect) = &self.urls.post_logout_redirect {
                query.append_pair("post_logout_redirect_uri", redirect.as_str());
            }
            if let Some(state) = state {
                query.append_pair("state", state);
            }
        }
        Ok(url)
    }
}

/// The identity as far as the ID token tells it; `groups` is `None` when the
/// token has no groups claim (or it is not to be read from the token).
struct PartialIdentity {
    subject: String,
    name: Option<String>,
    email: Option<String>,
    groups: Option<Vec<String>>,
}

fn identity_from(
    claims: &CertmgrIdTokenClaims,
    groups_claim_name: Option<&str>,
) -> Result<PartialIdentity, OidcError> {
    Ok(PartialIdentity {
        subject: claims.subject().to_string(),
        name: localized(claims.name())
            .or_else(|| claims.preferred_username().map(|u| u.to_string())),
        email: claims.email().map(|e| e.to_string()),
        groups: match groups_claim_name {
            Some(name) => groups_claim(claims.additional_claims(), name)?,
            None => None,
        },
    })
}

/// The default-language value of a localized claim.
fn localized<T: std::ops::Deref<Target = String>>(
    claim: Option<&openidconnect::LocalizedClaim<T>>,
) -> Option<String> {
    claim.and_then(|c| c.get(None)).map(|v| (**v).clone())
}
