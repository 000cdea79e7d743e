//! The claims certmgr reads beyond the standard ones, and the groups claim.

use openidconnect::AdditionalClaims;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::OidcError;

/// Every claim of an ID token or userinfo response that openidconnect does
/// not model itself, kept by name: the groups claim's name is configured, so
/// it cannot be a fixed struct field.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(crate) struct OtherClaims {
    #[serde(flatten)]
    pub(crate) claims: Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

/// The groups listed in claim `name`: `None` when the claim is absent (or
/// null), the names when it is a list of strings or one string, and a refusal
/// for anything else (a number, an object, a list holding a non-string):
/// guessing could hand out a role by accident.
pub(crate) fn groups_claim(
    claims: &OtherClaims,
    name: &str,
) -> Result<Option<Vec<String>>, OidcError> {
    let refuse = |detail: String| OidcError::BadGroupsClaim {
        claim: name.to_owned(),
        detail,
    };
    match claims.claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(group)) => Ok(Some(vec![group.clone()])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(group) => Ok(group.clone()),
                other => Err(refuse(format!("the list holds {other}, not a string"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(refuse(format!("found {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> OtherClaims {
        serde_json::from_str(json).expect("valid claims JSON")
    }

    #[test]
    fn list_string_absent_and_refused() {
        let c = claims(r#"{"groups":["a","b"],"one":"x","n":null,"bad":[1],"obj":{"a":1}}"#);
        assert_eq!(
            groups_claim(&c, "groups").ok(),
            Some(Some(vec!["a".to_owned(), "b".to_owned()]))
        );
        assert_eq!(
            groups_claim(&c, "one").ok(),
            Some(Some(vec!["x".to_owned()]))
        );
        assert_eq!(groups_claim(&c, "n").ok(), Some(None));
        assert_eq!(groups_claim(&c, "missing").ok(), Some(None));
        assert!(matches!(
            groups_claim(&c, "bad"),
            Err(OidcError::BadGroupsClaim { .. })
        ));
        assert!(matches!(
            groups_claim(&c, "obj"),
            Err(OidcError::BadGroupsClaim { .. })
        ));
    }
}
