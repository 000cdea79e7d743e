//! OpenAPI schemas of the types that travel as text (`Hostname`,
//! `IssuerRef`, `KeySpec`), for the REST API's generated document. Only
//! built with the `openapi` feature (the server's).

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::{Hostname, IssuerRef, KeySpec};

macro_rules! text_schema {
    ($($ty:ty => $description:literal, $example:literal;)+) => {
        $(
            impl utoipa::PartialSchema for $ty {
                fn schema() -> RefOr<Schema> {
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some($description))
                        .examples([$example])
                        .into()
                }
            }
            impl utoipa::ToSchema for $ty {}
        )+
    };
}

text_schema! {
    Hostname => "A DNS name (a wildcard only as the whole leftmost label) or an IP address", "www.example.com";
    IssuerRef => "The issuer: ca:NAME (a MicroCA), acme:ACCOUNT, manual or import", "ca:lab";
    KeySpec => "A key: rsa2048, rsa3072, rsa4096, ecdsa-p256 or ecdsa-p384", "ecdsa-p256";
}
