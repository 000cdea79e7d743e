//! Parses arbitrary UTF-8 as a formula and, when it parses, evaluates it
//! against a small document. Neither may panic, overflow the stack or run
//! away with memory.
#![no_main]

use certmgr_formula::{FieldMap, Formula, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(formula) = Formula::parse(source, "FuzzFormula") else {
        return;
    };
    let _ = formula.field_references();
    let mut doc = FieldMap::new();
    doc.insert("cfg_URL", Value::text("https://desec.io/api/v1"));
    doc.insert("cfg_DnsZone", Value::text(""));
    doc.insert(
        "param_DnsTxtName",
        Value::text("_acme-challenge.www.example.com"),
    );
    doc.insert("param_RegisteredDomain", Value::text("example.com"));
    doc.insert("param_DnsTxtValue", Value::text("VALUE"));
    doc.insert("ret_AddStatus", Value::number(201.0));
    doc.insert(
        "retJSON_QryAdd.records",
        Value::Text(vec!["\"a\"".to_string(), "\"b\"".to_string()]),
    );
    doc.insert("nums", Value::Number(vec![1.0, -2.5, 3.0]));
    if let Ok(value) = formula.eval(&mut doc) {
        let _ = value.to_texts();
        let _ = value.first_text();
        let _ = value.is_true();
    }
});
