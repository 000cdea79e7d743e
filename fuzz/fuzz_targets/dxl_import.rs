//! Reads arbitrary bytes as a Domino DXL export through the path
//! `certmgr dns provider import` takes (`read_import`: XML, documents,
//! items, every formula parsed), then, for each provider configuration,
//! evaluates its formulas against its own defaults (as the runtime does
//! before a request) and checks that its DXL export imports again. None of
//! it may panic, overflow the stack, run away with memory or take long.
#![no_main]

use certmgr_dns::dxl::{ItemValue, export_dxl, read_import};
use certmgr_formula::{FieldMap, Formula, Value};
use libfuzzer_sys::fuzz_target;

fn value(v: &ItemValue) -> Value {
    match v {
        ItemValue::Text(t) | ItemValue::DateTime(t) => Value::texts(t.clone()),
        ItemValue::Number(n) if n.is_empty() => Value::text(""),
        ItemValue::Number(n) => Value::Number(n.clone()),
        ItemValue::RichText(t) => Value::text(t.clone()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(import) = read_import(text, "fuzz.dxl") else {
        return;
    };
    for def in &import.providers {
        let mut doc = FieldMap::new();
        for (name, v) in &def.defaults {
            doc.insert(name, value(v));
        }
        doc.insert(
            "param_DnsTxtName",
            Value::text("_acme-challenge.example.com"),
        );
        doc.insert("param_DnsTxtValue", Value::text("VALUE"));
        doc.insert("param_RegisteredDomain", Value::text("example.com"));
        let formulas: Vec<&Formula> = def
            .steps
            .iter()
            .flat_map(|s| {
                [
                    Some(&s.url),
                    s.headers.as_ref(),
                    s.body.as_ref(),
                    s.custom.as_ref(),
                ]
            })
            .flatten()
            .chain(def.status.as_ref())
            .collect();
        for f in formulas {
            let _ = f.eval(&mut doc);
        }
        // What certmgr stores is the export: it must import again.
        let exported = export_dxl(def);
        if let Err(e) = read_import(&exported, "exported.dxl") {
            panic!("the export of an imported provider does not import: {e}\n{exported}");
        }
    }
});
