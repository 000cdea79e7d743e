//! Tokens of the formula language.

/// A 1-based position in the source (columns count Unicode scalar values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Token kinds (`Perm*` are the permuted `*op` operators).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Str,
    Name,
    Func,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Semi,
    Assign,
    Colon,
    Plus,
    Minus,
    Star,
    Slash,
    PermPlus,
    PermMinus,
    PermStar,
    PermSlash,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    PermEq,
    PermNe,
    PermLt,
    PermGt,
    PermLe,
    PermGe,
    Not,
    And,
    Or,
    Eof,
}

/// A token with its text (string contents after escapes, names as written,
/// function names without the `@`) and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub text: String,
    pub pos: Pos,
}

/// A lexical error: where, and what.
#[derive(Debug, Clone)]
pub(crate) struct LexError {
    pub pos: Pos,
    pub message: String,
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    column: usize,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

impl Lexer<'_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    /// The character after the next one.
    fn peek2(&self) -> Option<char> {
        let mut it = self.chars.clone();
        it.next();
        it.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn string(&mut self, close: char, start: Pos) -> Result<String, LexError> {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(LexError {
                        pos: start,
                        message: format!("unterminated text constant (missing closing {close})"),
                    });
                }
                Some('\\') => match self.bump() {
                    Some(c) => out.push(c),
                    None => {
                        return Err(LexError {
                            pos: start,
                            message: format!(
                                "unterminated text constant (missing closing {close})"
                            ),
                        });
                    }
                },
                Some(c) if c == close => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn number(&mut self, start: Pos) -> Result<f64, LexError> {
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || c == '.' {
                text.push(c);
                self.bump();
            } else {
                break;
            }
        }
        // Exponent: E, optional sign, at least one digit.
        if matches!(self.peek(), Some('e' | 'E')) {
            let after = self.peek2();
            let mut look = self.chars.clone();
            look.next();
            let has_digits = match after {
                Some(d) if d.is_ascii_digit() => true,
                Some('+' | '-') => {
                    look.next();
                    look.next().is_some_and(|d| d.is_ascii_digit())
                }
                _ => false,
            };
            if has_digits {
                text.push('e');
                self.bump();
                if let Some(sign @ ('+' | '-')) = self.peek() {
                    text.push(sign);
                    self.bump();
                }
                while let Some(c) = self.peek() {
                    if c.is_ascii_digit() {
                        text.push(c);
                        self.bump();
                    } else {
                        break;
                    }
                }
            }
        }
        let bad = || LexError {
            pos: start,
            message: format!("invalid number {text:?}"),
        };
        if text.chars().filter(|c| *c == '.').count() > 1 || text == "." {
            return Err(bad());
        }
        let value: f64 = text.parse().map_err(|_| bad())?;
        if !value.is_finite() {
            return Err(LexError {
                pos: start,
                message: format!("number {text} is out of range"),
            });
        }
        Ok(value)
    }

    fn name(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if is_name_char(c) {
                out.push(c);
                self.bump();
            } else if c == '.' && self.peek2().is_some_and(is_name_char) {
                // Dotted names (retJSON_Lookup.result.0.id) are one name.
                out.push(c);
                self.bump();
            } else {
                break;
            }
        }
        out
    }

    fn next_token(&mut self) -> Result<Token, LexError> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let pos = self.pos();
        let token = |tok: Tok| Token {
            tok,
            text: String::new(),
            pos,
        };
        let Some(c) = self.peek() else {
            return Ok(token(Tok::Eof));
        };
        if c.is_ascii_digit() || (c == '.' && self.peek2().is_some_and(|d| d.is_ascii_digit())) {
            let n = self.number(pos)?;
            return Ok(token(Tok::Num(n)));
        }
        if is_name_start(c) {
            let text = self.name();
            return Ok(Token {
                tok: Tok::Name,
                text,
                pos,
            });
        }
        self.bump();
        let tok = match c {
            '"' | '{' | '\'' => {
                let close = match c {
                    '{' => '}',
                    other => other,
                };
                let text = self.string(close, pos)?;
                return Ok(Token {
                    tok: Tok::Str,
                    text,
                    pos,
                });
            }
            '@' => {
                let mut text = String::new();
                while let Some(c) = self.peek() {
                    if c.is_alphanumeric() || c == '_' {
                        text.push(c);
                        self.bump();
                    } else {
                        break;
                    }
                }
                if text.is_empty() {
                    return Err(LexError {
                        pos,
                        message: "'@' must be followed by a function name".to_string(),
                    });
                }
                return Ok(Token {
                    tok: Tok::Func,
                    text,
                    pos,
                });
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ';' => Tok::Semi,
            ':' => {
                if self.eat('=') {
                    Tok::Assign
                } else {
                    Tok::Colon
                }
            }
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            '/' => Tok::Slash,
            '&' => Tok::And,
            '|' => Tok::Or,
            '=' => {
                if self.eat('!') {
                    Tok::Ne
                } else {
                    Tok::Eq
                }
            }
            '!' => {
                if self.eat('=') {
                    Tok::Ne
                } else {
                    Tok::Not
                }
            }
            '<' => {
                if self.eat('>') {
                    Tok::Ne
                } else if self.eat('=') {
                    Tok::Le
                } else {
                    Tok::Lt
                }
            }
            '>' => {
                if self.eat('<') {
                    Tok::Ne
                } else if self.eat('=') {
                    Tok::Ge
                } else {
                    Tok::Gt
                }
            }
            '*' => match self.peek() {
                Some('=') => {
                    self.bump();
                    Tok::PermEq
                }
                Some('!') if self.peek2() == Some('=') => {
                    self.bump();
                    self.bump();
                    Tok::PermNe
                }
                Some('<') => {
                    self.bump();
                    if self.eat('>') {
                        Tok::PermNe
                    } else if self.eat('=') {
                        Tok::PermLe
                    } else {
                        Tok::PermLt
                    }
                }
                Some('>') => {
                    self.bump();
                    if self.eat('=') {
                        Tok::PermGe
                    } else {
                        Tok::PermGt
                    }
                }
                Some('+') => {
                    self.bump();
                    Tok::PermPlus
                }
                Some('-') => {
                    self.bump();
                    Tok::PermMinus
                }
                Some('*') => {
                    self.bump();
                    Tok::PermStar
                }
                Some('/') => {
                    self.bump();
                    Tok::PermSlash
                }
                _ => Tok::Star,
            },
            other => {
                return Err(LexError {
                    pos,
                    message: format!("unexpected character {other:?}"),
                });
            }
        };
        Ok(token(tok))
    }
}

/// Splits `source` into tokens, ending with `Tok::Eof`.
pub(crate) fn tokenize(source: &str) -> Result<Vec<Token>, LexError> {
    let mut lexer = Lexer {
        chars: source.chars().peekable(),
        line: 1,
        column: 1,
    };
    let mut out = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let end = token.tok == Tok::Eof;
        out.push(token);
        if end {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn operators_are_greedy() {
        assert_eq!(
            toks("a != b =! c <> d >< e"),
            vec![
                Tok::Name,
                Tok::Ne,
                Tok::Name,
                Tok::Ne,
                Tok::Name,
                Tok::Ne,
                Tok::Name,
                Tok::Ne,
                Tok::Name,
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("*= *<> *!= *< *> *<= *>= *+ *- ** */ := :"),
            vec![
                Tok::PermEq,
                Tok::PermNe,
                Tok::PermNe,
                Tok::PermLt,
                Tok::PermGt,
                Tok::PermLe,
                Tok::PermGe,
                Tok::PermPlus,
                Tok::PermMinus,
                Tok::PermStar,
                Tok::PermSlash,
                Tok::Assign,
                Tok::Colon,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn dotted_names_and_numbers() {
        let t = tokenize("retJSON_Lookup.result.0.id 1.5 .5 2E3 1e-2 3E").unwrap();
        assert_eq!(t[0].text, "retJSON_Lookup.result.0.id");
        assert_eq!(t[1].tok, Tok::Num(1.5));
        assert_eq!(t[2].tok, Tok::Num(0.5));
        assert_eq!(t[3].tok, Tok::Num(2000.0));
        assert_eq!(t[4].tok, Tok::Num(0.01));
        // "3E" is the number 3 followed by the name E.
        assert_eq!(t[5].tok, Tok::Num(3.0));
        assert_eq!(t[6].tok, Tok::Name);
    }

    #[test]
    fn strings_and_escapes() {
        let t = tokenize(r#""a\"b\\c" {"} {x\}y} 'it\'s' {"\\"}"#).unwrap();
        assert_eq!(t[0].text, "a\"b\\c");
        assert_eq!(t[1].text, "\"");
        assert_eq!(t[2].text, "x}y");
        assert_eq!(t[3].text, "it's");
        assert_eq!(t[4].text, "\"\\\"");
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let t = tokenize("a\n  ü + \"x\"").unwrap();
        assert_eq!(t[1].pos, Pos { line: 2, column: 3 });
        assert_eq!(t[2].pos, Pos { line: 2, column: 5 });
        assert_eq!(t[3].pos, Pos { line: 2, column: 7 });
    }

    #[test]
    fn lexical_errors() {
        assert!(tokenize("\"abc").is_err());
        assert!(tokenize("{abc\\").is_err());
        assert!(tokenize("a # b").is_err());
        assert!(tokenize("@ x").is_err());
        assert!(tokenize("1.2.3").is_err());
        assert!(tokenize("1e999").is_err());
    }
}
