//! Domino CertMgr compatibility: DNS provider configurations exported as
//! DXL run as they are, their Notes formulas interpreted by
//! `certmgr-formula`.
//!
//! - [`read_dxl`] reads documents and items;
//! - [`DxlDefinition`] is a `DnsProviderConfig` document with its formulas
//!   parsed (errors name the file, item, line and column);
//! - [`read_import`] sorts a file's documents into provider configurations,
//!   DNS accounts (`DnsProvider`) and ACME accounts (`AcmeAccount`);
//! - [`Engine::dxl_add`](crate::Engine::dxl_add) and
//!   [`Engine::dxl_delete`](crate::Engine::dxl_delete) run the pipeline;
//! - [`export_dxl`] writes a configuration back as DXL Domino imports.

mod export;
mod import;
mod provider;
mod reader;
mod runtime;

pub use export::export_dxl;
pub use import::{DxlAccount, DxlAcmeAccount, DxlImport, read_import};
pub use provider::{
    ACCOUNT_FIELDS, ACCOUNT_FORM, ACME_FORM, CONFIG_FORM, DxlDefinition, DxlStep, MAX_DELAY_SECS,
    STEPS, Stage, provider_id,
};
pub use reader::{DxlDocument, Item, ItemValue, read_dxl};
