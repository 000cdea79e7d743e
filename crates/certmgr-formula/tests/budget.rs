//! The evaluation budget (issue #9, item 3): a formula from an imported
//! provider cannot hold more than `MAX_EVAL_BYTES` in all across its
//! temporaries, fields and operands, nor run more than `MAX_EVAL_STEPS`
//! steps. Each test is an attack an imported definition could carry; the
//! outcome is a clear error naming the item, quickly.

use std::time::{Duration, Instant};

use certmgr_formula::{FieldMap, Fields, Formula, FormulaError, MAX_EVAL_BYTES, Value};

/// Generous for an unoptimised test build; the fuzz target (optimised)
/// holds every input to under 1 s. Measured in the evaluating thread's CPU
/// time, so that a loaded machine (other processes taking the cores) does
/// not count.
const QUICK: Duration = Duration::from_secs(5);

/// The CPU time this thread has run (Linux's `/proc/thread-self/schedstat`,
/// nanoseconds on the CPU first); where that is not readable, the wall clock
/// since `started`.
fn cpu_time_since(started: Instant, cpu_at_start: Option<Duration>) -> Duration {
    match (cpu_at_start, thread_cpu()) {
        (Some(before), Some(now)) => now.saturating_sub(before),
        _ => started.elapsed(),
    }
}

fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Evaluates `source` as item "ReqAddPostDataFormula", expecting an error,
/// and checks it came quickly.
fn refused(source: &str, fields: &mut FieldMap) -> FormulaError {
    let formula = Formula::parse(source, "ReqAddPostDataFormula").unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let cpu_at_start = thread_cpu();
    let result = formula.eval(fields);
    let took = cpu_time_since(started, cpu_at_start);
    assert!(took < QUICK, "took {took:?}");
    eprintln!("evaluation took {took:?}");
    match result {
        Ok(v) => panic!("evaluated to a value of {} elements", v.to_texts().len()),
        Err(e) => e,
    }
}

/// `name := "x"` doubled to 1 MiB (the most one text may hold).
fn one_mib_text(name: &str) -> String {
    let mut f = format!("{name} := \"x\";\n");
    for _ in 0..20 {
        f.push_str(&format!("{name} := {name} + {name};\n"));
    }
    f
}

fn assert_too_expensive(e: &FormulaError) {
    let text = e.to_string();
    assert!(
        text.starts_with("ReqAddPostDataFormula: line ") && text.contains("formula too expensive"),
        "{text}"
    );
    assert!(text.contains("simplify"), "says what to do: {text}");
}

#[test]
fn copies_of_a_large_list_in_many_temporaries_hit_the_memory_budget() {
    // Each copy stays under the per-value limits (7 MiB of 8); twenty of
    // them would hold 140 MiB. The memory budget stops it before the step
    // budget does.
    let mut source = one_mib_text("a");
    source.push_str("l := a : a : a : a : a : a : a;\n");
    for i in 0..20 {
        source.push_str(&format!("t{i} := l : \"{i}\";\n"));
    }
    source.push_str("@Elements(t19)");
    let e = refused(&source, &mut FieldMap::new());
    assert_too_expensive(&e);
    let limit = format!("{} MiB", MAX_EVAL_BYTES >> 20);
    assert!(e.to_string().contains(&limit), "{e}");
    // It stopped at the copy that went over, not at the end.
    assert!(e.line < 22 + 20, "{e}");
}

#[test]
fn copies_written_to_fields_count_too() {
    let mut source = one_mib_text("a");
    source.push_str("l := a : a : a : a : a : a : a;\n");
    for i in 0..20 {
        source.push_str(&format!("FIELD f{i} := l;\n"));
    }
    source.push('1');
    let mut fields = FieldMap::new();
    let e = refused(&source, &mut fields);
    assert_too_expensive(&e);
    // What was written stays within the budget.
    let written: usize = (0..20)
        .filter_map(|i| fields.get(&format!("f{i}")))
        .map(|v| v.to_texts().iter().map(String::len).sum::<usize>())
        .sum();
    assert!(written <= MAX_EVAL_BYTES, "{written}");
}

#[test]
fn operands_held_across_deep_nesting_hit_the_memory_budget() {
    // Each level holds its 7 MiB left operand while the right one is
    // evaluated: 50 levels would hold 350 MiB without any temporary.
    let mut source = one_mib_text("a");
    source.push_str("l := a : a : a : a : a : a : a;\n");
    let depth = 50;
    for _ in 0..depth {
        source.push_str("l = (");
    }
    source.push('l');
    for _ in 0..depth {
        source.push(')');
    }
    let e = refused(&source, &mut FieldMap::new());
    assert_too_expensive(&e);
}

#[test]
fn reassigning_a_temporary_frees_its_old_value() {
    // The same temporary overwritten twelve times with 3 MiB holds 3 MiB,
    // not 36.
    let mut source = one_mib_text("a");
    source.push_str("l := a : a : a;\n");
    for _ in 0..12 {
        source.push_str("t := l : \"\";\n");
    }
    source.push_str("@Elements(t)");
    let v = Formula::parse(&source, "Test")
        .unwrap_or_else(|e| panic!("{e}"))
        .eval(&mut FieldMap::new())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v, Value::number(4.0));
}

/// `name := @Explode(...)`: a list of 32,768 one-character elements.
fn long_list(name: &str, element: &str) -> String {
    let mut f = format!("{name} := \"{element};\";\n");
    for _ in 0..15 {
        f.push_str(&format!("{name} := {name} + {name};\n"));
    }
    f.push_str(&format!("{name} := @Explode({name}; \";\");\n"));
    f
}

#[test]
fn quadratic_contains_hits_the_step_budget_quickly() {
    // 32,768 × 32,768 pairs: a billion substring searches.
    let mut source = long_list("l", "x");
    source.push_str(&long_list("m", "y"));
    source.push_str("@Contains(l; m)");
    let e = refused(&source, &mut FieldMap::new());
    assert_too_expensive(&e);
    assert!(e.to_string().contains("evaluation steps"), "{e}");
}

#[test]
fn quadratic_list_functions_hit_the_step_budget_quickly() {
    for call in [
        "@Replace(l; m; \"z\")",
        "@ReplaceSubstring(l; m; \"z\")",
        "@IsMember(l; m : l)",
    ] {
        let mut source = long_list("l", "x");
        source.push_str(&long_list("m", "y"));
        source.push_str(call);
        let e = refused(&source, &mut FieldMap::new());
        assert_too_expensive(&e);
    }
}

#[test]
fn a_long_pattern_against_a_long_list_hits_the_step_budget() {
    // @Left prepares its 512 KiB search text once per element.
    let mut source = long_list("l", "x");
    source.push_str("p := \"p\";\n");
    for _ in 0..19 {
        source.push_str("p := p + p;\n");
    }
    source.push_str("@Left(l; p)");
    let e = refused(&source, &mut FieldMap::new());
    assert_too_expensive(&e);
}

#[test]
fn millions_of_statements_hit_the_step_budget() {
    let source = "x := x + 1;\n".repeat(2_000_000);
    let mut fields = FieldMap::new();
    fields.insert("x", Value::number(0.0));
    let e = refused(&source, &mut fields);
    assert_too_expensive(&e);
    assert!(e.to_string().contains("evaluation steps"), "{e}");
}

#[test]
fn a_caught_budget_error_does_not_reset_the_budget() {
    let mut source = long_list("l", "x");
    source.push_str(&long_list("m", "y"));
    source.push_str("r := @IsError(@Contains(l; m));\n@Contains(l; m)");
    let e = refused(&source, &mut FieldMap::new());
    assert_too_expensive(&e);
}

#[test]
fn an_explode_with_a_huge_separator_set_stays_fast() {
    // One character of text against a megabyte of separators used to be
    // a scan of the separators per character.
    let mut source = one_mib_text("s");
    source.push_str("@Elements(@Explode(s; s))");
    let formula = Formula::parse(&source, "Test").unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let cpu_at_start = thread_cpu();
    let v = formula.eval(&mut FieldMap::new());
    let took = cpu_time_since(started, cpu_at_start);
    assert!(took < QUICK, "{took:?}");
    assert_eq!(v, Ok(Value::number(0.0)));
}

#[test]
fn formatting_long_number_lists_many_times_hits_the_step_budget() {
    // 65,536 numbers (permuted additions of 16-element lists), each
    // formatted by @Text, again and again.
    let mut source = String::from("a := 1.5");
    for i in 2..=16 {
        source.push_str(&format!(" : {i}.123456789"));
    }
    source.push_str(";\nb := a *+ a * 1000;\nl := b *+ b / 7;\n");
    for _ in 0..200 {
        source.push_str("t := @Text(l);\n");
    }
    source.push_str("@Elements(t)");
    let e = refused(&source, &mut FieldMap::new());
    assert_too_expensive(&e);
}

#[test]
fn every_text_function_on_long_non_ascii_texts_runs_out_of_budget_quickly() {
    // Character-level work (case mapping, comparisons, @Middle, @Trim...)
    // on 5 MiB of non-ASCII text, a hundred times: each is charged by the
    // bytes it walks, so the budget stops it (in an optimised build, each
    // of these took 0.1 to 0.9 s before being charged so).
    for call in [
        "l = l",
        "@UpperCase(l)",
        "@LowerCase(l)",
        "@Middle(l; 1; 100000000)",
        "@Explode(l; \"x,;\")",
        "@URLDecode(\"UTF-8\"; l)",
        "@Trim(l)",
        "@Word(l; \"Σ\"; 2)",
        "@Left(l; \"q\")",
        "@ReplaceSubstring(l; \"Ä\"; \"Ö\")",
        "@Replace(l; l; l)",
    ] {
        let mut source = String::from("a := \"ÄΣ b\";\n");
        for _ in 0..17 {
            source.push_str("a := a + a;\n");
        }
        source.push_str("l := a : a : a : a : a;\n");
        for _ in 0..100 {
            source.push_str(&format!("r := {call};\n"));
        }
        source.push('r');
        let e = refused(&source, &mut FieldMap::new());
        assert_too_expensive(&e);
    }
}
