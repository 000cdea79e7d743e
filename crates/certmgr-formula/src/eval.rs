//! The evaluator.
//!
//! Text comparisons (`=`, `!=`, `<`, ... and their permuted forms) ignore
//! case. HCL's "Comparison operators" page (Domino Designer help, Formula
//! Language > Using operators) only says that the operators "compare values of
//! the same type and produce a logical result" and shows `"London" = "Lon" +
//! "don"`; it does not state the case rule. Case-sensitive behaviour is
//! documented per function instead (`@Compare` defaults to
//! `[CASESENSITIVE]`, `@ReplaceSubstring` is "Case sensitive", `@Contains`
//! and `@Replace` match exactly), and the OpenNTF Domino API formula engine,
//! which re-implements the Notes formula language and marks each known
//! deviation from Lotus with `@DiffersFromLotus`, compares text with
//! `compareToIgnoreCase` for all comparison operators without marking a
//! deviation (org.openntf.formula.function.Comparators). We follow that:
//! `"ABC" = "abc"` is 1, while the @functions above stay case-sensitive.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::functions::{self as f, Func};
use crate::lexer::Pos;
use crate::limits::{
    Budget, LimitError, MAX_EVAL_BYTES, MAX_EVAL_STEPS, Meter, check_len, cost, value_bytes,
    value_cost,
};
use crate::parser::{BinOp, Expr, ExprKind, Target, UnOp};
use crate::value::{Fields, Value};

/// Why evaluation stopped early.
pub(crate) enum Flow {
    /// `@Return(value)`.
    Return(Value),
    /// A runtime error at a position.
    Error { pos: Pos, message: String },
}

type EResult = Result<Value, Flow>;

fn fail<T>(pos: Pos, message: impl Into<String>) -> Result<T, Flow> {
    Err(Flow::Error {
        pos,
        message: message.into(),
    })
}

/// Evaluation state: the document, the temporary variables and the budget.
///
/// The memory budget counts what the evaluation keeps (`stored`: temporary
/// variables, defaults and the fields it wrote, each name once at its latest
/// size) plus the operands evaluated and waiting for their operation
/// (`in_use`) plus the value being made; the step budget counts the work.
pub(crate) struct Ctx<'a> {
    fields: &'a mut dyn Fields,
    temps: HashMap<String, Value>,
    defaults: HashMap<String, Value>,
    /// Bytes of the fields this evaluation wrote, by lower-cased name.
    written: HashMap<String, usize>,
    stored: usize,
    in_use: usize,
    meter: Meter,
    max_bytes: usize,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(fields: &'a mut dyn Fields) -> Self {
        Self::with_limits(fields, MAX_EVAL_STEPS, MAX_EVAL_BYTES)
    }

    /// A context with its own step and memory budgets.
    pub(crate) fn with_limits(fields: &'a mut dyn Fields, steps: u64, bytes: usize) -> Self {
        Self {
            fields,
            temps: HashMap::new(),
            defaults: HashMap::new(),
            written: HashMap::new(),
            stored: 0,
            in_use: 0,
            meter: Meter::new(steps),
            max_bytes: bytes,
        }
    }

    /// Refuses to go on when what is kept, in use and `extra` exceed the
    /// memory budget.
    fn check_memory(&self, extra: usize) -> Result<(), LimitError> {
        let total = self
            .stored
            .saturating_add(self.in_use)
            .saturating_add(extra);
        if total > self.max_bytes {
            Err(LimitError::Memory)
        } else {
            Ok(())
        }
    }

    /// Accounts for a value just made: the steps of making it and its bytes.
    fn made(&mut self, v: Value, pos: Pos) -> EResult {
        if let Err(e) = self
            .meter
            .charge(value_cost(&v))
            .and_then(|()| self.check_memory(value_bytes(&v)))
        {
            return fail(pos, e.to_string());
        }
        Ok(v)
    }

    /// Replaces the stored size of one kept value.
    fn restore(&mut self, old: usize, new: usize) {
        self.stored = self.stored.saturating_sub(old).saturating_add(new);
    }

    fn read(&self, name: &str) -> Value {
        if let Some(v) = self.temps.get(name) {
            return v.clone();
        }
        if let Some(v) = self.fields.get(name) {
            return v.normalized();
        }
        if let Some(v) = self.defaults.get(name) {
            return v.clone();
        }
        // Notes reads an absent field as "".
        Value::text("")
    }

    fn write_field(&mut self, name: &str, value: Value, pos: Pos) -> Result<(), Flow> {
        let lower = name.to_ascii_lowercase();
        let new = value_bytes(&value);
        let old_temp = self.temps.get(&lower).map_or(0, value_bytes);
        let old_field = self.written.get(&lower).copied().unwrap_or(0);
        if let Err(e) = self.check_memory(new.saturating_sub(old_temp.saturating_add(old_field))) {
            return fail(pos, e.to_string());
        }
        self.temps.remove(&lower);
        self.written.insert(lower, new);
        self.restore(old_temp.saturating_add(old_field), new);
        self.fields.set(name, value);
        Ok(())
    }

    /// Keeps `v` as temporary variable `name`.
    fn write_temp(&mut self, name: &str, v: Value, pos: Pos) -> Result<(), Flow> {
        let new = value_bytes(&v);
        let old = self.temps.get(name).map_or(0, value_bytes);
        if let Err(e) = self.check_memory(new.saturating_sub(old)) {
            return fail(pos, e.to_string());
        }
        self.restore(old, new);
        self.temps.insert(name.to_string(), v);
        Ok(())
    }

    /// Gives the absent field `name` the default `v`.
    fn write_default(&mut self, name: &str, v: Value, pos: Pos) -> Result<(), Flow> {
        let lower = name.to_ascii_lowercase();
        let new = value_bytes(&v);
        let old = self.defaults.get(&lower).map_or(0, value_bytes);
        if let Err(e) = self.check_memory(new.saturating_sub(old)) {
            return fail(pos, e.to_string());
        }
        self.restore(old, new);
        self.defaults.insert(lower, v);
        Ok(())
    }

    /// Evaluates `e` while `held` bytes of operands wait for it.
    fn eval_holding(&mut self, e: &Expr, held: usize) -> EResult {
        let before = self.in_use;
        self.in_use = self.in_use.saturating_add(held);
        let r = self.eval(e);
        self.in_use = before;
        r
    }

    pub(crate) fn eval(&mut self, e: &Expr) -> EResult {
        if let Err(err) = self.meter.charge(1) {
            return fail(e.pos, err.to_string());
        }
        match &e.kind {
            ExprKind::Num(n) => Ok(Value::number(*n)),
            ExprKind::Str(s) => {
                let v = Value::text(s.clone());
                self.made(v, e.pos)
            }
            ExprKind::Var(name) => {
                let v = self.read(name);
                self.made(v, e.pos)
            }
            ExprKind::Assign {
                target,
                name,
                value,
            } => {
                let v = self.eval(value)?;
                // The copy kept and the value returned both count.
                let copy = self.made(v.clone(), e.pos)?;
                let held = value_bytes(&v);
                let before = self.in_use;
                self.in_use = self.in_use.saturating_add(held);
                let stored = match target {
                    Target::Temp => self.write_temp(name, copy, e.pos),
                    Target::Field => self.write_field(name, copy, e.pos),
                    Target::Default => {
                        if self.fields.get(name).is_none() {
                            self.write_default(name, copy, e.pos)
                        } else {
                            Ok(())
                        }
                    }
                };
                self.in_use = before;
                stored?;
                Ok(v)
            }
            ExprKind::Unary(op, operand) => {
                let v = self.eval(operand)?;
                let v = unary(*op, v).or_else(|m| fail(e.pos, m))?;
                self.made(v, e.pos)
            }
            ExprKind::Binary {
                op,
                permuted,
                left,
                right,
            } => {
                let l = self.eval(left)?;
                let r = self.eval_holding(right, value_bytes(&l))?;
                let held = value_bytes(&l).saturating_add(value_bytes(&r));
                let before = self.in_use;
                self.in_use = self.in_use.saturating_add(held);
                let v = binary(*op, *permuted, &l, &r, &mut self.meter)
                    .or_else(|m| fail(e.pos, m))
                    .and_then(|v| self.made(v, e.pos));
                self.in_use = before;
                v
            }
            ExprKind::Subscript(list, index) => {
                let list = self.eval(list)?;
                let index = self.eval_holding(index, value_bytes(&list))?;
                let v = subscript(&list, &index).or_else(|m| fail(e.pos, m))?;
                self.made(v, e.pos)
            }
            ExprKind::Call(func, args) => self.call(*func, args, e.pos),
        }
    }

    fn call(&mut self, func: Func, args: &[Expr], pos: Pos) -> EResult {
        // Lazily evaluated functions first.
        match func {
            Func::If => return self.eval_if(args, pos),
            Func::Do => {
                let mut last = Value::text("");
                for a in args {
                    last = self.eval(a)?;
                }
                return Ok(last);
            }
            Func::Return => {
                let v = match args.first() {
                    Some(a) => self.eval(a)?,
                    None => Value::text(""),
                };
                return Err(Flow::Return(v));
            }
            Func::IsError => {
                let failed = match args.first().map(|a| self.eval(a)) {
                    Some(Err(Flow::Error { .. })) => true,
                    Some(Err(Flow::Return(v))) => return Err(Flow::Return(v)),
                    Some(Ok(_)) | None => false,
                };
                return Ok(Value::boolean(failed));
            }
            Func::SetField => {
                let (Some(name_arg), Some(value_arg)) = (args.first(), args.get(1)) else {
                    return fail(pos, "@SetField takes 2 arguments");
                };
                let name = match self.eval(name_arg)? {
                    Value::Text(list) => list.into_iter().next().unwrap_or_default(),
                    Value::Number(_) => {
                        return fail(
                            pos,
                            "incorrect data type for @SetField: field name must be text",
                        );
                    }
                };
                if name.is_empty() {
                    return fail(pos, "@SetField: the field name is empty");
                }
                let v = self.eval(value_arg)?;
                let copy = self.made(v.clone(), pos)?;
                let before = self.in_use;
                self.in_use = self.in_use.saturating_add(value_bytes(&v));
                let stored = self.write_field(&name, copy, pos);
                self.in_use = before;
                stored?;
                return Ok(v);
            }
            _ => {}
        }
        let before = self.in_use;
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            match self.eval(a) {
                Ok(v) => {
                    self.in_use = self.in_use.saturating_add(value_bytes(&v));
                    values.push(v);
                }
                Err(e) => {
                    self.in_use = before;
                    return Err(e);
                }
            }
        }
        let v = apply(func, &values, &mut self.meter)
            .or_else(|m| fail(pos, m))
            .and_then(|v| self.made(v, pos));
        self.in_use = before;
        v
    }

    fn eval_if(&mut self, args: &[Expr], pos: Pos) -> EResult {
        let mut rest = args;
        while let [cond, value, tail @ ..] = rest {
            if tail.is_empty() {
                break;
            }
            let c = self.eval(cond)?;
            if let Value::Text(_) = c {
                return fail(
                    cond.pos,
                    "incorrect data type for @If condition: number (true/false) expected, got text",
                );
            }
            if c.is_true() {
                return self.eval(value);
            }
            rest = tail;
        }
        match rest {
            [otherwise] => self.eval(otherwise),
            _ => fail(pos, "@If takes an odd number (at least 3) of arguments"),
        }
    }
}

/// How much more than copying it scanning a text costs a function
/// (measured on non-ASCII text: @Middle, @Trim, @Word... take 8 times
/// longer per byte than a copy).
const TEXT_SCAN_FACTOR: usize = 8;
/// The same for case mapping (@LowerCase, @UpperCase, text comparisons).
const CASE_MAPPING_FACTOR: usize = 32;

/// Steps that formatting or parsing one number costs (measured: about
/// 16 times a node evaluation).
const NUMBER_STEPS: usize = 16;

/// The eager @functions, on evaluated arguments. Reading the arguments is
/// charged here; functions whose work grows faster than their arguments and
/// result charge the rest themselves.
fn apply(func: Func, a: &[Value], meter: &mut Meter) -> f::FResult {
    meter.charge(a.iter().map(value_cost).fold(0, u64::saturating_add))?;
    // Functions walk their text arguments character by character, several
    // times slower than copying them; case mapping is slower still.
    let text_bytes = a
        .iter()
        .map(|v| match v {
            Value::Text(list) => list.iter().map(String::len).fold(0, usize::saturating_add),
            Value::Number(_) => 0,
        })
        .fold(0usize, usize::saturating_add);
    let factor = match func {
        Func::LowerCase | Func::UpperCase => CASE_MAPPING_FACTOR,
        _ => TEXT_SCAN_FACTOR,
    };
    meter.charge(cost(0, text_bytes.saturating_mul(factor)))?;
    if matches!(
        func,
        Func::Left | Func::Right | Func::LeftBack | Func::RightBack | Func::Middle | Func::Word
    ) {
        // Searching each element for a text argument prepares that text
        // once per element.
        let elements = a.first().map_or(0, Value::len);
        let pattern = a
            .iter()
            .skip(1)
            .map(|v| match v {
                Value::Text(list) => list.first().map_or(0, String::len),
                Value::Number(_) => 0,
            })
            .fold(0usize, usize::saturating_add);
        meter.charge(cost(elements, elements.saturating_mul(pattern)))?;
    }
    let arg = |i: usize| {
        a.get(i)
            .ok_or_else(|| format!("{} is missing an argument", f::name_of(func)))
    };
    match func {
        Func::True | Func::Success => Ok(Value::boolean(true)),
        Func::False => Ok(Value::boolean(false)),
        Func::Failure => Ok(arg(0)?.clone()),
        Func::NewLine => Ok(Value::text("\n")),
        Func::Left | Func::Right | Func::LeftBack | Func::RightBack => {
            f::left_right(func, arg(0)?, arg(1)?)
        }
        Func::Middle => f::middle(arg(0)?, arg(1)?, arg(2)?),
        Func::Word => f::word(arg(0)?, arg(1)?, arg(2)?),
        Func::ReplaceSubstring => f::replace_substring(arg(0)?, arg(1)?, arg(2)?, meter),
        Func::Replace => f::replace(arg(0)?, arg(1)?, arg(2)?, meter),
        Func::Trim => f::trim(arg(0)?),
        Func::Implode => f::implode(arg(0)?, a.get(1)),
        Func::Explode => f::explode(arg(0)?, a.get(1), a.get(2), a.get(3)),
        Func::Text => {
            // Formatting a number costs about as much as 16 other steps.
            if let Value::Number(list) = arg(0)? {
                meter.charge(cost(list.len().saturating_mul(NUMBER_STEPS), 0))?;
            }
            f::text(arg(0)?)
        }
        Func::TextToNumber => {
            if let Value::Text(list) = arg(0)? {
                meter.charge(cost(list.len().saturating_mul(NUMBER_STEPS), 0))?;
            }
            f::text_to_number(arg(0)?)
        }
        Func::UrlEncode => f::url_encode(arg(0)?, arg(1)?),
        Func::UrlDecode => f::url_decode(arg(0)?, arg(1)?),
        Func::LowerCase | Func::UpperCase => f::change_case(func, arg(0)?),
        Func::Contains | Func::Begins | Func::Ends => f::matches(func, arg(0)?, arg(1)?, meter),
        Func::Length => f::length(arg(0)?),
        Func::Elements => f::elements(arg(0)?),
        Func::Count => Ok(Value::number(arg(0)?.len() as f64)),
        Func::IsNull => {
            let n = f::elements(arg(0)?)?;
            Ok(Value::boolean(n.as_number() == Some(0.0)))
        }
        Func::IsText => Ok(Value::boolean(matches!(arg(0)?, Value::Text(_)))),
        Func::IsNumber => Ok(Value::boolean(matches!(arg(0)?, Value::Number(_)))),
        Func::IsMember => f::is_member(arg(0)?, arg(1)?, meter),
        // Evaluated lazily in `Ctx::call`.
        Func::If | Func::Do | Func::Return | Func::IsError | Func::SetField => Err(format!(
            "{} cannot be applied to evaluated arguments",
            f::name_of(func)
        )),
    }
}

fn type_error(op: &str, expected: &str) -> String {
    format!("incorrect data type for operator '{op}': {expected}")
}

fn unary(op: UnOp, v: Value) -> Result<Value, String> {
    let symbol = match op {
        UnOp::Neg => "-",
        UnOp::Plus => "+",
        UnOp::Not => "!",
    };
    let Value::Number(list) = v else {
        return Err(type_error(symbol, "number expected, got text"));
    };
    Ok(Value::Number(match op {
        UnOp::Neg => list.into_iter().map(|n| -n).collect(),
        UnOp::Plus => list,
        UnOp::Not => list
            .into_iter()
            .map(|n| if n == 0.0 { 1.0 } else { 0.0 })
            .collect(),
    })
    .normalized())
}

/// How many result elements a pairwise or permuted operation has.
fn pair_count(la: usize, lb: usize, permuted: bool) -> Result<usize, LimitError> {
    let n = if permuted {
        la.checked_mul(lb).ok_or(LimitError::List)?
    } else {
        la.max(lb)
    };
    check_len(n)?;
    Ok(n)
}

/// The operand indices of result element `i`: pairwise operations pad the
/// shorter list with its last element; permuted ones take every pair.
fn pair_index(i: usize, la: usize, lb: usize, permuted: bool) -> (usize, usize) {
    if permuted {
        let lb = lb.max(1);
        (i / lb, i % lb)
    } else {
        (i.min(la.saturating_sub(1)), i.min(lb.saturating_sub(1)))
    }
}

fn pick<T>(list: &[T], i: usize) -> Option<&T> {
    list.get(i).or(list.last())
}

fn binary(
    op: BinOp,
    permuted: bool,
    l: &Value,
    r: &Value,
    meter: &mut Meter,
) -> Result<Value, String> {
    meter.charge(value_cost(l).saturating_add(value_cost(r)))?;
    match op {
        BinOp::Concat => concat(l, r),
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => arithmetic(op, permuted, l, r),
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
            compare(op, permuted, l, r, meter)
        }
        BinOp::And | BinOp::Or => {
            if !matches!(l, Value::Number(_)) || !matches!(r, Value::Number(_)) {
                return Err(type_error(op.symbol(), "numbers (true/false) expected"));
            }
            Ok(Value::boolean(if op == BinOp::And {
                l.is_true() && r.is_true()
            } else {
                l.is_true() || r.is_true()
            }))
        }
    }
}

/// `a : b`, list concatenation of values of one type.
fn concat(l: &Value, r: &Value) -> Result<Value, String> {
    match (l, r) {
        (Value::Text(a), Value::Text(b)) => {
            let mut budget = Budget::new();
            for s in a.iter().chain(b) {
                budget.add_string(s)?;
            }
            Ok(Value::texts(a.iter().chain(b).cloned().collect()))
        }
        (Value::Number(a), Value::Number(b)) => {
            check_len(a.len().saturating_add(b.len()))?;
            Ok(Value::Number(a.iter().chain(b).copied().collect()).normalized())
        }
        _ => Err(type_error(
            ":",
            "a list must be all text or all numbers, got text and a number",
        )),
    }
}

fn arithmetic(op: BinOp, permuted: bool, l: &Value, r: &Value) -> Result<Value, String> {
    match (l, r) {
        (Value::Text(a), Value::Text(b)) if op == BinOp::Add => {
            let n = pair_count(a.len(), b.len(), permuted)?;
            let mut budget = Budget::new();
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let (x, y) = pair_index(i, a.len(), b.len(), permuted);
                let x = pick(a, x).map_or("", String::as_str);
                let y = pick(b, y).map_or("", String::as_str);
                budget.add(x.len().saturating_add(y.len()))?;
                let mut s = String::with_capacity(x.len() + y.len());
                s.push_str(x);
                s.push_str(y);
                out.push(s);
            }
            Ok(Value::texts(out))
        }
        (Value::Number(a), Value::Number(b)) => {
            let n = pair_count(a.len(), b.len(), permuted)?;
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let (x, y) = pair_index(i, a.len(), b.len(), permuted);
                let x = pick(a, x).copied().unwrap_or(0.0);
                let y = pick(b, y).copied().unwrap_or(0.0);
                let v = match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    _ => {
                        if y == 0.0 {
                            return Err("division by zero".to_string());
                        }
                        x / y
                    }
                };
                if !v.is_finite() {
                    return Err(format!(
                        "numeric overflow in {} {} {}",
                        f::describe_number(x),
                        op.symbol(),
                        f::describe_number(y)
                    ));
                }
                out.push(v);
            }
            Ok(Value::Number(out).normalized())
        }
        (Value::Text(_), Value::Text(_)) => Err(type_error(
            op.symbol(),
            "numbers expected, got text (only + joins text)",
        )),
        _ => Err(type_error(
            op.symbol(),
            "cannot combine text and a number (use @Text or @TextToNumber)",
        )),
    }
}

fn matches_ordering(op: BinOp, ord: Option<Ordering>) -> bool {
    match op {
        BinOp::Eq => ord == Some(Ordering::Equal),
        BinOp::Ne => ord != Some(Ordering::Equal),
        BinOp::Lt => ord == Some(Ordering::Less),
        BinOp::Gt => ord == Some(Ordering::Greater),
        BinOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        _ => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    }
}

/// Comparisons: 1 if any compared pair satisfies the operator.
fn compare(
    op: BinOp,
    permuted: bool,
    l: &Value,
    r: &Value,
    meter: &mut Meter,
) -> Result<Value, String> {
    match (l, r) {
        (Value::Text(a), Value::Text(b)) => {
            let n = pair_count(a.len(), b.len(), permuted)?;
            let bytes = a
                .iter()
                .chain(b)
                .map(String::len)
                .fold(0usize, usize::saturating_add);
            meter.charge(cost(0, bytes.saturating_mul(CASE_MAPPING_FACTOR)))?;
            let a: Vec<String> = a.iter().map(|s| s.to_lowercase()).collect();
            let b: Vec<String> = b.iter().map(|s| s.to_lowercase()).collect();
            for i in 0..n {
                let (x, y) = pair_index(i, a.len(), b.len(), permuted);
                let x = pick(&a, x).map_or("", String::as_str);
                let y = pick(&b, y).map_or("", String::as_str);
                meter.charge(cost(1, x.len().min(y.len())))?;
                if matches_ordering(op, Some(x.cmp(y))) {
                    return Ok(Value::boolean(true));
                }
            }
            Ok(Value::boolean(false))
        }
        (Value::Number(a), Value::Number(b)) => {
            let n = pair_count(a.len(), b.len(), permuted)?;
            meter.charge(cost(n, 0))?;
            let hit = (0..n).any(|i| {
                let (x, y) = pair_index(i, a.len(), b.len(), permuted);
                let x = pick(a, x).copied().unwrap_or(0.0);
                let y = pick(b, y).copied().unwrap_or(0.0);
                matches_ordering(op, x.partial_cmp(&y))
            });
            Ok(Value::boolean(hit))
        }
        _ => Err(type_error(
            op.symbol(),
            "cannot compare text with a number (use @Text or @TextToNumber)",
        )),
    }
}

/// `list[index]`, 1-based.
fn subscript(list: &Value, index: &Value) -> Result<Value, String> {
    let Some(i) = index.as_number() else {
        return Err("incorrect data type for list subscript: number expected".to_string());
    };
    let len = list.len();
    let position = if i.is_finite() && i >= 1.0 && i.trunc() <= len as f64 {
        // In range 1..=len, so the conversion is exact.
        i.trunc() as usize - 1
    } else {
        return Err(format!(
            "list subscript {} out of range (the list has {len} element{})",
            f::describe_number(i),
            if len == 1 { "" } else { "s" }
        ));
    };
    Ok(match list {
        Value::Text(l) => Value::text(l.get(position).cloned().unwrap_or_default()),
        Value::Number(l) => Value::number(l.get(position).copied().unwrap_or(0.0)),
    })
}
