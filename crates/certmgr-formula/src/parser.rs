//! The parser: tokens to statements.

use crate::functions::{Arity, Func, lookup, suggest};
use crate::lexer::{Pos, Tok, Token, tokenize};

/// Deepest nesting accepted (parentheses, function calls, operator chains):
/// deeper formulas are rejected with a syntax error instead of risking the stack.
pub(crate) const MAX_DEPTH: usize = 256;

const PREC_LOGICAL: u8 = 1;
const PREC_COMPARE: u8 = 2;
const PREC_ADD: u8 = 3;
const PREC_MUL: u8 = 4;
const PREC_CONCAT: u8 = 5;

/// A binary operator token: the operator, whether it is permuted, and its
/// precedence (higher binds tighter; unary `-`/`+` sit between `*` and `:`).
fn binary_op(tok: Tok) -> Option<(BinOp, bool, u8)> {
    Some(match tok {
        Tok::And => (BinOp::And, false, PREC_LOGICAL),
        Tok::Or => (BinOp::Or, false, PREC_LOGICAL),
        Tok::Eq => (BinOp::Eq, false, PREC_COMPARE),
        Tok::Ne => (BinOp::Ne, false, PREC_COMPARE),
        Tok::Lt => (BinOp::Lt, false, PREC_COMPARE),
        Tok::Gt => (BinOp::Gt, false, PREC_COMPARE),
        Tok::Le => (BinOp::Le, false, PREC_COMPARE),
        Tok::Ge => (BinOp::Ge, false, PREC_COMPARE),
        Tok::PermEq => (BinOp::Eq, true, PREC_COMPARE),
        Tok::PermNe => (BinOp::Ne, true, PREC_COMPARE),
        Tok::PermLt => (BinOp::Lt, true, PREC_COMPARE),
        Tok::PermGt => (BinOp::Gt, true, PREC_COMPARE),
        Tok::PermLe => (BinOp::Le, true, PREC_COMPARE),
        Tok::PermGe => (BinOp::Ge, true, PREC_COMPARE),
        Tok::Plus => (BinOp::Add, false, PREC_ADD),
        Tok::Minus => (BinOp::Sub, false, PREC_ADD),
        Tok::PermPlus => (BinOp::Add, true, PREC_ADD),
        Tok::PermMinus => (BinOp::Sub, true, PREC_ADD),
        Tok::Star => (BinOp::Mul, false, PREC_MUL),
        Tok::Slash => (BinOp::Div, false, PREC_MUL),
        Tok::PermStar => (BinOp::Mul, true, PREC_MUL),
        Tok::PermSlash => (BinOp::Div, true, PREC_MUL),
        Tok::Colon => (BinOp::Concat, false, PREC_CONCAT),
        _ => return None,
    })
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Concat,
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Concat => ":",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Le => "<=",
            BinOp::Ge => ">=",
            BinOp::And => "&",
            BinOp::Or => "|",
        }
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnOp {
    Neg,
    Plus,
    Not,
}

/// Where an assignment writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// `name := value`: a temporary variable.
    Temp,
    /// `FIELD name := value`: a document field.
    Field,
    /// `DEFAULT name := value`: used when the field is absent.
    Default,
}

#[derive(Debug, Clone)]
pub(crate) enum ExprKind {
    Num(f64),
    Str(String),
    /// A variable or field, lower-cased.
    Var(String),
    Unary(UnOp, Box<Expr>),
    Binary {
        op: BinOp,
        permuted: bool,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Call(Func, Vec<Expr>),
    Subscript(Box<Expr>, Box<Expr>),
    Assign {
        target: Target,
        /// Lower-cased for temporaries; as written for fields.
        name: String,
        value: Box<Expr>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub pos: Pos,
    /// Height of this tree (a leaf is 1), bounded by `MAX_DEPTH`.
    pub depth: usize,
}

/// A syntax error.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

type PResult<T> = Result<T, SyntaxError>;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    nesting: usize,
}

fn describe(token: &Token) -> String {
    match token.tok {
        Tok::Num(_) => "a number".to_string(),
        Tok::Str => "a text constant".to_string(),
        Tok::Name => format!("name {}", token.text),
        Tok::Func => format!("@{}", token.text),
        Tok::Eof => "the end of the formula".to_string(),
        Tok::LParen => "'('".to_string(),
        Tok::RParen => "')'".to_string(),
        Tok::LBracket => "'['".to_string(),
        Tok::RBracket => "']'".to_string(),
        Tok::Semi => "';'".to_string(),
        Tok::Assign => "':='".to_string(),
        Tok::Colon => "':'".to_string(),
        Tok::Plus => "'+'".to_string(),
        Tok::Minus => "'-'".to_string(),
        Tok::Star => "'*'".to_string(),
        Tok::Slash => "'/'".to_string(),
        Tok::PermPlus => "'*+'".to_string(),
        Tok::PermMinus => "'*-'".to_string(),
        Tok::PermStar => "'**'".to_string(),
        Tok::PermSlash => "'*/'".to_string(),
        Tok::Eq => "'='".to_string(),
        Tok::Ne => "a not-equal operator".to_string(),
        Tok::Lt => "'<'".to_string(),
        Tok::Gt => "'>'".to_string(),
        Tok::Le => "'<='".to_string(),
        Tok::Ge => "'>='".to_string(),
        Tok::PermEq => "'*='".to_string(),
        Tok::PermNe => "'*<>'".to_string(),
        Tok::PermLt => "'*<'".to_string(),
        Tok::PermGt => "'*>'".to_string(),
        Tok::PermLe => "'*<='".to_string(),
        Tok::PermGe => "'*>='".to_string(),
        Tok::Not => "'!'".to_string(),
        Tok::And => "'&'".to_string(),
        Tok::Or => "'|'".to_string(),
    }
}

/// Builds a node whose tree height is `child_depth + 1`, refusing trees
/// deeper than `MAX_DEPTH` (evaluation and drop recurse over the tree).
fn node(kind: ExprKind, pos: Pos, child_depth: usize) -> PResult<Expr> {
    let depth = child_depth + 1;
    if depth > MAX_DEPTH {
        return Err(SyntaxError {
            pos,
            message: format!("formula is nested too deeply (more than {MAX_DEPTH} levels)"),
        });
    }
    Ok(Expr { kind, pos, depth })
}

static EOF: Token = Token {
    tok: Tok::Eof,
    text: String::new(),
    pos: Pos { line: 1, column: 1 },
};

fn keyword(token: &Token, word: &str) -> bool {
    token.tok == Tok::Name && token.text.eq_ignore_ascii_case(word)
}

impl Parser {
    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        // The token list always ends with Eof; past it, keep returning Eof.
        let idx = (self.at + ahead).min(self.tokens.len().saturating_sub(1));
        self.tokens.get(idx).unwrap_or(&EOF)
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.at < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    fn error<T>(&self, token: &Token, message: impl Into<String>) -> PResult<T> {
        Err(SyntaxError {
            pos: token.pos,
            message: message.into(),
        })
    }

    fn unexpected<T>(&self, expected: &str) -> PResult<T> {
        let token = self.peek().clone();
        self.error(
            &token,
            format!("expected {expected}, found {}", describe(&token)),
        )
    }

    fn expect(&mut self, tok: Tok, expected: &str) -> PResult<Token> {
        if self.peek().tok == tok {
            Ok(self.next())
        } else {
            self.unexpected(expected)
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            let token = self.peek().clone();
            return self.error(
                &token,
                format!("formula is nested too deeply (more than {MAX_DEPTH} levels)"),
            );
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    /// statements := statement { ';' statement } — empty statements are allowed.
    fn formula(&mut self) -> PResult<Vec<Expr>> {
        let mut statements = Vec::new();
        loop {
            match self.peek().tok {
                Tok::Eof => return Ok(statements),
                Tok::Semi => {
                    self.next();
                    continue;
                }
                _ => {}
            }
            if let Some(statement) = self.statement()? {
                statements.push(statement);
            }
            match self.peek().tok {
                Tok::Eof => return Ok(statements),
                Tok::Semi => {
                    self.next();
                }
                _ => return self.unexpected("';' between statements"),
            }
        }
    }

    /// One statement; `None` for a REM comment.
    fn statement(&mut self) -> PResult<Option<Expr>> {
        let first = self.peek().clone();
        if keyword(&first, "REM") && self.peek_at(1).tok == Tok::Str {
            self.next();
            self.next();
            return Ok(None);
        }
        if keyword(&first, "REM") {
            self.next();
            return self.unexpected("a text constant after REM");
        }
        self.assignment_or_expr().map(Some)
    }

    /// `[FIELD|DEFAULT] name := expr`, or an expression.
    fn assignment_or_expr(&mut self) -> PResult<Expr> {
        let first = self.peek().clone();
        let second = self.peek_at(1).clone();
        let target = if (keyword(&first, "FIELD") || keyword(&first, "DEFAULT"))
            && second.tok == Tok::Name
            && self.peek_at(2).tok == Tok::Assign
        {
            self.next();
            Some(if keyword(&first, "FIELD") {
                Target::Field
            } else {
                Target::Default
            })
        } else if first.tok == Tok::Name && second.tok == Tok::Assign {
            Some(Target::Temp)
        } else {
            None
        };
        let Some(target) = target else {
            return self.expr();
        };
        let name_token = self.next();
        self.next(); // :=
        let value = self.expr()?;
        let name = match target {
            Target::Temp => name_token.text.to_ascii_lowercase(),
            Target::Field | Target::Default => name_token.text.clone(),
        };
        let pos = if target == Target::Temp {
            name_token.pos
        } else {
            first.pos
        };
        let depth = value.depth;
        node(
            ExprKind::Assign {
                target,
                name,
                value: Box::new(value),
            },
            pos,
            depth,
        )
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let result = self.binary_expr(PREC_LOGICAL);
        self.leave();
        result
    }

    /// Precedence climbing over the binary operators whose precedence is at
    /// least `min` (all of them associate to the left).
    fn binary_expr(&mut self, min: u8) -> PResult<Expr> {
        let mut left = self.prefix()?;
        loop {
            let Some((op, permuted, prec)) = binary_op(self.peek().tok) else {
                return Ok(left);
            };
            if prec < min {
                return Ok(left);
            }
            let token = self.next();
            self.enter()?;
            let right = self.binary_expr(prec + 1);
            self.leave();
            left = binary(op, permuted, left, right?, token.pos)?;
        }
    }

    /// Prefix operators, then a primary with its subscripts.
    ///
    /// `!` applies to a whole comparison (`!a = b` is `!(a = b)`); unary `-`
    /// and `+` bind more loosely than `:` (Notes precedence 3 vs 2), so
    /// `-x:y` is `-(x:y)`, except directly before a number, where they make a
    /// signed constant (`-1:2` is the list -1, 2).
    fn prefix(&mut self) -> PResult<Expr> {
        let token = self.peek().clone();
        let (op, operand_prec) = match token.tok {
            Tok::Not => (UnOp::Not, PREC_COMPARE),
            Tok::Minus if !matches!(self.peek_at(1).tok, Tok::Num(_)) => (UnOp::Neg, PREC_CONCAT),
            Tok::Plus if !matches!(self.peek_at(1).tok, Tok::Num(_)) => (UnOp::Plus, PREC_CONCAT),
            _ => return self.postfix(),
        };
        self.next();
        self.enter()?;
        let operand = self.binary_expr(operand_prec);
        self.leave();
        let operand = operand?;
        let depth = operand.depth;
        node(ExprKind::Unary(op, Box::new(operand)), token.pos, depth)
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut value = self.primary()?;
        while self.peek().tok == Tok::LBracket {
            let token = self.next();
            let index = self.expr()?;
            self.expect(Tok::RBracket, "']'")?;
            let depth = value.depth.max(index.depth);
            value = node(
                ExprKind::Subscript(Box::new(value), Box::new(index)),
                token.pos,
                depth,
            )?;
        }
        Ok(value)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let token = self.next();
        match token.tok {
            Tok::Num(n) => node(ExprKind::Num(n), token.pos, 0),
            Tok::Minus | Tok::Plus => {
                // Only reached directly before a number (see `unary`).
                let number = self.next();
                let Tok::Num(n) = number.tok else {
                    return self.error(&number, "expected a number");
                };
                let n = if token.tok == Tok::Minus { -n } else { n };
                node(ExprKind::Num(n), token.pos, 0)
            }
            Tok::Str => node(ExprKind::Str(token.text), token.pos, 0),
            Tok::Name => node(ExprKind::Var(token.text.to_ascii_lowercase()), token.pos, 0),
            Tok::Func => self.call(token),
            Tok::LParen => {
                let inner = self.expr()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(inner)
            }
            _ => self.error(
                &token,
                format!("expected a value, found {}", describe(&token)),
            ),
        }
    }

    fn call(&mut self, token: Token) -> PResult<Expr> {
        let Some((func, spec)) = lookup(&token.text) else {
            let mut message = format!("unknown function @{}", token.text);
            if let Some(name) = suggest(&token.text) {
                message.push_str(&format!("; did you mean {name}?"));
            }
            return self.error(&token, message);
        };
        let mut args = Vec::new();
        if self.peek().tok == Tok::LParen {
            self.next();
            if self.peek().tok == Tok::RParen {
                self.next();
            } else {
                self.enter()?;
                let parsed = self.arguments(&mut args);
                self.leave();
                parsed?;
            }
        }
        let count = args.len();
        let ok = match spec.arity {
            Arity::Range(min, max) => count >= min && count <= max,
            Arity::Odd(min) => count >= min && count % 2 == 1,
            Arity::AtLeast(min) => count >= min,
        };
        if !ok {
            let wanted = match spec.arity {
                Arity::Range(min, max) if min == max => format!("{min}"),
                Arity::Range(min, max) => format!("{min} to {max}"),
                Arity::Odd(min) => format!("an odd number (at least {min}) of"),
                Arity::AtLeast(min) => format!("at least {min}"),
            };
            let plural = match spec.arity {
                Arity::Range(_, 1) | Arity::AtLeast(1) => "",
                _ => "s",
            };
            return self.error(
                &token,
                format!("{} takes {wanted} argument{plural}, got {count}", spec.name),
            );
        }
        let depth = args.iter().map(|a| a.depth).max().unwrap_or(0);
        node(ExprKind::Call(func, args), token.pos, depth)
    }

    fn arguments(&mut self, args: &mut Vec<Expr>) -> PResult<()> {
        loop {
            args.push(self.assignment_or_expr()?);
            match self.peek().tok {
                Tok::Semi => {
                    self.next();
                }
                Tok::RParen => {
                    self.next();
                    return Ok(());
                }
                _ => return self.unexpected("';' or ')' in the argument list"),
            }
        }
    }
}

fn binary(op: BinOp, permuted: bool, left: Expr, right: Expr, pos: Pos) -> PResult<Expr> {
    let depth = left.depth.max(right.depth);
    node(
        ExprKind::Binary {
            op,
            permuted,
            left: Box::new(left),
            right: Box::new(right),
        },
        pos,
        depth,
    )
}

/// Parses a whole formula into its statements (REM comments dropped).
pub(crate) fn parse(source: &str) -> PResult<Vec<Expr>> {
    let tokens = tokenize(source).map_err(|e| SyntaxError {
        pos: e.pos,
        message: e.message,
    })?;
    let mut parser = Parser {
        tokens,
        at: 0,
        nesting: 0,
    };
    parser.formula()
}
