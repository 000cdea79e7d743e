//! Which tables carry a row MAC, and which columns it covers, in order.

use super::Covered;
use super::Kind::{Bytes, Int, Text};

/// DNS accounts: which provider definition gets the sealed parameters, for
/// which zones.
pub(crate) const DNS_ACCOUNTS: Covered = Covered {
    table: "dns_accounts",
    key: "id",
    label: "name",
    columns: &[
        ("id", Text),
        ("name", Text),
        ("provider", Text),
        ("zones", Text),
        ("sealed_params", Bytes),
    ],
    remedy: "delete the DNS account and create it again",
};

/// The TXT journal: what the cleanup deletes, with which account, from the
/// captures (sealed) of the add phase.
pub(crate) const TXT_JOURNAL: Covered = Covered {
    table: "txt_journal",
    key: "id",
    label: "id",
    columns: &[
        ("id", Text),
        ("dns_account", Text),
        ("zone", Text),
        ("record_name", Text),
        ("value", Text),
        ("captures", Text),
        ("state", Text),
        ("owner", Text),
        ("created_at", Int),
    ],
    remedy: "the entry is skipped; delete the row (and the TXT record it names, if it exists in DNS)",
};

/// Challenge answers the server gives.
pub(crate) const ACME_CHALLENGES: Covered = Covered {
    table: "acme_challenges",
    key: "token",
    label: "token",
    columns: &[
        ("token", Text),
        ("kind", Text),
        ("identifier", Text),
        ("key_authorization", Text),
        ("created_at", Int),
    ],
    remedy: "it is not answered; delete the row",
};

/// Imported provider definitions: where requests (with tokens) go.
pub(crate) const DNS_PROVIDERS: Covered = Covered {
    table: "dns_providers",
    key: "id",
    label: "id",
    columns: &[("id", Text), ("source", Text), ("file_name", Text)],
    remedy: "the definition is not used; delete the row and import the definition again",
};

/// ACME accounts: the directory (and its trust) the sealed account key
/// signs for.
pub(crate) const ACME_ACCOUNTS: Covered = Covered {
    table: "acme_accounts",
    key: "id",
    label: "name",
    columns: &[
        ("id", Text),
        ("name", Text),
        ("ca_id", Text),
        ("directory_url", Text),
        ("account_url", Text),
        ("contacts", Text),
        ("eab_kid", Text),
        ("sealed_credentials", Bytes),
        ("ca_bundle_pem", Text),
        ("status", Text),
        ("profile", Text),
        ("max_concurrent_orders", Int),
        ("preferred_chain", Text),
    ],
    remedy: "restore the row from a backup, or delete it and register the account again",
};

/// Orders in flight: the order URL signed requests go to, and the key.
pub(crate) const ACME_ORDERS: Covered = Covered {
    table: "acme_orders",
    key: "id",
    label: "id",
    columns: &[
        ("id", Text),
        ("credential_id", Text),
        ("family", Text),
        ("key_spec", Text),
        ("sealed_key", Bytes),
        ("order_url", Text),
    ],
    remedy: "the order is not continued; delete the row and issue the credential again",
};

/// Credentials: what they are issued for, by whom, through which DNS
/// account and challenge. (Status, leases and planning, the due index
/// included, change all the time and decide nothing about where secrets go:
/// not covered.)
pub(crate) const CREDENTIALS: Covered = Covered {
    table: "credentials",
    key: "id",
    label: "name",
    columns: &[
        ("id", Text),
        ("name", Text),
        ("hostnames", Text),
        ("key_specs", Text),
        ("issuer", Text),
        ("validity_days", Int),
        ("renew_before_days", Int),
        ("challenge", Text),
        ("profile", Text),
        ("preferred_chain", Text),
        ("dns_account", Text),
        ("challenge_alias", Text),
    ],
    remedy: "restore the row from a backup, or delete the row and create the credential again",
};

/// Users: who may sign in, with which role over which credentials.
pub(crate) const USERS: Covered = Covered {
    table: "users",
    key: "id",
    label: "name",
    columns: &[
        ("id", Text),
        ("name", Text),
        ("password_hash", Text),
        ("role", Text),
        ("scope_key", Text),
        ("scope_value", Text),
        ("created_at", Int),
        ("disabled_at", Int),
    ],
    remedy: "the user cannot sign in; delete the row and add the user again",
};

/// API tokens: which secret grants which role over which credentials, until when.
pub(crate) const API_TOKENS: Covered = Covered {
    table: "api_tokens",
    key: "id",
    label: "name",
    columns: &[
        ("id", Text),
        ("name", Text),
        ("secret_hash", Text),
        ("role", Text),
        ("scope_key", Text),
        ("scope_value", Text),
        ("created_at", Int),
        ("expires_at", Int),
        ("revoked_at", Int),
    ],
    remedy: "the token is refused; delete the row and create a new token",
};

/// Browser sessions: which cookie grants which role over which credentials,
/// until when.
pub(crate) const SESSIONS: Covered = Covered {
    table: "sessions",
    key: "id",
    label: "principal",
    columns: &[
        ("id", Text),
        ("secret_hash", Text),
        ("principal", Text),
        ("role", Text),
        ("scope_key", Text),
        ("scope_value", Text),
        ("created_at", Int),
        ("expires_at", Int),
    ],
    remedy: "the session is refused; sign in again",
};

/// Credential tags: which credentials a scoped role reaches.
pub(crate) const CREDENTIAL_TAGS: Covered = Covered {
    table: "credential_tags",
    key: "id",
    label: "id",
    columns: &[
        ("id", Text),
        ("credential_id", Text),
        ("tag_key", Text),
        ("tag_value", Text),
    ],
    remedy: "the tag is not honoured; delete the row and tag the credential again",
};

/// Notification channels: where notices go (an SMTP server, recipients, a
/// webhook's settings) and the sealed secrets sent there (SMTP password,
/// webhook URL, HMAC secret).
pub(crate) const NOTIFY_CHANNELS: Covered = Covered {
    table: "notify_channels",
    key: "id",
    label: "name",
    columns: &[
        ("id", Text),
        ("name", Text),
        ("kind", Text),
        ("settings", Text),
        ("sealed_secrets", Bytes),
        ("enabled", Int),
    ],
    remedy: "nothing is sent on it; delete the channel and create it again",
};

/// Every covered table.
pub(crate) const COVERED: [&Covered; 12] = [
    &NOTIFY_CHANNELS,
    &CREDENTIAL_TAGS,
    &USERS,
    &API_TOKENS,
    &SESSIONS,
    &DNS_ACCOUNTS,
    &TXT_JOURNAL,
    &ACME_CHALLENGES,
    &DNS_PROVIDERS,
    &ACME_ACCOUNTS,
    &ACME_ORDERS,
    &CREDENTIALS,
];
