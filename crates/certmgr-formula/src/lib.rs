//! An interpreter for the subset of the HCL Notes/Domino @formula language that
//! Domino CertMgr DNS provider documents use (`ReqAddUrlFormula`,
//! `ReqAddPostDataFormula`, `StatusFormula`, ...), so that those documents run
//! unmodified.
//!
//! ```
//! use certmgr_formula::{FieldMap, Formula, Value};
//!
//! let formula = Formula::parse(
//!     r#"@if (ret_AddStatus >= 200 & ret_AddStatus < 300; 200; 400)"#,
//!     "StatusFormula",
//! )?;
//! let mut doc = FieldMap::new();
//! doc.insert("ret_AddStatus", Value::number(201.0));
//! assert_eq!(formula.eval(&mut doc)?, Value::number(200.0));
//! # Ok::<(), certmgr_formula::FormulaError>(())
//! ```
//!
//! # Language
//!
//! - Statements are separated by `;`; the value of a formula is the value of its
//!   last statement that is not an assignment, or the argument of `@Return`.
//!   `REM "..."` / `REM {...}` statements are comments.
//! - `name := expr` assigns a temporary variable, `FIELD name := expr` (and
//!   `@SetField`) writes a document field through [`Fields::set`],
//!   `DEFAULT name := expr` gives an absent field a value. Reading a name that is
//!   neither a temporary nor a field gives `""`, as Notes does.
//! - Names are case-insensitive and may contain dots (`retJSON_Lookup.result.0.id`
//!   is one name). Text constants: `"..."`, `{...}` and `'...'`, where `\c`
//!   stands for `c`.
//! - Operators, from the highest precedence: `list[n]`; `:`; unary `-` `+`;
//!   `*` `/` (`**` `*/` permuted); `+` `-` (`*+` `*-` permuted); comparisons
//!   `=` `!=` `<>` `=!` `><` `<` `>` `<=` `>=` and their permuted forms `*=`
//!   `*<>` `*!=` `*<` `*>` `*<=` `*>=`; `!`, `&`, `|` (left to right).
//!   Pairwise operations pad the shorter list with its last element; a
//!   comparison is true (1) if any compared pair satisfies it. Text comparisons
//!   ignore case (see the notes in the evaluator's source for the sources).
//! - @functions: `@If @Do @Return @IsError @SetField @True @False @Success
//!   @Failure @Left @Right @LeftBack @RightBack @Middle @Word @ReplaceSubstring
//!   @Replace @Trim @Implode @Explode @Text @TextToNumber @URLEncode @URLDecode
//!   @LowerCase @UpperCase @Contains @Begins @Ends @Length @Elements @Count
//!   @NewLine @IsNull @IsText @IsNumber @IsMember`, in any letter case.
//!
//! `@URLEncode` keeps `A-Z a-z 0-9 - _ . ~` (the RFC 3986 unreserved set) and
//! writes every other character as `%XX` escapes of its UTF-8 bytes (uppercase
//! hex, space as `%20`); `"Domino"`, `"UTF-8"` and `"Platform"` all mean UTF-8,
//! `"ISO-8859-1"` is also accepted.
//!
//! # Robustness
//!
//! Parsing never recurses deeper than 256 levels (deeper formulas are a syntax
//! error), evaluation refuses to build text elements over 1 MiB, lists over
//! 65,536 elements and values over 8 MiB (a runtime error), and no input makes
//! the parser or the evaluator panic. Each evaluation also has a budget: at
//! most [`MAX_EVAL_STEPS`] steps (nodes evaluated, elements and compared pairs
//! handled, 64-byte blocks of text read or written) and at most
//! [`MAX_EVAL_BYTES`] held at once by its temporary variables, the fields it
//! writes and the operands in use; exceeding either is a runtime error that
//! says the formula is too expensive. `@IsError` cannot reset the step budget.

mod eval;
mod functions;
mod lexer;
mod limits;
mod parser;
mod value;

use std::collections::HashSet;

pub use limits::{MAX_EVAL_BYTES, MAX_EVAL_STEPS, MAX_LIST_LEN, MAX_STRING_BYTES, MAX_VALUE_BYTES};
pub use value::{FieldMap, Fields, Value};

use eval::{Ctx, Flow};
use functions::Func;
use parser::{Expr, ExprKind, Target};

/// A parsed formula.
#[derive(Debug, Clone)]
pub struct Formula {
    item: String,
    statements: Vec<Expr>,
}

/// A syntax or runtime error, with the 1-based line and column of the
/// offending token and the name of the formula's item.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{item}: line {line}, column {column}: {message}")]
pub struct FormulaError {
    /// The DXL item the formula came from, e.g. "ReqAddUrlFormula".
    pub item: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Formula {
    /// `item` names the DXL item (e.g. "ReqAddUrlFormula") for error messages.
    pub fn parse(source: &str, item: &str) -> Result<Formula, FormulaError> {
        match parser::parse(source) {
            Ok(statements) => Ok(Formula {
                item: item.to_string(),
                statements,
            }),
            Err(e) => Err(FormulaError {
                item: item.to_string(),
                line: e.pos.line,
                column: e.pos.column,
                message: e.message,
            }),
        }
    }

    /// Evaluates the formula against a document. Fields written by `FIELD`
    /// and `@SetField` stay written even when a later statement fails.
    pub fn eval(&self, fields: &mut dyn Fields) -> Result<Value, FormulaError> {
        let mut ctx = Ctx::new(fields);
        let mut result = Value::text("");
        for statement in &self.statements {
            match ctx.eval(statement) {
                Ok(v) => {
                    if !matches!(statement.kind, ExprKind::Assign { .. }) {
                        result = v;
                    }
                }
                Err(Flow::Return(v)) => return Ok(v),
                Err(Flow::Error { pos, message }) => {
                    return Err(FormulaError {
                        item: self.item.clone(),
                        line: pos.line,
                        column: pos.column,
                        message,
                    });
                }
            }
        }
        Ok(result)
    }

    /// Field names the formula reads (lower-cased, dotted names whole, e.g. "retjson_add.result.id"), for static checks.
    ///
    /// Names are listed once, in order of first appearance. A name read after
    /// the formula assigned it as a temporary variable is not a field read;
    /// one read after a `FIELD` assignment still is.
    pub fn field_references(&self) -> Vec<String> {
        let mut walk = RefWalk::default();
        for statement in &self.statements {
            walk.expr(statement);
        }
        walk.refs
    }
}

#[derive(Default)]
struct RefWalk {
    temps: HashSet<String>,
    seen: HashSet<String>,
    refs: Vec<String>,
}

impl RefWalk {
    fn add(&mut self, name: &str) {
        let lower = name.to_ascii_lowercase();
        if self.temps.contains(&lower) {
            return;
        }
        if self.seen.insert(lower.clone()) {
            self.refs.push(lower);
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Num(_) | ExprKind::Str(_) => {}
            ExprKind::Var(name) => self.add(name),
            ExprKind::Unary(_, operand) => self.expr(operand),
            ExprKind::Binary { left, right, .. } => {
                self.expr(left);
                self.expr(right);
            }
            ExprKind::Subscript(list, index) => {
                self.expr(list);
                self.expr(index);
            }
            ExprKind::Call(func, args) => {
                for a in args {
                    self.expr(a);
                }
                if *func == Func::SetField
                    && let Some(Expr {
                        kind: ExprKind::Str(name),
                        ..
                    }) = args.first()
                {
                    self.temps.remove(&name.to_ascii_lowercase());
                }
            }
            ExprKind::Assign {
                target,
                name,
                value,
            } => {
                self.expr(value);
                match target {
                    Target::Temp => {
                        self.temps.insert(name.to_ascii_lowercase());
                    }
                    Target::Field => {
                        self.temps.remove(&name.to_ascii_lowercase());
                    }
                    Target::Default => {
                        self.temps.remove(&name.to_ascii_lowercase());
                        self.add(name);
                    }
                }
            }
        }
    }
}
