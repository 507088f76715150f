"""A small recursive-descent parser for hoarfrost's own statements, over sqlglot tokens.

Statements about objects sqlglot does not know (SECRET, API INTEGRATION, ARTIFACT REPOSITORY,
PACKAGES POLICY, Python FUNCTION / PROCEDURE, parameters, SHOW / DESCRIBE) are parsed here into
the plain dataclasses of :mod:`hoarfrost.sql.ast`; everything else is ordinary SQL for
:mod:`hoarfrost.sql.translate`. Errors never quote a string literal: it may be a password.
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from hoarfrost.errors import SqlSyntaxError
from hoarfrost.sql.ast import (
    Arg,
    Bool,
    CallArg,
    Ident,
    KeyValues,
    ListValue,
    Name,
    Num,
    Str,
    Value,
)
from hoarfrost.sql.tokens import STRING_TYPES, Statement

__all__ = ["TokenCursor"]

_NUMBER_TYPES = {TokenType.NUMBER}
_BARE_VALUED = {"LANGUAGE"}
_PUNCT = {
    TokenType.L_PAREN,
    TokenType.R_PAREN,
    TokenType.COMMA,
    TokenType.EQ,
    TokenType.DOT,
    TokenType.SEMICOLON,
}


class TokenCursor:
    """Reads one statement's tokens; words compare case-insensitively, never string literals."""

    def __init__(self, statement: Statement):
        self.statement = statement
        self.tokens = statement.tokens
        self.i = 0

    # -- looking -------------------------------------------------------------------------
    @property
    def at_end(self) -> bool:
        return self.i >= len(self.tokens)

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, ahead: int = 0) -> str | None:
        """The upper-cased word at a position, or None for strings, numbers and punctuation."""
        tok = self.peek(ahead)
        if tok is None or tok.token_type in STRING_TYPES or tok.token_type in _PUNCT:
            return None
        if tok.token_type in (TokenType.IDENTIFIER, *_NUMBER_TYPES):
            return None
        return tok.text.upper()

    def at(self, *words: str) -> bool:
        return all(self.word(k) == w for k, w in enumerate(words))

    def at_type(self, token_type: TokenType) -> bool:
        tok = self.peek()
        return tok is not None and tok.token_type == token_type

    # -- consuming -----------------------------------------------------------------------
    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            self.fail(f"expected {' '.join(words)}")

    def accept_type(self, token_type: TokenType) -> Token | None:
        if self.at_type(token_type):
            tok = self.tokens[self.i]
            self.i += 1
            return tok
        return None

    def expect_type(self, token_type: TokenType, what: str) -> Token:
        tok = self.accept_type(token_type)
        if tok is None:
            self.fail(f"expected {what}")
        assert tok is not None
        return tok

    def next(self) -> Token:
        if self.at_end:
            self.fail("unexpected end of statement")
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def end(self) -> None:
        if not self.at_end:
            self.fail("unexpected extra text")

    # -- errors --------------------------------------------------------------------------
    def fail(self, why: str) -> None:
        tok = self.peek()
        if tok is None:
            last = self.tokens[-1] if self.tokens else None
            line, col = self.statement.position(last) if last else (1, 0)
            raise SqlSyntaxError(
                f"SQL compilation error:\nsyntax error line {line} at position {col} "
                f"unexpected end of statement ({why})."
            )
        line, col = self.statement.position(tok)
        raise SqlSyntaxError(
            f"SQL compilation error:\nsyntax error line {line} at position {col} "
            f"unexpected {describe_token(tok)} ({why})."
        )

    # -- pieces --------------------------------------------------------------------------
    def identifier(self) -> str:
        """One identifier: unquoted is upper-cased, quoted keeps its case (Snowflake rules)."""
        tok = self.peek()
        if tok is None:
            self.fail("expected an identifier")
        assert tok is not None
        if tok.token_type == TokenType.IDENTIFIER:
            self.i += 1
            return tok.text
        if self.word() is None:
            self.fail("expected an identifier")
        self.i += 1
        return tok.text.upper()

    def name(self) -> Name:
        if self.word() == "IDENTIFIER" and self._peek_type(1) == TokenType.L_PAREN:
            return self._identifier_function()
        parts = [self.identifier()]
        while self.accept_type(TokenType.DOT):
            parts.append(self.identifier())
        if len(parts) > 3:
            self.fail("a name has at most three parts")
        return Name(tuple(parts))

    def _identifier_function(self) -> Name:
        """``IDENTIFIER('db.s.name')`` (the connectors bind names this way)."""
        self.next()
        self.expect_type(TokenType.L_PAREN, "(")
        text = self.string("a quoted object name")
        self.expect_type(TokenType.R_PAREN, ")")
        from hoarfrost.sql.names import parse_name  # names.py builds on this module

        return parse_name(text)

    def string(self, what: str = "a string literal") -> str:
        tok = self.peek()
        if tok is None or tok.token_type not in STRING_TYPES:
            self.fail(f"expected {what}")
        assert tok is not None
        self.i += 1
        return tok.text

    def value(self) -> Value:
        tok = self.peek()
        if tok is None:
            self.fail("expected a value")
        assert tok is not None
        if tok.token_type in STRING_TYPES:
            self.i += 1
            return Str(tok.text)
        if tok.token_type in _NUMBER_TYPES:
            self.i += 1
            return Num(tok.text)
        if tok.token_type == TokenType.DASH and self._peek_type(1) in _NUMBER_TYPES:
            self.i += 2
            return Num("-" + self.tokens[self.i - 1].text)
        if tok.token_type == TokenType.L_PAREN:
            return self._paren_value()
        word = self.word()
        if word in ("TRUE", "FALSE"):
            self.i += 1
            return Bool(word == "TRUE")
        return Ident(self.name())

    def _peek_type(self, ahead: int) -> TokenType | None:
        tok = self.peek(ahead)
        return tok.token_type if tok else None

    def _paren_value(self) -> Value:
        self.expect_type(TokenType.L_PAREN, "(")
        if self.accept_type(TokenType.R_PAREN):
            return ListValue(())
        if self.word() is not None and self._peek_type(1) == TokenType.EQ:
            pairs: dict[str, Value] = {}
            while True:
                key = self.identifier()
                self.expect_type(TokenType.EQ, "=")
                pairs[key] = self.value()
                # Options may be separated by commas or by spaces alone
                # (`FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)`).
                if self.accept_type(TokenType.COMMA):
                    continue
                if not (self.word() is not None and self._peek_type(1) == TokenType.EQ):
                    break
            self.expect_type(TokenType.R_PAREN, ")")
            return KeyValues(pairs)
        items = [self.value()]
        while self.accept_type(TokenType.COMMA):
            items.append(self.value())
        self.expect_type(TokenType.R_PAREN, ")")
        return ListValue(tuple(items))

    def properties(self, stop: tuple[str, ...] = ()) -> dict[str, Value]:
        """`KEY = value` pairs until the end (or a stop word); a repeated key is an error."""
        props: dict[str, Value] = {}
        while not self.at_end and (self.word() not in stop or self.word() is None):
            key_tok = self.peek()
            key = self.identifier()
            if key in props:
                assert key_tok is not None
                line, col = self.statement.position(key_tok)
                raise SqlSyntaxError(
                    f"SQL compilation error:\nsyntax error line {line} at position {col}: "
                    f"property '{key}' is specified more than once."
                )
            if key in _BARE_VALUED and not self.at_type(TokenType.EQ):
                props[key] = self.value()  # `LANGUAGE PYTHON` takes no '='
                continue
            self.expect_type(TokenType.EQ, f"= after {key}")
            props[key] = self.value()
        return props

    def word_list(self) -> list[str]:
        """Comma-separated property names (for UNSET)."""
        names = [self._unset_name()]
        while self.accept_type(TokenType.COMMA):
            names.append(self._unset_name())
        return names

    def _unset_name(self) -> str:
        # UNSET PACKAGES POLICY is two words; everything else is one.
        if self.accept("PACKAGES", "POLICY"):
            return "PACKAGES POLICY"
        return self.identifier()

    def text_until(self, stop_types: set[TokenType]) -> str:
        """The original text of tokens up to (not including) a stop token at paren depth 0."""
        depth, start = 0, None
        end = None
        while not self.at_end:
            tok = self.tokens[self.i]
            if depth == 0 and tok.token_type in stop_types:
                break
            depth += tok.token_type == TokenType.L_PAREN
            depth -= tok.token_type == TokenType.R_PAREN
            start = tok.start if start is None else start
            end = tok.end + 1
            self.i += 1
        if start is None or end is None:
            return ""
        off = self.statement.offset
        return self.statement.text[start - off : end - off]

    def call_args(self) -> list[CallArg]:
        """``a, name => b, ...`` up to the closing parenthesis, which is left in place."""
        args: list[CallArg] = []
        if self.at_type(TokenType.R_PAREN):
            return args
        while True:
            name = None
            if self._peek_type(1) == TokenType.FARROW:
                name = self.next().text.upper()
                self.next()
            first = self.i
            text = self.text_until({TokenType.COMMA, TokenType.R_PAREN})
            args.append(CallArg(name, text or "NULL", tuple(self.tokens[first : self.i])))
            if not self.accept_type(TokenType.COMMA):
                return args

    def type_text(self) -> str:
        """A SQL type as written: words and an optional parenthesised size."""
        words = [self.identifier()]
        while self.word() in ("PRECISION", "VARYING", "WITH", "WITHOUT", "TIME", "ZONE", "LOCAL"):
            words.append(self.identifier())
        text = " ".join(words)
        if self.at_type(TokenType.L_PAREN):
            self.next()
            nums = [self.text_until({TokenType.COMMA, TokenType.R_PAREN})]
            while self.accept_type(TokenType.COMMA):
                nums.append(self.text_until({TokenType.COMMA, TokenType.R_PAREN}))
            self.expect_type(TokenType.R_PAREN, ")")
            text += "(" + ",".join(n.strip() for n in nums) + ")"
        return text

    def args(self) -> list[Arg]:
        """`( name type [DEFAULT expr], ... )` of a function or procedure signature."""
        self.expect_type(TokenType.L_PAREN, "(")
        out: list[Arg] = []
        if self.accept_type(TokenType.R_PAREN):
            return out
        while True:
            name = self.identifier()
            type_ = self.type_text()
            default = None
            if self.accept("DEFAULT"):
                default = self.text_until({TokenType.COMMA, TokenType.R_PAREN})
            out.append(Arg(name, type_, default))
            if not self.accept_type(TokenType.COMMA):
                break
        self.expect_type(TokenType.R_PAREN, ")")
        return out

    def type_list(self) -> list[str]:
        """`( type, ... )` of DROP FUNCTION / DESCRIBE FUNCTION."""
        self.expect_type(TokenType.L_PAREN, "(")
        out: list[str] = []
        if self.accept_type(TokenType.R_PAREN):
            return out
        out.append(self._maybe_named_type())
        while self.accept_type(TokenType.COMMA):
            out.append(self._maybe_named_type())
        self.expect_type(TokenType.R_PAREN, ")")
        return out

    def _maybe_named_type(self) -> str:
        # Snowflake accepts `f(x NUMBER)` as well as `f(NUMBER)` in DROP/DESCRIBE.
        if self.word(1) is not None and self._peek_type(1) not in (TokenType.L_PAREN,):
            self.identifier()
        return self.type_text()


def describe_token(tok: Token) -> str:
    if tok.token_type in STRING_TYPES:
        return "a string literal"
    return f"'{tok.text}'"
