//! Notes @formula semantics: literals, names, statements, operators, every
//! @function, errors and limits.

use certmgr_formula::{
    FieldMap, Fields, Formula, FormulaError, MAX_LIST_LEN, MAX_STRING_BYTES, Value,
};

fn t(s: &str) -> Value {
    Value::text(s)
}

fn n(x: f64) -> Value {
    Value::number(x)
}

fn tl(items: &[&str]) -> Value {
    Value::Text(items.iter().map(|s| s.to_string()).collect())
}

fn nl(items: &[f64]) -> Value {
    Value::Number(items.to_vec())
}

fn eval_in(source: &str, fields: &mut FieldMap) -> Value {
    Formula::parse(source, "Test")
        .unwrap_or_else(|e| panic!("{e}"))
        .eval(fields)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn eval(source: &str) -> Value {
    eval_in(source, &mut FieldMap::new())
}

/// A syntax error.
fn parse_err(source: &str) -> FormulaError {
    match Formula::parse(source, "Test") {
        Ok(_) => panic!("{source:?} parsed"),
        Err(e) => e,
    }
}

/// A runtime error.
fn eval_err(source: &str) -> FormulaError {
    let formula = Formula::parse(source, "Test").unwrap_or_else(|e| panic!("{e}"));
    match formula.eval(&mut FieldMap::new()) {
        Ok(v) => panic!("{source:?} gave {v:?}"),
        Err(e) => e,
    }
}

fn at(e: &FormulaError) -> (usize, usize) {
    (e.line, e.column)
}

// ---------------------------------------------------------------- literals

#[test]
fn number_literals() {
    assert_eq!(eval("200"), n(200.0));
    assert_eq!(eval("1.5"), n(1.5));
    assert_eq!(eval(".5"), n(0.5));
    assert_eq!(eval("123E2"), n(12300.0));
    assert_eq!(eval("123E-2"), n(1.23));
    assert_eq!(eval("-3"), n(-3.0));
    assert_eq!(eval("+3"), n(3.0));
    assert_eq!(eval("- 3"), n(-3.0));
}

#[test]
fn text_literals_and_escapes() {
    assert_eq!(eval(r#""plain""#), t("plain"));
    assert_eq!(eval(r#""say \"hi\"""#), t("say \"hi\""));
    assert_eq!(eval(r#""back\\slash""#), t("back\\slash"));
    assert_eq!(eval(r#""\a\b""#), t("ab"));
    assert_eq!(
        eval(r#"{brace "quoted" \} end}"#),
        t("brace \"quoted\" } end")
    );
    assert_eq!(eval(r#"{"}"#), t("\""));
    assert_eq!(eval(r#"{}"#), t(""));
    assert_eq!(
        eval(r#"'single "double" \' quote'"#),
        t("single \"double\" ' quote")
    );
    assert_eq!(eval("\"multi\nline\""), t("multi\nline"));
    assert_eq!(eval("\"ünïcödé ✓\""), t("ünïcödé ✓"));
}

// ---------------------------------------------------------------- names

#[test]
fn names_are_case_insensitive_and_may_be_dotted() {
    let mut d = FieldMap::new();
    d.insert("retJSON_Lookup.result.0.id", t("zone"));
    d.insert("$Ref", t("ref"));
    assert_eq!(eval_in("RETJSON_LOOKUP.RESULT.0.ID", &mut d), t("zone"));
    assert_eq!(
        eval_in("retjson_lookup.result.0.id + \"!\"", &mut d),
        t("zone!")
    );
    assert_eq!(eval_in("$ref", &mut d), t("ref"));
}

#[test]
fn absent_fields_read_as_empty_text() {
    assert_eq!(eval("nosuchfield"), t(""));
    assert_eq!(eval("retJSON_Add.result.id = \"\""), n(1.0));
    assert_eq!(eval("@Elements(nosuchfield)"), n(0.0));
}

#[test]
fn empty_lists_from_fields_read_as_empty_text() {
    let mut d = FieldMap::new();
    d.insert("e", Value::Text(vec![]));
    d.insert("z", Value::Number(vec![]));
    assert_eq!(eval_in("e + \"x\"", &mut d), t("x"));
    assert_eq!(eval_in("z", &mut d), t(""));
}

// ---------------------------------------------------------------- statements

#[test]
fn value_is_last_non_assignment_statement() {
    assert_eq!(eval("1; 2"), n(2.0));
    assert_eq!(eval("1; x := 5"), n(1.0));
    assert_eq!(eval("x := 5; x * 2; y := 1;"), n(10.0));
    assert_eq!(eval("1;;2;"), n(2.0));
    assert_eq!(eval(""), t(""));
    assert_eq!(eval("  \n "), t(""));
    assert_eq!(eval("x := 1"), t(""));
}

#[test]
fn newlines_are_whitespace() {
    assert_eq!(eval("x :=\n 1\n +\n 2;\n x"), n(3.0));
    assert_eq!(eval("x :=\r\n 1;\r\nx"), n(1.0));
}

#[test]
fn rem_statements_are_comments() {
    assert_eq!(eval(r#"REM "a comment"; 1"#), n(1.0));
    assert_eq!(eval(r#"rem {braces}; 2"#), n(2.0));
    assert_eq!(eval(r#"1; Rem {trailing}"#), n(1.0));
    assert_eq!(eval(r#"REM {DNT Begin}; "x" != "H""#), n(1.0));
    let e = parse_err("REM 5");
    assert!(e.message.contains("after REM"), "{e}");
}

#[test]
fn temporary_variables_shadow_fields_and_stay_local() {
    let mut d = FieldMap::new();
    d.insert("X", t("field"));
    assert_eq!(eval_in("x := \"temp\"; X", &mut d), t("temp"));
    assert_eq!(d.get("x"), Some(t("field")));
    // Case-insensitive temporaries.
    assert_eq!(eval("Abc := 1; aBC + ABC"), n(2.0));
}

#[test]
fn field_assignment_writes_through() {
    let mut d = FieldMap::new();
    assert_eq!(
        eval_in("FIELD Out := \"a\" : \"b\"; out + \"!\"", &mut d),
        tl(&["a!", "b!"])
    );
    assert_eq!(d.get("OUT"), Some(tl(&["a", "b"])));
    // The spelling of the assignment is kept.
    assert_eq!(
        d.iter().next().map(|(k, _)| k.to_string()),
        Some("Out".to_string())
    );
    // `field` keyword in any case; a FIELD write replaces a temporary of the same name.
    assert_eq!(eval_in("y := 1; field y := 2; y", &mut d), n(2.0));
    assert_eq!(d.get("y"), Some(n(2.0)));
}

#[test]
fn set_field_writes_and_returns_the_value() {
    let mut d = FieldMap::new();
    assert_eq!(eval_in(r#"@SetField("Zone"; "z1")"#, &mut d), t("z1"));
    assert_eq!(d.get("zone"), Some(t("z1")));
    assert_eq!(
        eval_in(r#"zone := "temp"; @SetField("zone"; 5); zone"#, &mut d),
        n(5.0)
    );
    assert_eq!(d.get("zone"), Some(n(5.0)));
    let e = eval_err(r#"@SetField(1; 2)"#);
    assert!(e.message.contains("field name must be text"), "{e}");
    let e = eval_err(r#"@SetField(""; 2)"#);
    assert!(e.message.contains("empty"), "{e}");
}

#[test]
fn default_applies_only_to_absent_fields() {
    let mut d = FieldMap::new();
    d.insert("present", t("doc"));
    assert_eq!(
        eval_in("DEFAULT present := \"dflt\"; present", &mut d),
        t("doc")
    );
    assert_eq!(
        eval_in("default absent := \"dflt\"; absent", &mut d),
        t("dflt")
    );
    assert_eq!(d.get("absent"), None);
}

#[test]
fn keywords_are_names_when_not_followed_by_an_assignment() {
    let mut d = FieldMap::new();
    d.insert("field", t("f"));
    d.insert("default", t("d"));
    assert_eq!(eval_in("field + default", &mut d), t("fd"));
}

#[test]
fn assignment_inside_function_arguments() {
    assert_eq!(eval("@If(1; x := 5; x := 6); x"), n(5.0));
    assert_eq!(eval("@Do(x := 2; x * 3)"), n(6.0));
}

#[test]
fn return_stops_evaluation() {
    let mut d = FieldMap::new();
    assert_eq!(
        eval_in(
            "FIELD a := 1; @Return(\"early\"); FIELD b := 2; \"late\"",
            &mut d
        ),
        t("early")
    );
    assert_eq!(d.get("a"), Some(n(1.0)));
    assert_eq!(d.get("b"), None);
    assert_eq!(eval("@If(1; @Return(7); 0); 8"), n(7.0));
    assert_eq!(eval("x := @Return(3) + 1; 9"), n(3.0));
    // @IsError does not swallow @Return.
    assert_eq!(eval("@IsError(@Return(4)); 5"), n(4.0));
}

// ---------------------------------------------------------------- operators

#[test]
fn text_plus_concatenates_pairwise_with_padding() {
    assert_eq!(eval(r#""ab" + "cd""#), t("abcd"));
    assert_eq!(
        eval(r#"("A":"B":"C") + ("1":"2":"3")"#),
        tl(&["A1", "B2", "C3"])
    );
    // The shorter list repeats its last element.
    assert_eq!(
        eval(r#"("A":"B":"C") + ("1":"2")"#),
        tl(&["A1", "B2", "C2"])
    );
    // A scalar applies to every element.
    assert_eq!(eval(r#"("A":"B":"C") + "1""#), tl(&["A1", "B1", "C1"]));
    assert_eq!(eval(r#""<" + ("a":"b")"#), tl(&["<a", "<b"]));
}

#[test]
fn arithmetic_is_pairwise() {
    assert_eq!(eval("1 + 2"), n(3.0));
    assert_eq!(eval("(1:2:3) + (10:20:30)"), nl(&[11.0, 22.0, 33.0]));
    assert_eq!(eval("(1:2:3) + (10:20)"), nl(&[11.0, 22.0, 23.0]));
    assert_eq!(eval("(1:2:3) + 10"), nl(&[11.0, 12.0, 13.0]));
    assert_eq!(eval("10 - 4"), n(6.0));
    assert_eq!(eval("(10:20) - 1"), nl(&[9.0, 19.0]));
    assert_eq!(eval("3 * 4"), n(12.0));
    assert_eq!(eval("(1:2) * (3:4)"), nl(&[3.0, 8.0]));
    assert_eq!(eval("7 / 2"), n(3.5));
    assert_eq!(eval("(8:6) / 2"), nl(&[4.0, 3.0]));
    assert_eq!(eval("2 + 3 * 4"), n(14.0));
    assert_eq!(eval("(2 + 3) * 4"), n(20.0));
    assert_eq!(eval("10 - 2 - 3"), n(5.0));
    assert_eq!(eval("16 / 4 / 2"), n(2.0));
}

#[test]
fn permuted_arithmetic() {
    assert_eq!(
        eval(r#"("A":"B":"C") *+ ("1":"2")"#),
        tl(&["A1", "A2", "B1", "B2", "C1", "C2"])
    );
    assert_eq!(
        eval("(1:2:3) *+ (10:20)"),
        nl(&[11.0, 21.0, 12.0, 22.0, 13.0, 23.0])
    );
    assert_eq!(eval("(10:20) *- (1:2)"), nl(&[9.0, 8.0, 19.0, 18.0]));
    assert_eq!(eval("(1:2) ** (3:4)"), nl(&[3.0, 4.0, 6.0, 8.0]));
    assert_eq!(eval("(8:4) */ (2:4)"), nl(&[4.0, 2.0, 2.0, 1.0]));
}

#[test]
fn unary_minus_and_plus() {
    assert_eq!(eval("-(1:2)"), nl(&[-1.0, -2.0]));
    assert_eq!(eval("x := 4; -x"), n(-4.0));
    assert_eq!(eval("x := 4; +x"), n(4.0));
    assert_eq!(eval("- -5"), n(5.0));
    assert_eq!(eval("2 - -1"), n(3.0));
    assert_eq!(eval("2 * -1"), n(-2.0));
    // As in Notes' operator table, `*-` is one token (permuted subtraction):
    // `2*-1` is `2 *- 1`.
    assert_eq!(eval("2*-1"), n(1.0));
    let e = eval_err(r#"-"text""#);
    assert_eq!(at(&e), (1, 1));
    assert!(
        e.message.contains("incorrect data type for operator '-'"),
        "{e}"
    );
    let e = eval_err(r#"+"text""#);
    assert!(e.message.contains("'+'"), "{e}");
}

#[test]
fn colon_binds_tighter_than_plus_and_unary_minus() {
    // "a" + ("b":"c")
    assert_eq!(eval(r#""a" + "b" : "c""#), tl(&["ab", "ac"]));
    assert_eq!(eval(r#"("a" + "b") : "c""#), tl(&["ab", "c"]));
    // A sign directly before a number is part of the constant...
    assert_eq!(eval("-1:2"), nl(&[-1.0, 2.0]));
    assert_eq!(eval("1:-2"), nl(&[1.0, -2.0]));
    // ...but applies to the whole list otherwise.
    assert_eq!(eval("x := 1; -x:2"), nl(&[-1.0, -2.0]));
    assert_eq!(eval("1 + 2 : 3"), nl(&[3.0, 4.0]));
    assert_eq!(eval("2 * 1:2:3"), nl(&[2.0, 4.0, 6.0]));
}

#[test]
fn list_concatenation() {
    assert_eq!(eval(r#""a" : "b" : "c""#), tl(&["a", "b", "c"]));
    assert_eq!(eval(r#"x := "a":"b"; x : x"#), tl(&["a", "b", "a", "b"]));
    assert_eq!(eval("1 : 2"), nl(&[1.0, 2.0]));
    let e = eval_err(r#""a" : 1"#);
    assert_eq!(at(&e), (1, 5));
    assert!(e.message.contains("all text or all numbers"), "{e}");
}

#[test]
fn mixing_text_and_numbers_is_an_error() {
    let e = eval_err(r#""a" + 1"#);
    assert_eq!(
        e.to_string(),
        "Test: line 1, column 5: incorrect data type for operator '+': cannot combine text and a number (use @Text or @TextToNumber)"
    );
    let e = eval_err(r#""a" - "b""#);
    assert!(e.message.contains("only + joins text"), "{e}");
    let e = eval_err("x := 1;\ny := \"2\";\nx * y");
    assert_eq!(at(&e), (3, 3));
}

#[test]
fn division_by_zero_and_overflow_are_errors() {
    let e = eval_err("1 / 0");
    assert_eq!(e.message, "division by zero");
    assert_eq!(at(&e), (1, 3));
    let e = eval_err("1E300 * 1E300");
    assert!(e.message.contains("numeric overflow"), "{e}");
}

#[test]
fn comparison_operators() {
    for (source, expected) in [
        ("1 = 1", 1.0),
        ("1 = 2", 0.0),
        ("1 != 2", 1.0),
        ("1 != 1", 0.0),
        ("1 <> 2", 1.0),
        ("1 =! 2", 1.0),
        ("1 >< 2", 1.0),
        ("2 >< 2", 0.0),
        ("1 < 2", 1.0),
        ("2 < 1", 0.0),
        ("2 > 1", 1.0),
        ("1 > 1", 0.0),
        ("1 <= 1", 1.0),
        ("2 <= 1", 0.0),
        ("1 >= 1", 1.0),
        ("0 >= 1", 0.0),
        (r#""abc" < "abd""#, 1.0),
        (r#""b" > "a""#, 1.0),
        (r#""a" <= "a""#, 1.0),
        (r#""a" >= "b""#, 0.0),
        (r#""London" = "Lon" + "don""#, 1.0),
        (r#""London" != "Tokyo""#, 1.0),
        ("2 + 2 > 3", 1.0),
    ] {
        assert_eq!(eval(source), n(expected), "{source}");
    }
}

#[test]
fn text_comparisons_ignore_case() {
    assert_eq!(eval(r#""ABC" = "abc""#), n(1.0));
    assert_eq!(eval(r#""ABC" != "abc""#), n(0.0));
    assert_eq!(eval(r#""True" = "true""#), n(1.0));
    assert_eq!(eval(r#""Ä" = "ä""#), n(1.0));
    assert_eq!(eval(r#""apple" < "Banana""#), n(1.0));
    assert_eq!(eval(r#""ABC" = "abd""#), n(0.0));
}

#[test]
fn comparisons_on_lists_are_true_if_any_pair_matches() {
    // From the Notes documentation ("Operations on lists").
    assert_eq!(eval(r#""A":"B":"C" = "B":"C":"A""#), n(0.0));
    assert_eq!(eval(r#""A":"B":"C" = "B":"C""#), n(1.0));
    assert_eq!(eval(r#""B":"B":"C" = "B":"C""#), n(1.0));
    assert_eq!(eval("1:2:3 = 2:3:1"), n(0.0));
    assert_eq!(eval("1:2:3 = 2:3"), n(1.0));
    assert_eq!(eval("2:3:3 = 2:3"), n(1.0));
    assert_eq!(eval("2:3:3 = 3:1"), n(0.0));
    // A scalar is compared with every element.
    assert_eq!(eval(r#""a":"b" = "b""#), n(1.0));
    // != is true if any pair differs.
    assert_eq!(eval(r#""a":"b" != "a""#), n(1.0));
    assert_eq!(eval(r#""a":"a" != "a""#), n(0.0));
    assert_eq!(eval("1:5 > 4"), n(1.0));
    assert_eq!(eval("1:2 > 4"), n(0.0));
}

#[test]
fn permuted_comparisons_compare_all_pairs() {
    assert_eq!(eval(r#""A":"B":"C" *= "B":"C":"A""#), n(1.0));
    assert_eq!(eval(r#""A":"B":"C" *= "B":"C""#), n(1.0));
    assert_eq!(eval(r#""B":"B":"C" *= "D":"E""#), n(0.0));
    assert_eq!(eval("1:2:3 *= 2:3:1"), n(1.0));
    assert_eq!(eval("1:2:3 *= 4:5"), n(0.0));
    assert_eq!(eval(r#""a":"a" *<> "a""#), n(0.0));
    assert_eq!(eval(r#""a":"a" *!= "a":"b""#), n(1.0));
    assert_eq!(eval("5:6 *< 1:6"), n(1.0));
    assert_eq!(eval("5:6 *< 1:2"), n(0.0));
    assert_eq!(eval("1:2 *> 1:2"), n(1.0));
    assert_eq!(eval("1:2 *<= 0:1"), n(1.0));
    assert_eq!(eval("1:2 *>= 3:4"), n(0.0));
}

#[test]
fn comparing_text_with_numbers_is_an_error() {
    let e = eval_err(r#"x := "201"; x = 201"#);
    assert_eq!(at(&e), (1, 15));
    assert!(
        e.message.contains("cannot compare text with a number"),
        "{e}"
    );
}

#[test]
fn logical_operators() {
    assert_eq!(eval("1 & 1"), n(1.0));
    assert_eq!(eval("1 & 0"), n(0.0));
    assert_eq!(eval("0 | 1"), n(1.0));
    assert_eq!(eval("0 | 0"), n(0.0));
    assert_eq!(eval("!0"), n(1.0));
    assert_eq!(eval("!5"), n(0.0));
    assert_eq!(eval("!!7"), n(1.0));
    assert_eq!(eval("!(1:0)"), nl(&[0.0, 1.0]));
    // & and | have one precedence, evaluated left to right.
    assert_eq!(eval("1 | 0 & 0"), n(0.0));
    assert_eq!(eval("0 & 0 | 1"), n(1.0));
    // Comparisons bind tighter than ! & |.
    assert_eq!(eval("!0 = 5"), n(1.0));
    assert_eq!(eval("3 > 2 & 2 > 1"), n(1.0));
    assert_eq!(eval("1 & !0"), n(1.0));
    let e = eval_err(r#""a" & 1"#);
    assert!(e.message.contains("'&'"), "{e}");
    let e = eval_err(r#"!"a""#);
    assert!(e.message.contains("'!'"), "{e}");
}

#[test]
fn list_subscript() {
    assert_eq!(eval(r#"x := "a":"b":"c"; x[2]"#), t("b"));
    assert_eq!(eval("(10:20:30)[3]"), n(30.0));
    assert_eq!(eval(r#""a" : ("b":"c")[1]"#), tl(&["a", "b"]));
    let e = eval_err(r#"x := "a":"b"; x[3]"#);
    assert!(e.message.contains("out of range"), "{e}");
    assert_eq!(at(&e), (1, 16));
    assert!(
        eval_err(r#"x := "a"; x[0]"#)
            .message
            .contains("out of range")
    );
    assert!(
        eval_err(r#"x := "a"; x["1"]"#)
            .message
            .contains("number expected")
    );
}

// ---------------------------------------------------------------- @functions

#[test]
fn function_names_are_case_insensitive() {
    assert_eq!(eval(r#"@if(1; "a"; "b")"#), t("a"));
    assert_eq!(eval(r#"@If(1; "a"; "b")"#), t("a"));
    assert_eq!(eval(r#"@IF(1; "a"; "b")"#), t("a"));
    assert_eq!(eval(r#"@uRLeNCODE("domino"; " ")"#), t("%20"));
    assert_eq!(eval(r#"@ReplaceSubString("a"; "a"; "b")"#), t("b"));
}

#[test]
fn at_if() {
    assert_eq!(eval(r#"@If(1; "yes"; "no")"#), t("yes"));
    assert_eq!(eval(r#"@If(0; "yes"; "no")"#), t("no"));
    // Five arguments: cond; value; cond; value; else.
    assert_eq!(
        eval(r#"x := 2; @If(x = 1; "one"; x = 2; "two"; "many")"#),
        t("two")
    );
    assert_eq!(
        eval(r#"x := 3; @If(x = 1; "one"; x = 2; "two"; "many")"#),
        t("many")
    );
    assert_eq!(eval(r#"@If(0; 1; 0; 2; 0; 3; 1; 4; 5)"#), n(4.0));
    // Only the chosen branch is evaluated.
    let mut d = FieldMap::new();
    eval_in(r#"@If(1; @SetField("a"; 1); @SetField("b"; 2))"#, &mut d);
    assert_eq!(d.get("a"), Some(n(1.0)));
    assert_eq!(d.get("b"), None);
    assert_eq!(eval("@If(1; 2; 1/0)"), n(2.0));
    // A list condition is true if its first element is.
    assert_eq!(eval("@If(1:0; 2; 3)"), n(2.0));
    let e = eval_err(r#"@If("x"; 1; 2)"#);
    assert_eq!(at(&e), (1, 5));
    assert!(e.message.contains("@If condition"), "{e}");
    for bad in ["@If(1)", "@If(1; 2)", "@If(1; 2; 3; 4)"] {
        let e = parse_err(bad);
        assert!(e.message.contains("@If takes an odd number"), "{bad}: {e}");
    }
}

#[test]
fn at_do_true_false_success_failure_newline() {
    assert_eq!(eval("@Do(1; 2; 3)"), n(3.0));
    assert_eq!(eval("@True"), n(1.0));
    assert_eq!(eval("@True()"), n(1.0));
    assert_eq!(eval("@False"), n(0.0));
    assert_eq!(eval("@Success"), n(1.0));
    assert_eq!(eval(r#"@Failure("bad input")"#), t("bad input"));
    assert_eq!(eval("@NewLine"), t("\n"));
    assert_eq!(eval(r#""a" + @NewLine + "b""#), t("a\nb"));
    assert!(
        parse_err("@True(1)")
            .message
            .contains("@True takes 0 arguments")
    );
}

#[test]
fn at_is_error() {
    assert_eq!(eval("@IsError(1 / 0)"), n(1.0));
    assert_eq!(eval("@IsError(1 / 2)"), n(0.0));
    assert_eq!(eval(r#"@IsError("a" + 1)"#), n(1.0));
    assert_eq!(eval(r#"@IsError(@TextToNumber("x"))"#), n(1.0));
    assert_eq!(eval(r#"@If(@IsError(@TextToNumber("12")); 0; 1)"#), n(1.0));
}

#[test]
fn at_left_and_right() {
    assert_eq!(eval(r#"@Left("Hello world"; 5)"#), t("Hello"));
    assert_eq!(eval(r#"@Left("Hi"; 10)"#), t("Hi"));
    assert_eq!(eval(r#"@Left("Hi"; 0)"#), t(""));
    assert_eq!(eval(r#"@Left("Hi"; -1)"#), t(""));
    assert_eq!(
        eval(r#"@Left("_acme-challenge.www.example.com"; ".example.com")"#),
        t("_acme-challenge.www")
    );
    assert_eq!(eval(r#"@Left("a.b.c"; ".")"#), t("a"));
    assert_eq!(eval(r#"@Left("abc"; "x")"#), t(""));
    assert_eq!(eval(r#"@Left("äöü"; 2)"#), t("äö"));
    assert_eq!(eval(r#"@Left("ab":"cd"; 1)"#), tl(&["a", "c"]));
    assert_eq!(eval(r#"@Right("Hello world"; 5)"#), t("world"));
    assert_eq!(eval(r#"@Right("Hi"; 10)"#), t("Hi"));
    assert_eq!(eval(r#"@Right("a.b.c"; ".")"#), t("b.c"));
    assert_eq!(eval(r#"@Right("abc"; "x")"#), t(""));
    assert_eq!(eval(r#"@Right("äöü"; 1)"#), t("ü"));
    assert!(
        eval_err("@Left(5; 1)")
            .message
            .contains("@Left: text expected")
    );
}

#[test]
fn at_left_back_and_right_back() {
    assert_eq!(eval(r#"@LeftBack("a.b.c"; ".")"#), t("a.b"));
    assert_eq!(eval(r#"@LeftBack("abcdef"; 2)"#), t("abcd"));
    assert_eq!(eval(r#"@RightBack("a.b.c"; ".")"#), t("c"));
    assert_eq!(eval(r#"@RightBack("abcdef"; 2)"#), t("cdef"));
    assert_eq!(eval(r#"@RightBack("abc"; "x")"#), t(""));
    assert_eq!(eval(r#"@LeftBack("ab"; 5)"#), t(""));
}

#[test]
fn at_middle() {
    assert_eq!(eval(r#"@Middle("Hello world"; 2; 5)"#), t("llo w"));
    assert_eq!(eval(r#"@Middle("Hello world"; 6; 100)"#), t("world"));
    assert_eq!(eval(r#"@Middle("Hello world"; 20; 2)"#), t(""));
    assert_eq!(eval(r#"@Middle("Hello world"; 5; -3)"#), t("llo"));
    assert_eq!(eval(r#"@Middle("Hello world"; 1; -5)"#), t("H"));
    assert_eq!(eval(r#"@Middle("Hello world"; "o"; 3)"#), t(" wo"));
    assert_eq!(eval(r#"@Middle("Hello world"; "o"; -2)"#), t("ll"));
    assert_eq!(eval(r#"@Middle("key=value;next"; "="; ";")"#), t("value"));
    assert_eq!(eval(r#"@Middle("key=value"; "="; ";")"#), t("value"));
    assert_eq!(eval(r#"@Middle("abc"; "x"; 1)"#), t(""));
    assert_eq!(eval(r#"@Middle("abcdef"; 1; "e")"#), t("bcd"));
    assert_eq!(eval(r#"@Middle("äöüß"; 1; 2)"#), t("öü"));
}

#[test]
fn at_word() {
    assert_eq!(
        eval(r#"@Word("Larson, Collins, and Jensen"; " "; 2)"#),
        t("Collins,")
    );
    assert_eq!(eval(r#"@Word("a.b.c"; "."; 1)"#), t("a"));
    assert_eq!(eval(r#"@Word("a.b.c"; "."; 3)"#), t("c"));
    assert_eq!(eval(r#"@Word("a.b.c"; "."; 4)"#), t(""));
    assert_eq!(eval(r#"@Word("a.b.c"; "."; -1)"#), t("c"));
    assert_eq!(eval(r#"@Word("a.b.c"; "."; -3)"#), t("a"));
    assert_eq!(eval(r#"@Word("a.b.c"; "."; -4)"#), t(""));
    assert_eq!(eval(r#"@Word("a::b"; "::"; 2)"#), t("b"));
    assert_eq!(eval(r#"@Word("a,,b"; ","; 2)"#), t(""));
    assert_eq!(eval(r#"@Word("abc"; ""; 1)"#), t("abc"));
    assert_eq!(eval(r#"@Word("x.y":"p.q"; "."; 2)"#), tl(&["y", "q"]));
}

#[test]
fn at_replace_substring() {
    assert_eq!(
        eval(r#"@ReplaceSubstring("I like apples"; "like"; "hate")"#),
        t("I hate apples")
    );
    // Sequential: later from-strings see earlier replacements.
    assert_eq!(
        eval(r#"@ReplaceSubstring("first"; "first":"second"; "second":"third")"#),
        t("third")
    );
    // Missing to-strings repeat the last one.
    assert_eq!(
        eval(r#"@ReplaceSubstring("a-b_c"; "-":"_"; "+")"#),
        t("a+b+c")
    );
    // Case-sensitive.
    assert_eq!(eval(r#"@ReplaceSubstring("Aa"; "a"; "x")"#), t("Ax"));
    assert_eq!(
        eval(r#"@ReplaceSubstring("\"x\"":"\"y\""; {"}; {})"#),
        tl(&["x", "y"])
    );
    assert_eq!(eval(r#"@ReplaceSubstring("abc"; ""; "x")"#), t("abc"));
    assert_eq!(eval(r#"@ReplaceSubstring("aaa"; "a"; "aa")"#), t("aaaaaa"));
}

#[test]
fn at_replace() {
    assert_eq!(
        eval(r#"@Replace("Red":"Orange":"Yellow":"Green"; "Orange":"Blue"; "Black":"Brown")"#),
        tl(&["Red", "Black", "Yellow", "Green"])
    );
    // Whole elements only.
    assert_eq!(eval(r#"@Replace("ab":"a"; "a"; "x")"#), tl(&["ab", "x"]));
    // No counterpart in the to-list: replaced by "".
    assert_eq!(eval(r#"@Replace("a":"b"; "a":"b"; "A")"#), tl(&["A", ""]));
    assert_eq!(
        eval(r#"@Replace("VALUE":"OTHER"; "VALUE"; "")"#),
        tl(&["", "OTHER"])
    );
}

#[test]
fn at_trim() {
    assert_eq!(eval(r#"@Trim("  a   b  ")"#), t("a b"));
    assert_eq!(eval(r#"@Trim(" x ":"":"  ":"y")"#), tl(&["x", "y"]));
    assert_eq!(eval(r#"@Trim("":" ")"#), t(""));
    assert_eq!(eval(r#"@Elements(@Trim("":" "))"#), n(0.0));
    // Only spaces are trimmed, like Notes.
    assert_eq!(eval("@Trim(\"\ta \")"), t("\ta"));
}

#[test]
fn at_implode() {
    assert_eq!(eval(r#"@Implode("a":"b":"c")"#), t("a b c"));
    assert_eq!(eval(r#"@Implode("a":"b"; ", ")"#), t("a, b"));
    assert_eq!(eval(r#"@Implode("a"; ", ")"#), t("a"));
    assert_eq!(eval(r#"@Implode("a":"b"; "")"#), t("ab"));
    assert!(
        eval_err("@Implode(1:2)")
            .message
            .contains("@Implode: text expected")
    );
}

#[test]
fn at_explode() {
    assert_eq!(eval(r#"@Explode("a b,c;d")"#), tl(&["a", "b", "c", "d"]));
    assert_eq!(eval(r#"@Explode("a,,b"; ",")"#), tl(&["a", "b"]));
    assert_eq!(eval(r#"@Explode("a,,b"; ","; @True)"#), tl(&["a", "", "b"]));
    assert_eq!(eval(r#"@Explode("a-b/c"; "-/")"#), tl(&["a", "b", "c"]));
    assert_eq!(eval("@Explode(\"a\nb\"; \",\")"), tl(&["a", "b"]));
    assert_eq!(eval("@Explode(\"a\r\nb\"; \",\")"), tl(&["a", "b"]));
    assert_eq!(eval("@Explode(\"a\nb\"; \",\"; 0; 0)"), t("a\nb"));
    assert_eq!(eval(r#"@Explode("a b":"c")"#), tl(&["a", "b", "c"]));
    assert_eq!(eval(r#"@Explode("")"#), t(""));
    assert_eq!(eval(r#"@Explode("abc"; "")"#), t("abc"));
}

#[test]
fn at_text() {
    assert_eq!(eval("@Text(200)"), t("200"));
    assert_eq!(eval("@Text(1.5)"), t("1.5"));
    assert_eq!(eval("@Text(-3)"), t("-3"));
    assert_eq!(eval("@Text(1:2.25)"), tl(&["1", "2.25"]));
    assert_eq!(eval(r#"@Text("already")"#), t("already"));
    assert_eq!(eval(r#"@Text(28448429; "G")"#), t("28448429"));
    assert_eq!(eval("@Text(0.1 + 0.2)"), t("0.3"));
}

#[test]
fn at_text_to_number() {
    assert_eq!(eval(r#"@TextToNumber("42")"#), n(42.0));
    assert_eq!(eval(r#"@TextToNumber(" -1.5e2 ")"#), n(-150.0));
    assert_eq!(eval(r#"@TextToNumber("1":"2")"#), nl(&[1.0, 2.0]));
    assert_eq!(eval("@TextToNumber(7)"), n(7.0));
    let e = eval_err(r#"@TextToNumber("twelve")"#);
    assert!(e.message.contains("\"twelve\" is not a number"), "{e}");
    assert!(
        eval_err(r#"@TextToNumber("")"#)
            .message
            .contains("not a number")
    );
}

#[test]
fn at_url_encode_and_decode() {
    // The Notes documentation's examples.
    assert_eq!(eval(r#"@URLEncode("Domino"; "By Date")"#), t("By%20Date"));
    assert_eq!(
        eval(r#"@URLEncode("Domino"; "http://www.ibm.com/")"#),
        t("http%3A%2F%2Fwww.ibm.com%2F")
    );
    assert_eq!(
        eval(r#"@URLEncode("UTF-8"; "Support à la clientèle")"#),
        t("Support%20%C3%A0%20la%20client%C3%A8le")
    );
    assert_eq!(
        eval(r#"@URLEncode("ISO-8859-1"; "Support à la clientèle")"#),
        t("Support%20%E0%20la%20client%E8le")
    );
    assert_eq!(
        eval(r#"@URLEncode("Platform"; "a+b=c&d")"#),
        t("a%2Bb%3Dc%26d")
    );
    assert_eq!(
        eval(r#"@URLEncode("Domino"; "AZaz09-_.~*'()")"#),
        t("AZaz09-_.~%2A%27%28%29")
    );
    assert_eq!(
        eval(r#"@URLEncode("Domino";"{\"name\":\"" + "x" + "\"}")"#),
        t("%7B%22name%22%3A%22x%22%7D")
    );
    assert_eq!(
        eval(r#"@URLEncode("Domino"; "a":"b c")"#),
        tl(&["a", "b%20c"])
    );
    assert_eq!(
        eval(r#"@URLDecode("Domino"; "Employee%2FMy%20Database.nsf")"#),
        t("Employee/My Database.nsf")
    );
    assert_eq!(eval(r#"@URLDecode("UTF-8"; "%C3%A4+%zz%")"#), t("ä+%zz%"));
    assert_eq!(eval(r#"@URLDecode("ISO-8859-1"; "%E0")"#), t("à"));
    assert_eq!(
        eval(r#"@URLDecode("Domino"; @URLEncode("Domino"; "ü /?&"))"#),
        t("ü /?&")
    );
    let e = eval_err(r#"@URLEncode("EBCDIC"; "x")"#);
    assert!(e.message.contains("unsupported encoding"), "{e}");
    assert!(
        eval_err(r#"@URLEncode("ISO-8859-1"; "€")"#)
            .message
            .contains("ISO-8859-1")
    );
}

#[test]
fn at_lower_and_upper_case() {
    assert_eq!(eval(r#"@LowerCase("MiXeD Ä")"#), t("mixed ä"));
    assert_eq!(eval(r#"@UpperCase("MiXeD ä")"#), t("MIXED Ä"));
    assert_eq!(eval(r#"@UpperCase("a":"b")"#), tl(&["A", "B"]));
}

#[test]
fn at_contains_begins_ends() {
    assert_eq!(eval(r#"@Contains("abcdef"; "cd")"#), n(1.0));
    assert_eq!(eval(r#"@Contains("abcdef"; "CD")"#), n(0.0));
    assert_eq!(eval(r#"@Contains("abc":"xyz"; "q":"y")"#), n(1.0));
    assert_eq!(eval(r#"@Contains("abc"; "q":"r")"#), n(0.0));
    assert_eq!(eval(r#"@Begins("abcdef"; "abc")"#), n(1.0));
    assert_eq!(eval(r#"@Begins("abcdef"; "bc")"#), n(0.0));
    assert_eq!(eval(r#"@Begins("x":"abc"; "a")"#), n(1.0));
    assert_eq!(eval(r#"@Ends("abcdef"; "def")"#), n(1.0));
    assert_eq!(eval(r#"@Ends("abcdef"; "de")"#), n(0.0));
    assert_eq!(eval(r#"@Ends("abcdef"; "x":"f")"#), n(1.0));
}

#[test]
fn at_length_elements_count() {
    assert_eq!(eval(r#"@Length("abcdefghi")"#), n(9.0));
    assert_eq!(eval(r#"@Length("ab":"":"äöü")"#), nl(&[2.0, 0.0, 3.0]));
    assert_eq!(eval(r#"@Elements("a":"b":"c")"#), n(3.0));
    assert_eq!(eval(r#"@Elements("")"#), n(0.0));
    assert_eq!(eval(r#"@Elements("x")"#), n(1.0));
    assert_eq!(eval(r#"@Elements("":"")"#), n(2.0));
    assert_eq!(eval("@Elements(1:2)"), n(2.0));
    assert_eq!(eval("@Elements(0)"), n(1.0));
    assert_eq!(eval(r#"@Count("")"#), n(1.0));
    assert_eq!(eval(r#"@Count("a":"b")"#), n(2.0));
}

#[test]
fn at_is_null_is_text_is_number_is_member() {
    assert_eq!(eval(r#"@IsNull("")"#), n(1.0));
    assert_eq!(eval(r#"@IsNull("a")"#), n(0.0));
    assert_eq!(eval("@IsNull(absent)"), n(1.0));
    assert_eq!(eval(r#"@IsText("a")"#), n(1.0));
    assert_eq!(eval("@IsText(1)"), n(0.0));
    assert_eq!(eval("@IsNumber(1)"), n(1.0));
    assert_eq!(eval(r#"@IsNumber("1")"#), n(0.0));
    assert_eq!(eval(r#"@IsMember("b"; "a":"b")"#), n(1.0));
    assert_eq!(eval(r#"@IsMember("a":"c"; "a":"b")"#), n(0.0));
    assert_eq!(eval(r#"@IsMember("B"; "a":"b")"#), n(0.0));
    assert_eq!(eval("@IsMember(2; 1:2)"), n(1.0));
}

#[test]
fn functions_with_type_errors_name_the_function() {
    for (source, function) in [
        ("@Right(1; 1)", "@Right"),
        ("@Middle(1; 1; 1)", "@Middle"),
        ("@Word(1; \".\"; 1)", "@Word"),
        ("@Word(\"a\"; \".\"; \"1\")", "@Word"),
        ("@ReplaceSubstring(1; \"a\"; \"b\")", "@ReplaceSubstring"),
        ("@Replace(1; \"a\"; \"b\")", "@Replace"),
        ("@Trim(1)", "@Trim"),
        ("@Explode(1)", "@Explode"),
        ("@URLEncode(\"Domino\"; 1)", "@URLEncode"),
        ("@LowerCase(1)", "@LowerCase"),
        ("@Contains(1; \"a\")", "@Contains"),
        ("@Length(1)", "@Length"),
    ] {
        let e = eval_err(source);
        assert!(
            e.message
                .starts_with(&format!("incorrect data type for {function}")),
            "{source}: {e}"
        );
        assert_eq!(at(&e), (1, 1), "{source}");
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn unknown_function_with_suggestion_and_position() {
    let e = parse_err("X := a + b + 1;\nX := a + b + @Lft(c; 1)");
    assert_eq!(e.item, "Test");
    assert_eq!(at(&e), (2, 14));
    assert_eq!(e.message, "unknown function @Lft; did you mean @Left?");
    let e = Formula::parse("cfg_URL +\n   @Lft(x; 1)", "ReqAddUrlFormula").unwrap_err();
    assert_eq!(
        e.to_string(),
        "ReqAddUrlFormula: line 2, column 4: unknown function @Lft; did you mean @Left?"
    );
    let e = parse_err("@Frobnicate(1)");
    assert_eq!(e.message, "unknown function @Frobnicate");
}

#[test]
fn wrong_argument_counts() {
    let e = parse_err("x := 1; @Left(x)");
    assert_eq!(e.message, "@Left takes 2 arguments, got 1");
    assert_eq!(at(&e), (1, 9));
    assert_eq!(
        parse_err("@Middle(1;2)").message,
        "@Middle takes 3 arguments, got 2"
    );
    assert_eq!(
        parse_err("@Implode").message,
        "@Implode takes 1 to 2 arguments, got 0"
    );
    assert_eq!(
        parse_err("@Trim(1;2)").message,
        "@Trim takes 1 argument, got 2"
    );
    assert_eq!(
        parse_err("@Do()").message,
        "@Do takes at least 1 argument, got 0"
    );
    assert_eq!(
        parse_err("@Explode(1;2;3;4;5)").message,
        "@Explode takes 1 to 4 arguments, got 5"
    );
}

#[test]
fn syntax_errors_have_positions() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        (
            "1 +",
            (1, 4),
            "expected a value, found the end of the formula",
        ),
        ("(1 + 2", (1, 7), "expected ')'"),
        ("1 2", (1, 3), "expected ';' between statements"),
        ("\"abc", (1, 1), "unterminated text constant"),
        ("x := {abc", (1, 6), "unterminated text constant"),
        ("a\n  # b", (2, 3), "unexpected character '#'"),
        ("@If(1; 2; 3", (1, 12), "expected ';' or ')'"),
        ("x[1", (1, 4), "expected ']'"),
        ("FIELD x :=", (1, 11), "expected a value"),
        ("1.2.3", (1, 1), "invalid number"),
        (":= 1", (1, 1), "expected a value, found ':='"),
        ("@", (1, 1), "'@' must be followed by a function name"),
    ];
    for (source, position, message) in cases {
        let e = parse_err(source);
        assert_eq!(at(&e), *position, "{source}: {e}");
        assert!(e.message.contains(message), "{source}: {e}");
    }
}

#[test]
fn runtime_error_positions_point_at_the_operator_or_function() {
    let e = eval_err("a := 1;\n  b := \"x\";\n  @If(a = 1; a + b; 0)");
    assert_eq!(at(&e), (3, 16));
    let e = eval_err("x := 1;\n@Left(x; 2)");
    assert_eq!(at(&e), (2, 1));
}

#[test]
fn errors_display_item_line_column_and_message() {
    let e = Formula::parse("1 +", "StatusFormula").unwrap_err();
    assert_eq!(
        e,
        FormulaError {
            item: "StatusFormula".to_string(),
            line: 1,
            column: 4,
            message: "expected a value, found the end of the formula".to_string(),
        }
    );
    assert_eq!(
        e.to_string(),
        "StatusFormula: line 1, column 4: expected a value, found the end of the formula"
    );
}

// ---------------------------------------------------------------- safety

#[test]
fn deep_nesting_is_a_syntax_error_not_a_stack_overflow() {
    let deep = "(".repeat(100_000) + "1" + &")".repeat(100_000);
    let e = parse_err(&deep);
    assert!(e.message.contains("nested too deeply"), "{e}");
    for prefix in ["-", "!", "@Trim("] {
        let deep = prefix.repeat(100_000) + "x";
        assert!(
            parse_err(&deep).message.contains("nested too deeply"),
            "{prefix}"
        );
    }
    // Long operator chains build deep trees too.
    let chain = vec!["1"; 100_000].join(" + ");
    assert!(parse_err(&chain).message.contains("nested too deeply"));
    // Moderate nesting is fine.
    let ok = "(".repeat(100) + "1" + &")".repeat(100);
    assert_eq!(eval(&ok), n(1.0));
    let ok = vec!["1"; 200].join(" + ");
    assert_eq!(eval(&ok), n(200.0));
    // Long formulas of many statements are fine.
    let many = "x := 1;\n".repeat(50_000) + "x";
    assert_eq!(eval(&many), n(1.0));
}

#[test]
fn string_length_limit() {
    let source = r#"x := "0123456789abcdef"; x := x + x; x := x + x; x := x + x; x := x + x;
        x := x + x; x := x + x; x := x + x; x := x + x; x := x + x; x := x + x;
        x := x + x; x := x + x; x := x + x; x := x + x; x := x + x; x := x + x;
        x := x + x; @Length(x)"#;
    let e = eval_err(source);
    assert!(e.message.contains("text too long"), "{e}");
    let below = r#"x := "0123456789abcdef"; x := x + x; x := x + x; x := x + x; x := x + x;
        x := x + x; x := x + x; x := x + x; x := x + x; x := x + x; x := x + x;
        x := x + x; x := x + x; x := x + x; x := x + x; x := x + x; x := x + x; @Length(x)"#;
    assert_eq!(eval(below), n(MAX_STRING_BYTES as f64));
    let e = eval_err(
        r#"x := "0123456789abcdef"; x := x + x + x + x + x + x + x + x; x := x + x + x + x + x + x + x + x;
        x := x + x + x + x + x + x + x + x; x := x + x + x + x + x + x + x + x;
        x := x + x + x + x + x + x + x + x;
        @ReplaceSubstring(x; "0"; "0123456789012345678901234567890")"#,
    );
    assert!(e.message.contains("text too long"), "{e}");
}

#[test]
fn list_length_limits() {
    let source = r#"x := "a":"b":"c":"d"; x := x:x:x:x; x := x:x:x:x; x := x:x:x:x;
        x := x:x:x:x; x := x:x:x:x; x := x:x:x:x; x := x:x:x:x; x := x:x; @Elements(x)"#;
    let e = eval_err(source);
    assert!(e.message.contains("list too long"), "{e}");
    let at_limit = r#"x := "a":"b":"c":"d"; x := x:x:x:x; x := x:x:x:x; x := x:x:x:x;
        x := x:x:x:x; x := x:x:x:x; x := x:x:x:x; @Elements(x)"#;
    assert_eq!(eval(at_limit), n(16384.0));
    // Permuted operators on long lists: 16384 * 16384 pairs is too many.
    let permuted = r#"x := "a":"b":"c":"d"; x := x:x:x:x; x := x:x:x:x; x := x:x:x:x;
        x := x:x:x:x; x := x:x:x:x; x := x:x:x:x; x *= x"#;
    assert!(eval_err(permuted).message.contains("list too long"));
    assert_eq!(MAX_LIST_LEN, 65_536);
}

#[test]
fn value_size_limit() {
    // 64 elements of 256 KiB each (16 MiB) is over the 8 MiB value limit.
    let source = r#"x := "0123456789abcdef"; x := x + x + x + x + x + x + x + x; x := x + x + x + x + x + x + x + x;
        x := x + x + x + x + x + x + x + x; x := x + x + x + x; x := x + x; x := x + x; x := x + x;
        l := "a":"b":"c":"d"; l := l:l:l:l; l := l:l:l:l;
        l + x"#;
    let e = eval_err(source);
    assert!(e.message.contains("value too large"), "{e}");
    let implode = r#"x := "0123456789abcdef"; x := x + x + x + x + x + x + x + x; x := x + x + x + x + x + x + x + x;
        x := x + x + x + x + x + x + x + x; x := x + x + x + x; x := x + x; x := x + x; x := x + x;
        @Implode(x : x : x : x : x)"#;
    assert!(eval_err(implode).message.contains("text too long"));
}

#[test]
fn arbitrary_input_never_panics() {
    let inputs = [
        "\u{0}",
        "\u{FEFF}1",
        "@",
        "@@",
        "{",
        "'",
        "\\",
        "x[",
        "x[1][2",
        "FIELD",
        "FIELD x",
        "FIELD x :=",
        "REM",
        "DEFAULT :=",
        ";;;;",
        "*",
        "**",
        "*=",
        "-",
        "--",
        "!",
        "1e",
        "1e+",
        ".",
        "..",
        "a..b",
        "a.",
        "ǅ := 1; ǅ",
        "\u{10FFFF}",
        "\"\u{10FFFF}\" = \"\u{10FFFF}\"",
        "@Left(\"ä\"; 1E300)",
        "@Right(\"ä\"; -1E300)",
        "@Middle(\"äöü\"; 1E300; -1E300)",
        "@Middle(\"äöü\"; -1E300; 1E300)",
        "@Middle(\"äöü\"; \"ö\"; -1E300)",
        "@Word(\"a.b\"; \".\"; -1E300)",
        "@Word(\"a.b\"; \".\"; 1E300)",
        "(1:2)[1E300]",
        "(1:2)[-1E300]",
        "@Explode(\"\r\n\r\n\"; \"\"; 1; 1)",
        "@UpperCase(\"ß\")",
        "@URLDecode(\"Domino\"; \"%FF%FE\")",
        "@Text(1E300 / 1E-300)",
    ];
    for source in inputs {
        if let Ok(formula) = Formula::parse(source, "Fuzz") {
            let _ = formula.eval(&mut FieldMap::new());
            let _ = formula.field_references();
        }
    }
}

// ---------------------------------------------------------------- field references

#[test]
fn field_references_lists_fields_read() {
    let f = Formula::parse(
        r#"X := @If(cfg_DnsZone = ""; Param_RegisteredDomain; CFG_DNSZONE);
           FIELD out := x + retJSON_Add.result.id;
           @SetField("other"; out);
           DEFAULT dflt := 1;
           tmp := 2; tmp + unknown[tmp]"#,
        "Test",
    )
    .unwrap();
    assert_eq!(
        f.field_references(),
        vec![
            "cfg_dnszone",
            "param_registereddomain",
            "retjson_add.result.id",
            "out",
            "dflt",
            "unknown",
        ]
    );
}

// ---------------------------------------------------------------- custom Fields

/// A `Fields` that records writes, to check FIELD goes through the trait.
#[derive(Default)]
struct Recorder {
    map: FieldMap,
    writes: Vec<String>,
}

impl Fields for Recorder {
    fn get(&self, name: &str) -> Option<Value> {
        self.map.get(name)
    }

    fn set(&mut self, name: &str, value: Value) {
        self.writes.push(name.to_string());
        self.map.set(name, value);
    }
}

#[test]
fn writes_go_through_the_fields_trait() {
    let mut doc = Recorder::default();
    let f = Formula::parse(
        r#"FIELD a := 1; @SetField("B"; 2); c := 3; a + b + c"#,
        "Test",
    )
    .unwrap();
    assert_eq!(f.eval(&mut doc).unwrap(), n(6.0));
    assert_eq!(doc.writes, vec!["a", "B"]);
}
